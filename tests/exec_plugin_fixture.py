"""A tiny exec credential plugin for tests: prints an ExecCredential holding the token given as argv[1].

`--fail` makes it exit 1 with a message on stderr, as a plugin does when its login has expired.
Run as `python tests/exec_plugin_fixture.py TOKEN`; it reads KUBERNETES_EXEC_INFO only to echo the
apiVersion it was asked for, as real plugins do.
"""

from __future__ import annotations

import json
import os
import sys
from typing import List


def main(argv: List[str]) -> int:
    if len(argv) < 2 or argv[1] == "--fail":
        sys.stderr.write("login expired: run the identity provider's login first\n")
        return 1
    info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    api_version = info.get("apiVersion") or "client.authentication.k8s.io/v1"
    credential = {"apiVersion": api_version, "kind": "ExecCredential", "status": {"token": argv[1]}}
    sys.stdout.write(json.dumps(credential) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
