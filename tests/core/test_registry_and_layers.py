import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shequ_desktop.core import codes
from shequ_desktop.core.fields import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entity", sorted(REGISTRY))
def test_every_registry_field_is_a_column(conn, entity):
    columns = {r[1] for r in conn.execute(f"PRAGMA table_info({entity})")}
    missing = [f.name for f in REGISTRY[entity] if f.name not in columns]
    assert missing == []


@pytest.mark.parametrize("entity", sorted(REGISTRY))
def test_labels_and_header_synonyms_are_unambiguous(entity):
    seen: dict[str, str] = {}
    for f in REGISTRY[entity]:
        for word in (f.label, *f.synonyms):
            assert word not in seen, f"{word!r} names both {seen[word]} and {f.name}"
            seen[word] = f.name


def test_code_fields_name_existing_tables():
    names = set(codes.table_names())
    for entity, fields in REGISTRY.items():
        for f in fields:
            assert (f.kind == "code") == (f.code_table is not None), f.name
            if f.code_table:
                assert f.code_table in names, f"{entity}.{f.name}"


def test_import_linter_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), str(ROOT / "setup.cfg")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("module, line, broken", [
    ("shequ_desktop/core/errors.py", "import PySide6.QtCore", "Qt"),
    ("shequ_desktop/core/tree.py", "from shequ_desktop.population import residents",
     "feature packages stand on those below them"),
    ("shequ_desktop/places/grid.py", "from shequ_desktop.community import microgrids",
     "feature packages stand on those below them"),
    ("shequ_desktop/core/context.py", "from shequ_desktop.core import audit",
     "Inside core"),
])
def test_import_linter_catches_an_import_against_the_layers(tmp_path, module, line, broken):
    """The contracts really bite: run them on a copy of the code with one import added
    against the layers (Qt in the domain, a lower package importing a higher one, the
    write path importing its own hook)."""
    for package in ("shequ_desktop", "db", "ui"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), str(ROOT / "setup.cfg"), "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert broken in done.stdout.split("Broken contracts")[1]
