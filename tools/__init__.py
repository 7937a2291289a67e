"""Developer tooling that `make` runs and the tests drive; never installed with the package.

- sandbox/: a Kubernetes API server of the project's own (`python -m tools.sandbox --seed DIR`).
- registry/: Debian's docker-registry process, a Docker token server, HTTP(S) stubs and a CONNECT proxy.
- pki.py: a throwaway CA and loopback server certificates for both.
- demo.py (`make demo`), bench.py and bench_probe.py (`make bench`), docs.py (`make docs`).
"""
