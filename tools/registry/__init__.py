"""The real registry the probe tests talk to, and the servers around it.

- registry.py: start/stop Debian's docker-registry, read its port and access log (`mark()`, `requests_since()`).
- token_server.py: the Docker token protocol (ES256 JWT, libtrust `kid`), rights per user, request log.
- push.py: push small images through the registry API.
- certs.py: CA, loopback server certificate and the token server's signing key.
- httpstub.py: programmable loopback HTTP(S) server recording requests; proxy.py: a CONNECT proxy.

The pytest fixtures that assemble them (`registry_pki`, `registry_env`) are in tests/registry/fixtures.py.
"""
