"""The program as it is given to users: the wheel carries everything the program reads at run
time (code tables, export templates, translations), and runs from outside the source tree."""
import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("shequ_desktop", "db", "ui", "resources", "setup.cfg", "pyproject.toml", "README.md")


def listed_packages() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return set(config["options"]["packages"].split())


def test_setup_cfg_lists_every_package_of_the_source_tree():
    found = {str(p.parent.relative_to(ROOT)).replace(os.sep, ".")
             for top in ("shequ_desktop", "db", "ui") for p in (ROOT / top).rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found | {"shequ_resources"} == listed_packages()


def test_resources_are_found_through_their_package_when_not_beside_the_code(monkeypatch,
                                                                           tmp_path):
    from shequ_desktop.core import resources
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "pkg" / "resources.py"))
    resources.root.cache_clear()
    try:
        found = resources.root()
    finally:
        resources.root.cache_clear()
    assert (found / "codes" / "gender.json").is_file()
    assert found.resolve() == (ROOT / "resources").resolve()   # the editable mapping, here


GUI_SMOKE = """
import sys
from shequ_desktop.security import unlock
from shequ_desktop.core.resources import root
import db
path = sys.argv[1]
unlock.unlock(path, "admin", "demo2026")
conn = db.open_db(path)
from PySide6.QtCore import QCoreApplication
from ui.app import build_main_window, make_app
app = make_app()
window = build_main_window(conn, path)
window.show()
app.processEvents()
print("resources", root())
print("title", window.windowTitle())
print("qt", QCoreApplication.translate("QFileDialog", "&Look in:"))
window.close()
conn.close()
"""


@pytest.mark.packaging
def test_the_built_wheel_runs_demo_ledger_and_gui_outside_the_source_tree(tmp_path):
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(source)], check=True, cwd=tmp_path)
    [wheel] = wheels.glob("shequ_desktop-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(wheel)], check=True)
    # The dependencies are this environment's, reached by a path entry (not a site dir, so
    # the editable install of the source tree there is not seen).
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(QT_QPA_PLATFORM="offscreen", SHEQU_DATA_DIR=str(work / "data"))
    shequ = venv / ("Scripts/shequ.exe" if os.name == "nt" else "bin/shequ")

    def run(*args):
        return subprocess.run(args, cwd=work, env=env, text=True, capture_output=True,
                              timeout=600)

    demo = run(str(shequ), "demo", "--db", "demo.db", "--residents", "300")
    assert demo.returncode == 0, demo.stderr
    env.update(SHEQU_USER="admin", SHEQU_PASSWORD="demo2026")
    ledger = run(str(shequ), "ledger", "--db", "demo.db", "--kind", "residents", "-o", "台账.pdf")
    assert ledger.returncode == 0, ledger.stderr
    from pypdf import PdfReader
    page = PdfReader(work / "台账.pdf").pages[0].extract_text()
    assert "人口信息台账" in page and "汉族" in page          # labels from the code tables

    gui = run(str(python), "-c", GUI_SMOKE, "demo.db")
    assert gui.returncode == 0, gui.stderr
    lines = dict(line.split(" ", 1) for line in gui.stdout.splitlines() if " " in line)
    assert Path(lines["resources"]).resolve().is_relative_to(venv.resolve())
    assert "社区网格工作台" in lines["title"]
    assert lines["qt"] == "查找范围(&L)："


@pytest.mark.packaging
def test_the_bundle_builds_and_passes_its_smoke_test():
    """packaging/bundle.sh: PyInstaller one-folder bundle, then a demo database, a ledger and
    the window started offscreen, all from the bundle."""
    done = subprocess.run(["bash", str(ROOT / "packaging" / "bundle.sh")], cwd=ROOT, text=True,
                          capture_output=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "冒烟测试通过" in done.stdout and "window shown" in done.stdout
    assert [p.parent.parent.name for p in (ROOT / "dist").rglob("codes/gender.json")] == [
        "resources"]
