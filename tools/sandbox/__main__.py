"""Run the sandbox as a command: `python -m tools.sandbox --seed DIR [--port N] [--kubeconfig OUT]`.

Prints `sandbox ready URL KUBECONFIG` once serving, so a caller can wait for that line; stops cleanly on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from typing import List, Optional

from .server import Sandbox


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sandbox", description=__doc__)
    parser.add_argument("--seed", action="append", default=[], help="directory or file of manifests (repeatable)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--kubeconfig", help="where to write an admin kubeconfig (default: a temporary file)")
    parser.add_argument("--token", default="admin-token", help="bearer token of the superuser 'admin'")
    args = parser.parse_args(argv)

    sandbox = Sandbox(admin_token=args.token)
    for seed in args.seed:
        if os.path.isdir(seed):
            sandbox.load_dir(seed)
        else:
            with open(seed, encoding="utf-8") as fh:
                sandbox.load_yaml(fh.read())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sandbox.start(args.port)
    try:
        kubeconfig = args.kubeconfig or os.path.join(tempfile.mkdtemp(prefix="sandbox-kube-"), "config")
        sandbox.write_kubeconfig(kubeconfig)
        print(f"sandbox ready {sandbox.url} {kubeconfig}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
