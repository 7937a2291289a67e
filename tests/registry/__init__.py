"""Real registry test infrastructure for the probe.

- fixtures.py: session fixtures `registry_pki` (CA + loopback server cert + token signing key) and
  `registry_env` (Debian's docker-registry twice over TLS on 127.0.0.1, port 0: htpasswd Basic and
  Bearer through token_server.py, sharing one storage with images pushed by push.py).
- registry.py: start/stop docker-registry, read its port and access log (`mark()`, `requests_since()`).
- token_server.py: the Docker token protocol (ES256 JWT, libtrust `kid`), rights per user, request log.
- httpstub.py: programmable loopback HTTP(S) server recording requests; proxy.py: a CONNECT proxy.
- helpers.py: test credentials and one-target probe shortcuts.
"""
