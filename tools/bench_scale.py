"""`make bench SCALES=1,2,4,8`: `check -A -o json` on a synthetic big cluster, scale by scale, side by side.

Scale 1 is 300 namespaces, each with 5 Domains (2 auxiliary images each), 5 ServiceAccounts, 20 Secrets
(15 of them 16 KB Opaque blobs, 5 pull secrets), 20 Pods and a few Events; 20 nodes caching 40 images each.
Scale N multiplies namespaces and nodes by N. For every scale: the tool's wall time (best of BENCH_REPEAT),
requests and bytes the server sent, and the tool's own peak RSS (os.wait4 on the tool's process, started by
a small runner process: this process holds the sandbox, and Linux charges the RSS of the process a child is
forked from to the child's peak, so the tool is never forked from here); the same for `kubectl get ... -A
-o json` on the same server. Then `check --offline -f` on the cluster dumped as one List, against PyYAML's C
loader on that file.
Writes bench/results.md. Fails only on errors, never on time.
"""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence

NAMESPACES = 300
NODES = 20
DOMAINS, SERVICE_ACCOUNTS, BLOBS, PULL_SECRETS, PODS = 5, 5, 15, 5, 20
BLOB_BYTES = 16 * 1024
NODE_IMAGES = 40
HOST = "container-registry.oracle.com"
KUBECTL_KINDS = "domains.weblogic.oracle,serviceaccounts,secrets,pods,events,nodes"
RESULTS = os.path.join("bench", "results.md")
# kubectl holds the whole cluster's JSON several times over (1.1 GiB at scale 1): above this scale it is skipped
KUBECTL_UP_TO = int(os.environ.get("BENCH_KUBECTL_UP_TO", "4"))
NOTES = os.path.join("bench", "changes.md")


def _payload(i: int) -> str:
    auth = base64.b64encode(f"user{i}:pass{i}".encode()).decode()
    return base64.b64encode(json.dumps({"auths": {HOST: {"auth": auth}}}).encode()).decode()


def cluster(scale: int) -> Iterator[Dict[str, Any]]:
    """The synthetic cluster of the given scale, object by object (deterministic)."""
    blob = base64.b64encode(bytes(range(256)) * (BLOB_BYTES // 256)).decode()
    images = [f"{HOST}/middleware/weblogic:14.1.{i % 4}.0-{i}" for i in range(NODE_IMAGES)]
    for n in range(NODES * scale):
        yield {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n:04d}"},
               "status": {"nodeInfo": {"kubeletVersion": "v1.32.4"},
                          "images": [{"names": [img, f"{img}@sha256:{(n * 97 + k) % 10**8:064d}"],
                                      "sizeBytes": 10**8}
                                     for k, img in enumerate(images) if (k + n) % 3 == 0]}}
    for s in range(NAMESPACES * scale):
        ns = f"team-{s:05d}"
        yield {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for k in range(PULL_SECRETS):
            yield {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"ocr-{k}", "namespace": ns},
                   "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _payload(k)}}
        for k in range(BLOBS):
            yield {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"blob-{k}", "namespace": ns},
                   "type": "Opaque", "data": {"blob": blob}}
        for k in range(SERVICE_ACCOUNTS):
            yield {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default" if k == 0 else f"sa-{k}", "namespace": ns},
                   "imagePullSecrets": [{"name": f"ocr-{k}"}]}
        for d in range(DOMAINS):
            uid = f"d{d}"
            image = images[(s + d) % NODE_IMAGES]
            yield {"apiVersion": "weblogic.oracle/v9", "kind": "Domain",
                   "metadata": {"name": uid, "namespace": ns},
                   "spec": {"domainUID": uid, "image": image, "domainHomeSourceType": "FromModel",
                            "imagePullSecrets": [{"name": f"ocr-{d}"}],
                            "serverPod": {"serviceAccountName": "default" if d == 0 else f"sa-{d}"},
                            "configuration": {"model": {"auxiliaryImages": [
                                {"image": f"ghcr.io/org/model:{s % 11}"},
                                {"image": f"ghcr.io/org/wdt:{d}"}]}}}}
            for p in range(PODS // DOMAINS):
                pod = f"{uid}-server-{p}"
                waiting = {"reason": "ImagePullBackOff"} if (s + p) % 50 == 0 else None
                yield {"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": pod, "namespace": ns,
                                    "labels": {"weblogic.domainUID": uid, "weblogic.serverName": f"server-{p}"}},
                       "spec": {"serviceAccountName": "default" if d == 0 else f"sa-{d}",
                                "imagePullSecrets": [{"name": f"ocr-{d}"}], "nodeName": f"node-{p:04d}",
                                "containers": [{"name": "weblogic-server", "image": image}]},
                       "status": {"phase": "Pending" if waiting else "Running",
                                  "containerStatuses": [{"name": "weblogic-server", "image": image,
                                                         "state": {"waiting": waiting} if waiting
                                                         else {"running": {}}}]}}
                if waiting:
                    for reason, kind in (("FailedToRetrieveImagePullSecret", "Warning"), ("Pulling", "Normal"),
                                         ("Started", "Normal")):
                        yield {"apiVersion": "v1", "kind": "Event",
                               "metadata": {"name": f"{pod}.{reason.lower()}", "namespace": ns},
                               "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns},
                               "reason": reason, "type": kind, "message": f"{reason} for {pod}",
                               "source": {"component": "kubelet"}}


@dataclass
class Run:
    seconds: float
    peak_mib: float
    requests: int = 0
    received: int = 0


# Started in a process of its own (a few MiB), it starts the measured command and writes "seconds peak_KiB
# status" to the file argv[1]: Linux counts the RSS of the process a child was forked from (vfork included)
# into the child's ru_maxrss, so a command forked from this big process would be charged this process's size.
_RUNNER = (
    "import os, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "proc = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{time.perf_counter() - start} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')\n"
)


def _measure(argv: Sequence[str], env: Dict[str, str], stdout: Any = subprocess.DEVNULL) -> Run:
    """Run once; wall time and the command's own peak RSS (measured by a small runner process, see _RUNNER)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "result")
        proc = subprocess.run([sys.executable, "-c", _RUNNER, result, *argv], env=env, stdout=stdout,
                              stderr=subprocess.PIPE, check=False)
        try:
            with open(result, encoding="utf-8") as fh:
                seconds, peak_kib, code = fh.read().split()
        except (OSError, ValueError):
            detail = proc.stderr.decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(argv)}: not measured: {detail}") from None
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {proc.stderr.decode(errors='replace')[-2000:]}")
    return Run(float(seconds), int(peak_kib) / 1024)  # Linux: KiB


def _best(argv: Sequence[str], env: Dict[str, str], sb: Any, repeat: int) -> Run:
    runs = []
    for _ in range(repeat):
        sb.clear_requests()
        run = _measure(argv, env)
        reqs = sb.requests
        run.requests, run.received = len(reqs), sum(r.sent for r in reqs)
        runs.append(run)
    best = min(runs, key=lambda r: r.seconds)
    best.peak_mib = max(r.peak_mib for r in runs)
    return best


def _tool() -> str:
    return os.path.join(os.path.dirname(sys.executable), "kubectl-imgaccess")


def bench_scale(scale: int, repeat: int, profile_dir: Optional[str], kubectl_repeat: int = 2) -> Dict[str, Any]:
    from tools.sandbox.server import Sandbox

    out: Dict[str, Any] = {"scale": scale}
    with Sandbox() as sb, tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        counts: Dict[str, int] = {}
        for obj in cluster(scale):
            sb.add(obj)
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        out["counts"] = counts
        print(f"scale {scale}: seeded {sum(counts.values())} objects in {time.perf_counter() - start:.0f} s",
              flush=True)
        # The seeded store lives as long as the server: the server's collector should not walk it again for
        # every request it answers (that would grow with the cluster, and be charged to the client's wait).
        gc.collect()
        gc.freeze()
        cfg = sb.write_kubeconfig(os.path.join(home, "config"))
        env = dict(os.environ, KUBECONFIG=cfg, HOME=home)
        out["tool"] = _best([_tool(), "check", "-A", "-o", "json"], env, sb, repeat)
        kubectl = shutil.which("kubectl")
        if kubectl and scale <= KUBECTL_UP_TO:
            out["kubectl"] = _best([kubectl, "get", KUBECTL_KINDS, "-A", "-o", "json"], env, sb, kubectl_repeat)
        if profile_dir:
            path = os.path.join(profile_dir, f"scale{scale}.prof")
            _measure([sys.executable, "-m", "cProfile", "-o", path, _tool(), "check", "-A", "-o", "json"], env)
            out["profile"] = path
    gc.unfreeze()
    return out


def bench_offline(scale: int, repeat: int) -> Dict[str, Any]:
    """The cluster of `scale` as one YAML List file: check --offline -f against yaml.load(CSafeLoader)."""
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cluster.yaml")
        items = [o for o in cluster(scale) if o["kind"] not in ("Namespace",)]
        with open(path, "w") as fh:
            yaml.dump({"apiVersion": "v1", "kind": "List", "items": items}, fh,
                      Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
        del items
        size = os.path.getsize(path)
        env = dict(os.environ)
        loader = "CSafeLoader" if hasattr(yaml, "CSafeLoader") else "SafeLoader"
        load = [sys.executable, "-c", f"import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.{loader})", path]
        tool = [_tool(), "check", "--offline", "-f", path, "-o", "json"]
        ref = min((_measure(load, env) for _ in range(repeat)), key=lambda r: r.seconds)
        runs = [_measure(tool, env) for _ in range(repeat)]
        got = min(runs, key=lambda r: r.seconds)
        got.peak_mib = max(r.peak_mib for r in runs)
        return {"scale": scale, "size": size, "loader": loader, "yaml": ref, "tool": got}


def _versions() -> List[str]:
    import yaml

    from kubectl_imgaccess import __version__

    lines = [f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
             f"- Python {platform.python_version()}, PyYAML {yaml.__version__} "
             f"(C loader: {'yes' if hasattr(yaml, 'CSafeLoader') else 'no'}), kubectl-imgaccess {__version__}"]
    try:
        import kubernetes

        lines.append(f"- kubernetes client {kubernetes.__version__}")
    except ImportError:
        pass
    kubectl = shutil.which("kubectl")
    if kubectl:
        ver = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, check=False)
        lines.append(f"- {ver.stdout.splitlines()[0] if ver.stdout else 'kubectl: unknown version'}")
    return lines


def _top(path: str, n: int = 15) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(path, stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(n)
    text = buf.getvalue()
    body = text[text.index("   ncalls"):] if "   ncalls" in text else text
    return "\n".join(line.rstrip() for line in body.splitlines() if line.strip())


def report(rows: List[Dict[str, Any]], offline: Optional[Dict[str, Any]], repeat: int, kubectl_repeat: int = 2
           ) -> str:
    lines = ["# `make bench` results", "", f"Generated by `make bench SCALES={','.join(str(r['scale']) for r in rows)}`"
             f" on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; times are the best of {repeat} runs "
             f"({kubectl_repeat} for kubectl), peak RSS is the highest of the runs, of the measured process alone.",
             "", *_versions(), ""]
    lines += ["## check -A -o json against the sandbox API server", "",
              "| scale | Domains | Secrets | Pods | Nodes | time | growth | peak RSS | requests | received "
              "| kubectl get -A -o json | kubectl RSS | kubectl received | time vs kubectl |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    prev: Optional[float] = None
    for row in rows:
        c, t = row["counts"], row["tool"]
        k = row.get("kubectl")
        growth = f"x{t.seconds / prev:.2f}" if prev else ""
        prev = t.seconds
        kube = (f"{k.seconds:.2f} s | {k.peak_mib:.0f} MiB | {k.received / 2**20:.0f} MiB | "
                f"{t.seconds / k.seconds:.2f}") if k else "skipped (BENCH_KUBECTL_UP_TO) | | |"
        lines.append(f"| {row['scale']} | {c.get('Domain', 0):,} | {c.get('Secret', 0):,} | {c.get('Pod', 0):,} "
                     f"| {c.get('Node', 0):,} | {t.seconds:.2f} s | {growth} | {t.peak_mib:.0f} MiB | {t.requests} "
                     f"| {t.received / 2**20:.1f} MiB | {kube} |")
    lines += ["", "kubectl lists " + KUBECTL_KINDS + " (what a user scripting the audit would fetch)."]
    if offline:
        t, y = offline["tool"], offline["yaml"]
        lines += ["", "## check --offline -f on the cluster as one YAML List", "",
                  f"Scale {offline['scale']}, {offline['size'] / 2**20:.0f} MiB file.", "",
                  "| what | time | peak RSS | RSS / file size |", "|---|---|---|---|",
                  f"| `yaml.load(Loader={offline['loader']})` | {y.seconds:.2f} s | {y.peak_mib:.0f} MiB "
                  f"| {y.peak_mib * 2**20 / offline['size']:.2f} |",
                  f"| `check --offline -f FILE -o json` | {t.seconds:.2f} s ({t.seconds / y.seconds:.2f}x) "
                  f"| {t.peak_mib:.0f} MiB | {t.peak_mib * 2**20 / offline['size']:.2f} |"]
    for row in rows:
        if row.get("profile"):
            lines += ["", f"## Profile of check -A -o json at scale {row['scale']} (top 15 by own time)", "",
                      "```", _top(row["profile"]), "```"]
    if os.path.exists(NOTES):
        with open(NOTES) as fh:
            lines += ["", fh.read().rstrip()]
    return "\n".join(lines) + "\n"


def main(scales: Sequence[int], repeat: int, offline_scale: Optional[int], profile_scale: Optional[int],
         kubectl_repeat: int = 2) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as profiles:
        for scale in scales:
            rows.append(bench_scale(scale, repeat, profiles if scale == profile_scale else None, kubectl_repeat))
            t = rows[-1]["tool"]
            print(f"  check -A -o json: {t.seconds:.2f} s, {t.peak_mib:.0f} MiB, {t.requests} requests", flush=True)
        offline = bench_offline(offline_scale, repeat) if offline_scale else None
        text = report(rows, offline, repeat, kubectl_repeat)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as fh:
        fh.write(text)
    print(text)

