"""Pytest fixtures and helpers around the real registry (the processes and servers are `tools.registry`).

- fixtures.py: session fixtures `registry_pki` and `registry_env` (two docker-registry instances, Basic and
  Bearer, sharing one storage with images pushed), and the test users.
- helpers.py: test credentials and one-target probe shortcuts.
"""
