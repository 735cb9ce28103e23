#!/usr/bin/env bash
# Writes packaging/requirements.lock from setup.cfg: every dependency of the program, its
# test, bench and bundle extras, and the build tools, pinned with hashes, for CPython 3.10-3.13
# on Linux and Windows at once (uv's universal resolution: one file, environment markers
# where versions differ). Keeps the current pins where they still satisfy setup.cfg;
# `packaging/lock.sh --upgrade` moves everything to the newest allowed releases.
# Then checks that every pinned package has a wheel for 64-bit Windows on each Python.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
tools=${SHEQU_TOOLS_VENV:-.venv-tools}
[ -x "$tools/bin/uv" ] && "$tools/bin/uv" --version | grep -q " $UV_VERSION" || {
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q "uv==$UV_VERSION"
}
uv="$tools/bin/uv"
"$uv" pip compile setup.cfg packaging/build-requirements.in --all-extras --universal \
  --python-version 3.10 --generate-hashes --no-strip-markers --quiet \
  --custom-compile-command "bash packaging/lock.sh" "$@" -o packaging/requirements.lock
for py in 3.10 3.11 3.12 3.13; do
  "$uv" pip compile setup.cfg --extra bundle --python-version "$py" \
    --python-platform x86_64-pc-windows-msvc --only-binary :all: \
    -c packaging/requirements.lock --quiet -o /dev/null \
    || { echo "Python $py on Windows: a pinned package has no win_amd64 wheel" >&2; exit 1; }
done
echo "packaging/requirements.lock written; every runtime package has a win_amd64 wheel for 3.10-3.13"
