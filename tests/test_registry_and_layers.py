import os
import subprocess
import sys
from pathlib import Path

import pytest

from shequ_desktop.core import codes
from shequ_desktop.core.fields import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


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
    done = subprocess.run([str(linter), "--config", str(ROOT / "setup.cfg")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_import_linter_catches_qt_in_the_domain(tmp_path):
    """The contract really bites: run it on a copy of the layout whose domain imports Qt."""
    for package, source in (("shequ_desktop", "import PySide6.QtCore\n"),
                            ("db", ""), ("ui", "import shequ_desktop\n")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(source)
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--config", str(ROOT / "setup.cfg"), "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert "shequ_desktop -> PySide6" in done.stdout
