"""Fixtures shared by the whole suite: the sandbox API server's (sandbox, sandbox_kubeconfig, kube_env, kubectl)."""

pytest_plugins = ["tests.sandbox.fixtures"]
