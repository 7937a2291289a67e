"""`make demo`: serve the example manifests from the sandbox API server and audit them with `check -A`.

It shows the plugin against a real HTTPS Kubernetes API without needing a cluster. Exit code: check's own
when it could evaluate (0, 1 or 3 are all a successful demo), else 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

from tools.sandbox.errors import ApiError
from tools.sandbox.server import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__)
    parser.add_argument("--seed", default=os.path.join(ROOT, "examples"), help="manifests to serve")
    args, check_args = parser.parse_known_args(argv)  # the rest goes to `check` (e.g. -o json)

    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="imgaccess-demo-") as home:
        files = sorted(
            os.path.join(root, f)
            for root, _, names in os.walk(args.seed)
            for f in names
            if f.endswith((".yaml", ".yml", ".json"))
        )
        for path in files:
            try:
                with open(path, encoding="utf-8") as fh:
                    sandbox.load_yaml(fh.read())
            except ApiError as exc:  # the API server would refuse it too: say so and go on
                print(f"demo: {os.path.relpath(path, ROOT)} not served: {exc.message}", file=sys.stderr)
        kubeconfig = sandbox.write_kubeconfig(os.path.join(home, "kubeconfig"))
        domains = len(sandbox.objects("Domain"))
        print(f"demo: sandbox API server at {sandbox.url} serving {domains} Domain(s) from {args.seed}")
        # The plugin path: kubectl finds `kubectl-imgaccess` beside this interpreter (the venv's bin).
        bin_dir = os.path.dirname(sys.executable)
        env = dict(os.environ, HOME=home, KUBECONFIG=kubeconfig)
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
        kubectl = shutil.which("kubectl", path=env["PATH"])
        plugin = shutil.which("kubectl-imgaccess", path=env["PATH"])
        if kubectl and plugin:
            command, shown = [kubectl, "imgaccess"], "kubectl imgaccess"
        else:
            command = [plugin] if plugin else [sys.executable, "-m", "kubectl_imgaccess"]
            shown = "kubectl-imgaccess"
        print(" ".join(["demo: $", shown, "check", "-A", *check_args]), flush=True)
        code = subprocess.call([*command, "check", "-A", *check_args], env=env, cwd=ROOT)
    return code if code == 2 else 0


if __name__ == "__main__":
    sys.exit(main())
