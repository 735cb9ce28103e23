# Builds the one-folder bundle on 64-bit Windows with the same spec as packaging/bundle.sh:
# dist\shequ_desktop\shequ-desktop.exe (the window program) and shequ.exe (the command line).
# Needs CPython 3.10-3.13 (64-bit) on PATH as `py`; every pinned dependency has a win_amd64
# wheel (packaging/lock.sh checks it), so nothing is compiled. A CI job can run this file as
# it is: `powershell -ExecutionPolicy Bypass -File packaging\bundle.ps1`.
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
if (-not (Test-Path .venv\Scripts\python.exe)) { py -3 -m venv .venv }
.venv\Scripts\python -m pip install -q --require-hashes -r packaging\requirements.lock
.venv\Scripts\python -m pip install -q --no-deps --no-build-isolation -e .
.venv\Scripts\pyinstaller --noconfirm --clean --log-level WARN `
    --distpath dist --workpath build\pyinstaller packaging\shequ.spec

# Smoke test: a demo database, a ledger, the window shown and closed (offscreen).
$smoke = Join-Path $env:TEMP ("shequ-smoke-" + [guid]::NewGuid())
New-Item -ItemType Directory $smoke | Out-Null
try {
    $env:QT_QPA_PLATFORM = "offscreen"
    $env:SHEQU_DATA_DIR = Join-Path $smoke "data"
    & dist\shequ_desktop\shequ.exe demo --db "$smoke\demo.db" --residents 500
    if ($LASTEXITCODE -ne 0) { throw "demo failed" }
    $env:SHEQU_USER = "admin"; $env:SHEQU_PASSWORD = "demo2026"
    & dist\shequ_desktop\shequ.exe ledger --db "$smoke\demo.db" --kind residents -o "$smoke\ledger.pdf"
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path "$smoke\ledger.pdf")) { throw "ledger failed" }
    $p = Start-Process dist\shequ_desktop\shequ-desktop.exe -ArgumentList "--db", "$smoke\demo.db", "--smoke-test" -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "window did not start" }
    Write-Host "bundle smoke test passed"
} finally {
    Remove-Item -Recurse -Force $smoke
}
