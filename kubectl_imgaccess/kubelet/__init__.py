"""The kubelet's semantics: image references, pull-secret payloads, the credential keyring. Pure."""
