#!/usr/bin/env bash
# Build the krew archive: a zipapp holding the package and its dependencies, run by the user's python3.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m pip install --quiet --target "$work/app" .
rm -rf "$work/app"/*.dist-info "$work/app/bin"
"$PYTHON" -m zipapp "$work/app" -m 'kubectl_imgaccess.cli.main:main' -p '/usr/bin/env python3' -o "$work/kubectl-imgaccess"
cp LICENSE "$work/"
mkdir -p dist
tar -C "$work" -czf dist/kubectl-imgaccess.tar.gz kubectl-imgaccess LICENSE
sha=$(sha256sum dist/kubectl-imgaccess.tar.gz | cut -d' ' -f1)
echo "dist/kubectl-imgaccess.tar.gz sha256 $sha"
