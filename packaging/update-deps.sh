#!/usr/bin/env bash
# The deliberate, tested way to move to newer dependencies: refresh the lock to the newest
# releases setup.cfg allows, rebuild .venv from it, and run the whole suite. Commit the new
# lock only when the suite passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/lock.sh --upgrade
git --no-pager diff --stat -- packaging/requirements.lock || true
rm -rf .venv
bash .ci/bootstrap
.venv/bin/python -m pytest
