"""Fixtures shared by the whole suite: the sandbox API server's (sandbox, sandbox_kubeconfig, kube_env, kubectl)
and the real registry's (registry_pki, registry_env)."""

pytest_plugins = ["tests.sandbox.fixtures", "tests.registry.fixtures"]
