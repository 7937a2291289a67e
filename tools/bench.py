"""`make bench`: medians of repeated runs, measured side by side in one process (these machines are noisy).

1. The offline audit of N Domains (parse + audit + JSON), N = 100 and 1,000: the ratio shows how it scales.
2. check -A against the sandbox API server with 10 and 1,000 Domains: wall time and requests sent.
3. check --probe of 100 Domains sharing 5 images on the real registry (when docker-registry is installed).
4. check -A -o json on a synthetic big cluster at each of --scales, written to bench/results.md
   (tools/bench_scale.py).
"""

from __future__ import annotations

import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from kubectl_imgaccess.audit.report import Gate
from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.manifests import read_files
from kubectl_imgaccess.render.structured import render_json

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
HOST = "container-registry.oracle.com"


def objects(n: int, namespaces: int = 10) -> List[Dict[str, Any]]:
    payload = base64.b64encode(json.dumps({"auths": {HOST: {"auth": base64.b64encode(b"u:p").decode()}}})
                               .encode()).decode()
    out: List[Dict[str, Any]] = []
    for ns in range(namespaces):
        name = f"team-{ns}"
        out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        out.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}})
        out.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ocr", "namespace": name},
                    "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": payload}})
    for i in range(n):
        out.append({"apiVersion": "weblogic.oracle/v9", "kind": "Domain",
                    "metadata": {"name": f"d{i:05d}", "namespace": f"team-{i % namespaces}"},
                    "spec": {"image": f"{HOST}/middleware/weblogic:14.1.2.0-{i % 7}",
                             "imagePullSecrets": [{"name": "ocr"}],
                             "configuration": {"model": {"auxiliaryImages": [{"image": f"ghcr.io/org/aux:{i % 3}"}]}}}})
    return out


def median(fn: Callable[[], Any]) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_offline() -> None:
    texts = {n: json.dumps({"apiVersion": "v1", "kind": "List", "items": objects(n)}) for n in (100, 1000)}

    def run(n: int) -> None:
        snap = read_files(["-"], "default", io.StringIO(texts[n]))
        render_json(audit(snap), Gate("error"))

    times = {n: median(lambda n=n: run(n)) for n in texts}  # type: ignore[misc]
    print("offline audit (parse + audit + JSON), median of", REPEAT)
    for n, t in times.items():
        print(f"  {n:>5} Domains: {t * 1000:8.1f} ms  ({t / n * 1e6:.0f} us/Domain)")
    print(f"  ratio 1000/100: {times[1000] / times[100]:.1f}x for 10x the Domains")


def bench_cluster() -> None:
    from tools.sandbox.server import Sandbox

    script = os.path.join(os.path.dirname(sys.executable), "kubectl-imgaccess")
    print("check -A against the sandbox API server (HTTPS, real client), median of", REPEAT)
    results: List[Tuple[int, float, int]] = []
    for n in (10, 1000):
        with Sandbox() as sb, tempfile.TemporaryDirectory() as home:
            for obj in objects(n):
                sb.add(obj)
            cfg = sb.write_kubeconfig(os.path.join(home, "config"))
            env = dict(os.environ, KUBECONFIG=cfg, HOME=home)

            def run(env: Dict[str, str] = env) -> None:
                proc = subprocess.run([script, "check", "-A", "-o", "json"], env=env, capture_output=True,
                                      check=False)
                assert proc.returncode in (0, 1), proc.stderr

            sb.clear_requests()
            run()
            requests = len(sb.requests)
            results.append((n, median(run), requests))
    for n, t, requests in results:
        print(f"  {n:>5} Domains: {t * 1000:8.1f} ms wall, {requests} requests")
    print(f"  ratio 1000/10: {results[1][1] / results[0][1]:.1f}x time, "
          f"{results[1][2] / results[0][2]:.1f}x requests for 100x the Domains")


def bench_probe() -> None:
    from tools.registry.registry import find_binary

    if find_binary() is None:
        print("probe: skipped (docker-registry not installed)")
        return
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.registry.fixtures", "tools/bench_probe.py"],
                          capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("probe")]
    print("\n".join(lines) if lines else proc.stdout[-2000:])


def bench_completion() -> None:
    """A TAB press runs kubectl_complete-imgaccess once: its start-up is the latency the user feels."""
    import shutil

    binary = os.path.dirname(sys.executable)
    completer = os.path.join(binary, "kubectl_complete-imgaccess")
    kubectl = shutil.which("kubectl")
    runs: List[Tuple[str, List[str]]] = [
        ("kubectl_complete-imgaccess check -o ''", [completer, "check", "-o", ""]),
        ("kubectl_complete-imgaccess explain IA0", [completer, "explain", "IA0"]),
        ("kubectl_complete-imgaccess check --", [completer, "check", "--"]),
    ]
    if kubectl:
        tab = [kubectl, "__complete", "imgaccess", "check", "-o", ""]
        runs.append(("kubectl __complete imgaccess check -o ''", tab))
        runs.append(("kubectl version --client", [kubectl, "version", "--client"]))
    env = dict(os.environ, PATH=binary + os.pathsep + os.environ.get("PATH", ""))
    print("static completion start-up (a process per TAB), median of", REPEAT)
    for label, argv in runs:
        t = median(lambda argv=argv: subprocess.run(argv, capture_output=True, check=True, env=env))  # type: ignore[misc]
        print(f"  {label:<42} {t * 1000:6.0f} ms")


def bench_startup() -> None:
    """What a person waits for at the terminal: a whole offline check with the table, and the renderers' import."""
    script = os.path.join(os.path.dirname(sys.executable), "kubectl-imgaccess")
    healthy = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "01-healthy.yaml")
    runs: List[Tuple[str, List[str]]] = [
        ("kubectl-imgaccess --help", [script, "--help"]),
        ("check --offline -f 01-healthy.yaml (table)", [script, "check", "--offline", "-f", healthy]),
        ("check --offline -f 01-healthy.yaml -o wide", [script, "check", "--offline", "-o", "wide", "-f", healthy]),
    ]
    print("start-up (a process per run), median of", REPEAT)
    for label, argv in runs:
        t = median(lambda argv=argv: subprocess.run(argv, capture_output=True, check=False))  # type: ignore[misc]
        print(f"  {label:<44} {t * 1000:6.0f} ms")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import kubectl_imgaccess.render.table"],
                          capture_output=True, text=True, check=False)
    last = [ln for ln in proc.stderr.splitlines() if ln.rstrip().endswith("kubectl_imgaccess.render.table")]
    if last:
        print(f"  import kubectl_imgaccess.render.table (cumulative): {int(last[-1].split('|')[1]) / 1000:.1f} ms")


def main(argv: Optional[List[str]] = None) -> None:
    import argparse

    from tools import bench_scale

    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--scales", default="1,2,4,8", help="big-cluster scales, comma-separated ('' skips)")
    parser.add_argument("--only-scales", action="store_true", help="run the big-cluster bench alone")
    parser.add_argument("--repeat", type=int, default=5, help="big-cluster runs of the tool per scale (best is kept)")
    parser.add_argument("--kubectl-repeat", type=int, default=2, help="runs of kubectl per scale (best is kept)")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if not args.only_scales:
        bench_startup()
        bench_completion()
        bench_offline()
        bench_cluster()
        bench_probe()
    if scales:
        profile = 2 if 2 in scales else min(scales)  # the scale the profile was taken at
        bench_scale.main(scales, args.repeat, offline_scale=min(scales), profile_scale=profile,
                         kubectl_repeat=args.kubectl_repeat)


if __name__ == "__main__":
    main()
