"""`make dist`: the wheel, one krew archive per os/arch, and dist/imgaccess.yaml rendered from krew/.

Every dependency of the pinned range is pure Python (kubernetes<36; 36 pulls aiohttp and needs Python 3.10,
37 pydantic-core), so an archive holds no compiled module: it runs on whatever python3 (3.9+) the user has,
with no per-ABI wheels and nothing to extract at run time. For each platform the build resolves the
dependencies as pip would for that platform and the oldest supported Python, then takes each project's
pure wheel; a project with only compiled wheels fails the build, except PyYAML, whose C extension is an
optional accelerator (the package falls back to its pure-Python loader). Archives are a plain folder:

    kubectl-imgaccess            POSIX sh launcher (krew links it as the plugin; exit code passed through)
    kubectl_complete-imgaccess   the completion launcher (link it beside the plugin for TAB completion)
    lib/                         the package and its dependencies, with their licence files
    LICENSE

A folder rather than a zipapp/shiv/pex: nothing is unpacked at run time (no cache to go stale, nothing
written outside the krew store), Python compiles its bytecode beside the sources on first use, and the
launcher is a few lines of sh a reviewer can read.
"""

from __future__ import annotations

import argparse
import email.parser
import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import string
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from tools.krew import validate

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "krew" / "imgaccess.yaml"
PLUGIN = "kubectl-imgaccess"
COMPLETER = "kubectl_complete-imgaccess"

# krew's os/arch -> the platform tags pip matches wheels against for it.
PLATFORMS: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("linux", "amd64"): ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"),
    ("linux", "arm64"): ("manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"),
    ("darwin", "amd64"): ("macosx_10_9_x86_64", "macosx_10_13_x86_64", "macosx_11_0_x86_64"),
    ("darwin", "arm64"): ("macosx_11_0_arm64", "macosx_12_0_arm64"),
}
# Projects shipped only as compiled wheels whose extension is optional, with the extension modules dropped.
OPTIONAL_ACCELERATORS: Dict[str, Tuple[str, ...]] = {"pyyaml": ("yaml/_yaml.", "_yaml/")}
# Never imported by any command: dateutil.tz reads tzdata only for named zones, which nothing asks for.
NEVER_IMPORTED = frozenset({"tzdata"})
COMPILED = (".so", ".pyd", ".dylib", ".dll")
LICENCE_FILE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.I)
SEMVER = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


class DistError(Exception):
    """The build cannot go on; one line for the user."""


def krew_version(version: str) -> str:
    """`v` + the package version in semantic-version form (krew parses spec.version as semver).

    1.2.3 -> v1.2.3, 1.2.3rc1 -> v1.2.3-rc.1, 1.2.3a2 -> v1.2.3-alpha.2, 1.2.3.dev4 -> v1.2.3-dev.4,
    1.2.3+abc -> v1.2.3+abc. Refused: epochs, post-releases and releases without exactly three numbers.
    """
    try:
        v = Version(version)
    except InvalidVersion:
        raise DistError(f"version {version!r} is not a valid Python package version") from None
    if v.epoch or v.post is not None or len(v.release) != 3:
        raise DistError(f"version {version!r} has no semantic-version form for krew: use MAJOR.MINOR.PATCH "
                        "with an optional aN, bN, rcN or .devN (no epoch, no .postN)")
    text = "v{}.{}.{}".format(*v.release)
    pre: List[str] = []
    if v.pre is not None:
        pre += [{"a": "alpha", "b": "beta", "rc": "rc"}[v.pre[0]], str(v.pre[1])]
    if v.dev is not None:
        pre += ["dev", str(v.dev)]
    if pre:
        text += "-" + ".".join(pre)
    if v.local:
        text += "+" + v.local
    if not SEMVER.fullmatch(text):  # pragma: no cover - the mapping above only builds valid forms
        raise DistError(f"version {version!r} maps to {text!r}, which is not semver")
    return text


def oldest_python(requires_python: str) -> str:
    """The oldest 3.x that Requires-Python admits: the interpreter the dependencies are resolved for."""
    spec = SpecifierSet(requires_python)
    for minor in range(0, 40):
        if Version(f"3.{minor}") in spec:
            return f"3.{minor}"
    raise DistError(f"Requires-Python {requires_python!r} admits no Python 3")


@dataclass(frozen=True)
class Built:
    os: str
    arch: str
    path: Path
    sha256: str
    size: int
    unpacked: int


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise DistError(f"pip {' '.join(args[:2])} failed: {tail}")


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))


def _is_pure(wheel: Path) -> bool:
    return all(t.abi == "none" and t.platform == "any" for t in parse_wheel_filename(wheel.name)[3])


def resolve(own_wheel: Path, tags: Sequence[str], python: str, work: Path) -> List[Path]:
    """The wheels pip picks for the platform, each replaced by its project's pure wheel where one exists."""
    chosen = work / "platform"
    chosen.mkdir(parents=True)
    platform_args = [a for tag in tags for a in ("--platform", tag)]
    _pip("download", "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
         "--abi", "cp" + python.replace(".", ""), *platform_args, "-d", str(chosen), str(own_wheel))
    out: List[Path] = []
    for wheel in sorted(chosen.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if _is_pure(wheel):
            out.append(wheel)
            continue
        pure = work / "pure" / name
        pure.mkdir(parents=True)
        try:
            _pip("download", "--no-deps", "--only-binary=:all:", "--python-version", python,
                 "--implementation", "py", "--abi", "none", "--platform", "any", "-d", str(pure),
                 f"{name}=={version}")
            out.extend(pure.glob("*.whl"))
        except DistError:
            if name not in OPTIONAL_ACCELERATORS:
                raise DistError(f"{name} {version} has only compiled wheels for {' '.join(tags)}: an archive "
                                "that holds it would run on one Python version only") from None
            out.append(wheel)
    return out


def _importable(parts: Sequence[str]) -> bool:
    """Whether an installed file is worth shipping: code and data that runs, metadata and licence texts."""
    if parts[0].endswith(".dist-info"):
        return parts[-1] == "METADATA" or bool(LICENCE_FILE.search(parts[-1])) or "licenses" in parts
    if "__pycache__" in parts or parts[-1].endswith((".pyc", ".pyi")) or parts[-1] == "py.typed":
        return False
    return not any(p in ("tests", "test", "e2e_test") for p in parts[:-1])


def unpack(wheels: Sequence[Path], lib: Path) -> None:
    """Install the wheels' importable files into lib/ (what pip --target would, minus what never runs)."""
    for wheel in wheels:
        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        if name in NEVER_IMPORTED:
            continue
        strip = OPTIONAL_ACCELERATORS.get(name, ())
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if info.is_dir():
                    continue
                if parts[0].endswith(".data"):
                    if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                        continue  # scripts, headers, data: not importable
                    parts = parts[2:]
                member = "/".join(parts)
                if not _importable(parts) or (strip and member.startswith(strip)):
                    continue
                if member.endswith(COMPILED):
                    raise DistError(f"{wheel.name}: compiled module {member} in an archive meant for any Python")
                target = lib / member
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))


LAUNCHER = """\
#!/bin/sh
# {name}: runs the bundled package with python3 (3.9 or newer) from PATH, or $KUBECTL_IMGACCESS_PYTHON.
# krew links this file into ~/.krew/bin; follow the links back to the folder that holds lib/.
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=$(dirname "$self")/$link ;;
  esac
done
lib=$(cd "$(dirname "$self")" && pwd -P)/lib
python=${{KUBECTL_IMGACCESS_PYTHON:-python3}}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: {name} needs python3 (3.9 or newer) on PATH, or KUBECTL_IMGACCESS_PYTHON set to one" >&2
  exit 2
fi
# -I: no PYTHON* variables, no user site, and not the current directory on sys.path (a yaml.py there
# must not replace the bundled one)
exec "$python" -I -c '
import sys
if sys.version_info < (3, 9):
    sys.stderr.write("error: {name} needs Python 3.9 or newer; %s is %d.%d (set KUBECTL_IMGACCESS_PYTHON)\\n"
                     % (sys.executable, sys.version_info[0], sys.version_info[1]))
    sys.exit(2)
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = "{name}"
from {module} import {function}
sys.exit({function}())
' "$lib" "$@"
"""


def _entry_points(own_wheel: Path) -> Dict[str, str]:
    """console_scripts of the wheel: executable name -> 'module:function' (one home: setup.cfg)."""
    with zipfile.ZipFile(own_wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = zf.read(name).decode("utf-8")
    section, out = "", {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and section == "console_scripts":
            key, value = (s.strip() for s in line.split("=", 1))
            out[key] = value
    return out


def _tar(folder: Path, out: Path, epoch: int) -> None:
    """A reproducible tar.gz: sorted names, fixed owner and time, modes 0755/0644."""

    def norm(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = epoch
        executable = info.isdir() or bool(info.mode & stat.S_IXUSR)
        info.mode = 0o755 if executable else 0o644
        return info

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False, filter=norm)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch,
                                               compresslevel=9) as gz:
        gz.write(buf.getvalue())


def build_archive(own_wheel: Path, osname: str, arch: str, python: str, version: str, dist: Path,
                  work: Path, epoch: int) -> Built:
    wheels = resolve(own_wheel, PLATFORMS[(osname, arch)], python, work / f"{osname}-{arch}")
    folder = work / f"{osname}-{arch}" / "archive"
    lib = folder / "lib"
    unpack(wheels, lib)
    scripts = _entry_points(own_wheel)
    for exe in (PLUGIN, COMPLETER):
        if exe not in scripts:
            raise DistError(f"the wheel has no console script {exe}")
        module, function = scripts[exe].split(":")
        path = folder / exe
        path.write_text(LAUNCHER.format(name=exe, module=module, function=function), encoding="utf-8")
        path.chmod(0o755)
    shutil.copyfile(ROOT / "LICENSE", folder / "LICENSE")
    out = dist / f"{PLUGIN}_{version}_{osname}_{arch}.tar.gz"
    _tar(folder, out, epoch)
    data = out.read_bytes()
    unpacked = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return Built(osname, arch, out, hashlib.sha256(data).hexdigest(), len(data), unpacked)


def render_manifest(template: str, version: str, built: Sequence[Built]) -> str:
    """Fill ${VERSION} and ${SHA256_<os>_<arch>}; a placeholder left unfilled (or unknown) is an error."""
    values = {"VERSION": version}
    for b in built:
        values[f"SHA256_{b.os}_{b.arch}"] = b.sha256
    try:
        text = string.Template(template).substitute(values)
    except (KeyError, ValueError) as exc:
        raise DistError(f"{TEMPLATE.name}: placeholder without a value or malformed ({exc})") from None
    for b in built:
        if b.sha256 not in text:
            raise DistError(f"{TEMPLATE.name}: no platform entry for {b.os}/{b.arch}")
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):  # the template's own header says how to render it
        lines.pop(0)
    text = "".join(lines)
    problems = validate(yaml.safe_load(text), TEMPLATE.name)
    if problems:
        raise DistError(f"the rendered {TEMPLATE.name} fails krew's checks: " + "; ".join(problems))
    return text


# What a build never reads: setuptools builds in the tree it is given (build/, *.egg-info), so two builds of
# the same tree at once (a release and a test, two test workers) would share and clean each other's files.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                     "*.pyc")


def source_copy(dest: Path) -> Path:
    """A private copy of the source tree to build from: nothing another build writes, nothing stale."""
    shutil.copytree(ROOT, dest, ignore=_NOT_SOURCE, symlinks=True)
    return dest


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dist", description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output directory (default dist/)")
    parser.add_argument("--platform", action="append", choices=[f"{o}/{a}" for o, a in PLATFORMS],
                        help="only this os/arch (repeatable; default all)")
    args = parser.parse_args(argv)
    dist = Path(args.dist)
    dist.mkdir(parents=True, exist_ok=True)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01: zip's and tar's floor
    wanted = [tuple(p.split("/")) for p in args.platform] if args.platform else list(PLATFORMS)
    try:
        with tempfile.TemporaryDirectory(prefix="imgaccess-dist-") as tmp:
            work = Path(tmp)
            _pip("wheel", "--no-deps", "-w", str(work / "own"), str(source_copy(work / "src")))
            own = next((work / "own").glob("*.whl"))
            shutil.copy2(own, dist / own.name)
            meta = _metadata(own)
            version = krew_version(str(meta["Version"]))
            python = oldest_python(str(meta.get("Requires-Python") or ">=3"))
            built = [build_archive(own, o, a, python, version, dist, work, epoch) for o, a in wanted]
        if not args.platform:
            rendered = render_manifest(TEMPLATE.read_text(encoding="utf-8"), version, built)
            (dist / TEMPLATE.name).write_text(rendered, encoding="utf-8")
    except DistError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    for b in built:
        print(f"{b.path}  {b.size / 1e6:.1f} MB ({b.unpacked / 1e6:.1f} MB unpacked)  sha256 {b.sha256}")
    if not args.platform:
        print(f"{dist / TEMPLATE.name}  spec.version {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
