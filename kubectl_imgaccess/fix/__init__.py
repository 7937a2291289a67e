"""`kubectl imgaccess fix`: turn check's findings into a plan, show it, apply it without losing an entry.

plan.py is pure (snapshot + report -> actions), view.py renders, apply.py drives a writer (the only
cluster access lives in sources/cluster_writer.py), cli.py wires the flags.
"""
