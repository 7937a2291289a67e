"""Pytest fixtures around the sandbox API server (the server itself is `tools.sandbox`)."""
