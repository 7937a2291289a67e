"""Malformed and hostile manifests: each ends in one line naming file:line and exit 2, never `internal error`,
in bounded time and memory (alias bombs, recursion, depth, huge integers, NUL bytes, FIFOs, non-UTF-8)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kubectl_imgaccess import manifests
from kubectl_imgaccess.cli.main import main
from tests.clitools import script

DOMAIN = """\
apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: d1
  namespace: apps
spec:
  domainUID: d1
  domainHomeSourceType: Image
  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0
"""
BOMB = """\
  extra:
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
CONFIGMAP_BOMB = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: &a [x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b],
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c], e: &e [*d,*d,*d,*d,*d,*d,*d,*d], f: [*e,*e,*e,*e,*e,*e,*e,*e]}
"""


def _deep_flow(n: int) -> str:
    return DOMAIN + "  extra: " + "[" * n + "]" * n + "\n"


def _deep_block(n: int) -> str:
    return DOMAIN + "  extra:\n" + "".join("  " * (i + 2) + "k:\n" for i in range(n)) + "  " * (n + 2) + "v\n"


# name -> (file content, the line the error must name, words the message must hold)
CASES = {
    "metadata-null": ("apiVersion: v1\nkind: Secret\nmetadata: null\n", 3, "metadata.name"),
    "metadata-list": ("apiVersion: v1\nkind: ServiceAccount\nmetadata: [a, b]\n", 3, "metadata must be a mapping"),
    "cluster-without-name": ("apiVersion: weblogic.oracle/v1\nkind: Cluster\nmetadata:\n  namespace: apps\n"
                             "spec:\n  clusterName: c\n", 3, "without metadata.name"),
    "node-images-number": ("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  images: 5\n", 6,
                           "status.images must be a list"),
    "node-image-names-string": ("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  images:\n"
                                "  - names: abc\n", 7, "names must be a list"),
    "pod-containers-number": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  namespace: apps\nspec:\n"
                              "  containers: 7\n", 7, "spec.containers must be a list"),
    "pod-status-string": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  namespace: apps\nstatus:\n"
                          "  containerStatuses:\n  - state: {waiting: 5}\n", 8, "state.waiting must be a mapping"),
    "event-involved-number": ("apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\n  namespace: apps\n"
                              "involvedObject: 5\n", 6, "involvedObject must be a mapping"),
    "event-message-list": ("apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\n  namespace: apps\n"
                           "message: [1]\n", 6, "message must be a string"),
    "serviceaccount-pull-secrets-5": ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n"
                                      "  namespace: apps\nimagePullSecrets: 5\n", 6, "imagePullSecrets must be a list"),
    "labels-list-valued": (DOMAIN.replace("  name: d1\n", "  name: d1\n  labels:\n    app: [a, b]\n"), 6,
                           "labels.app must be a string"),
    "integer-over-4300-digits": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  n: "
                                 + "9" * 5000 + "\n", 6, "integer longer than"),
    "nul-byte": (DOMAIN + '  extra: "a\x00b"\n', 10, "U+0000"),
    "self-referential-alias": (DOMAIN + "  extra: &a [*a]\n", 10, "recursive alias"),
    "nesting-depth-995-flow": (_deep_flow(995), 10, "levels deep"),
    "nesting-depth-990-block": (_deep_block(990), None, "levels deep"),
    "alias-bomb-under-unknown-field": (DOMAIN + BOMB, None, "alias bomb"),
    "alias-bomb-in-ignored-configmap": (CONFIGMAP_BOMB, None, "alias bomb"),
    "not-utf-8": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: \udcff\n", 4, "not UTF-8"),
    "too-many-documents": (None, None, "YAML documents"),
}


def _write(path: Path, content: str) -> None:
    path.write_bytes(content.encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_input_names_file_and_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    content, line, words = CASES[case]
    if content is None:  # the document limit, lowered so the test stays small
        monkeypatch.setattr(manifests, "MAX_DOCUMENTS", 50)
        content = "---\na: 1\n" * 51
    path = tmp_path / f"{case}.yaml"
    _write(path, content)
    code = main(["check", "--offline", "-o", "json", "-l", "app in (x,y)", "-f", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert out == ""
    assert "internal error" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    prefix = f"error: {path}:{line}: " if line is not None else f"error: {path}:"
    assert err.startswith(prefix), err
    assert words in err, err


def test_deep_json_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"kind":"Domain","x":\t' + "[" * 100000 + "]" * 100000 + "}")
    assert main(["check", "--offline", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    # Read as YAML first (with lines) or as JSON: either way one line naming the file and the limit.
    assert err.startswith(f"error: {path}:") and "nested more than 100 levels deep" in err, err
    assert "internal" not in err and len(err.strip().splitlines()) == 1


def test_alias_expansion_in_config_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("registries: []\nx:\n" + BOMB)
    healthy = tmp_path / "d.yaml"
    healthy.write_text(DOMAIN)
    assert main(["check", "--offline", "--config", str(config), "-f", str(healthy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config}:") and "alias bomb" in err, err


def test_aliases_within_limits_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(DOMAIN + "  serverPod:\n    env: &env\n    - {name: A, value: b}\n  adminServer:\n"
                    "    serverPod:\n      env: *env\n")
    assert main(["check", "--offline", "-o", "json", "-f", str(path)]) in (0, 1)


@pytest.mark.parametrize("where", ["direct", "directory"])
def test_fifo_is_refused_not_opened(where: str, tmp_path: Path) -> None:
    fifo = tmp_path / "m" / "pipe.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    target = fifo if where == "direct" else fifo.parent
    proc = subprocess.run([script(), "check", "--offline", "-f", str(target)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 2
    if where == "direct":
        assert proc.stderr == f"error: {fifo}: not a regular file (a FIFO or device would block; pipe it with -f - " \
                              "instead)\n"
    else:  # found by walking a directory: skipped with a note, and a folder left with nothing is no pass
        assert proc.stderr.splitlines()[0] == f"note: skipped {fifo}: not a regular file"
        assert proc.stderr.splitlines()[1].startswith("error: nothing to check")


def test_non_utf8_stdin_names_the_line() -> None:
    proc = subprocess.run([script(), "check", "--offline", "-f", "-"], capture_output=True, timeout=60,
                          input=b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: \xff\xfe\n", check=False)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "error: <stdin>:4: not UTF-8 text (byte 0xff)\n"


def test_file_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "big.yaml"
    path.write_text(DOMAIN + "# " + "x" * 2000 + "\n")
    assert main(["check", "--offline", "-f", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: larger than the 0 MiB limit for one file\n"


def test_a_20_mb_helm_rendered_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Real manifests are far inside the limits: 20 MB of rendered chart (large config files inline)."""
    config = "".join(f"    line.{i}=some rendered configuration value {i}\n" for i in range(20000))
    docs = [DOMAIN]
    size = len(DOMAIN)
    i = 0
    while size < 20 * 1024 * 1024:
        doc = (f"---\n# Source: chart/templates/config-{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
               f"  name: config-{i}\n  labels: {{app.kubernetes.io/name: app, helm.sh/chart: app-1.0.0}}\n"
               f"data:\n  app.properties: |\n{config}")
        docs.append(doc)
        size += len(doc)
        i += 1
    path = tmp_path / "rendered.yaml"
    path.write_text("".join(docs))
    assert path.stat().st_size >= 20 * 1024 * 1024
    assert main(["check", "--offline", "-o", "json", "-f", str(path)]) in (0, 1)
    assert "error:" not in capsys.readouterr().err


def test_limits_are_generous() -> None:
    assert manifests.MAX_FILE_BYTES >= 20 * 1024 * 1024
    assert manifests.MAX_DEPTH >= 64 and manifests.MAX_DOCUMENTS >= 10000



@pytest.mark.parametrize("shape", ["flow", "compact", "indent"])
def test_nesting_deep_enough_to_crash_a_c_parser_is_an_input_error(
        shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The C composer recurses per level with no recursion check: 100,000 levels crashed Python 3.9."""
    if shape == "flow":
        body = "x: " + "[" * 100000 + "]" * 100000 + "\n"
    elif shape == "compact":
        body = "x:\n" + "- " * 50000 + "a\n"
    else:
        body = "x:\n" + "".join(" " * (i + 1) + "- \n" for i in range(1500))
    path = tmp_path / f"{shape}.yaml"
    path.write_text("apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata: {name: d}\n" + body)
    assert main(["check", "--offline", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    # Newer libyaml builds refuse flow nesting past 1000 levels themselves; either way one clear line.
    assert err.startswith(f"error: {path}:") and len(err.strip().splitlines()) == 1, err
    assert "nested more than 100 levels deep" in err or "exceeded maximum nesting depth" in err, err
