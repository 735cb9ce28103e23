#!/usr/bin/env bash
# Builds the one-folder bundle for office PCs with PyInstaller (packaging/shequ.spec) into
# dist/shequ_desktop/, then smoke-tests it: the command line makes a demo database and prints
# a ledger, and the window program starts offscreen, shows its window on that database and
# quits. Dependencies come from the lock (.ci/bootstrap). The same spec builds on Windows
# (packaging/bundle.ps1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/bootstrap >/dev/null
started=$(date +%s)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/shequ.spec
echo "构建用时 $(( $(date +%s) - started )) 秒，大小 $(du -sh dist/shequ_desktop | cut -f1)"

app=dist/shequ_desktop
smoke=$(mktemp -d)
trap 'rm -rf "$smoke"' EXIT
export QT_QPA_PLATFORM=offscreen SHEQU_DATA_DIR="$smoke/data"
(cd "$smoke" && "$OLDPWD/$app/shequ" demo --db demo.db --residents 500 >/dev/null)
SHEQU_USER=admin SHEQU_PASSWORD=demo2026 \
  "$app/shequ" ledger --db "$smoke/demo.db" --kind residents -o "$smoke/台账.pdf" >/dev/null
[ -s "$smoke/台账.pdf" ] || { echo "冒烟测试失败：没有生成台账" >&2; exit 1; }
shown=$("$app/shequ-desktop" --db "$smoke/demo.db" --smoke-test)
echo "$shown" | grep -q "window shown" || { echo "冒烟测试失败：窗口没有显示" >&2; exit 1; }
echo "冒烟测试通过：演示数据库、台账 PDF（$(stat -c %s "$smoke/台账.pdf") 字节）；$shown"
