"""Probe timing for `make bench` (not collected by the test run: it only measures)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import domain, secret
from tests.registry.fixtures import BASIC_USERS, RegistryEnv

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))


def test_probe_timing(registry_env: RegistryEnv, tmp_path: Path, capsys: object) -> None:
    import json

    host = registry_env.basic.host
    items = [secret("good", "probe", registry=host, user="alice", password=BASIC_USERS["alice"])]
    items += [domain(f"d{i:03d}", "probe", image=f"{host}/team/app:v{i % 5 + 1}", pull=["good"]) for i in range(100)]
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    script = os.path.join(os.path.dirname(sys.executable), "kubectl-imgaccess")
    base = [script, "check", "--offline", "-o", "json", "-f", str(path)]
    times = {}
    for label, extra in (("without --probe", []), ("with --probe", ["--probe", "--registry-ca", registry_env.ca_file])):
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            subprocess.run(base + extra, capture_output=True, check=False)
            samples.append(time.perf_counter() - start)
        times[label] = statistics.median(samples)
    with capsys.disabled():  # type: ignore[attr-defined]
        for label, t in times.items():
            print(f"probe bench: 100 Domains, 5 images, {label}: {t * 1000:.0f} ms wall (median of {REPEAT})")
        print(f"probe bench: cost of probing: {(times['with --probe'] - times['without --probe']) * 1000:.0f} ms")
