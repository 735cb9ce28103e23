import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Nothing a test runs may write into the real user's data folder (default db, logs); the
# folder is removed when the test run ends.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

os.environ["SHEQU_DATA_DIR"] = tempfile.mkdtemp(prefix="shequ-test-data-")
atexit.register(shutil.rmtree, os.environ["SHEQU_DATA_DIR"], ignore_errors=True)
# Nor into the user's Documents (file dialogs start there) or Qt settings: both in that folder.
_config = os.path.join(os.environ["SHEQU_DATA_DIR"], "config")
os.makedirs(_config)
with open(os.path.join(_config, "user-dirs.dirs"), "w", encoding="utf-8") as _dirs:
    _dirs.write(f'XDG_DOCUMENTS_DIR="{os.environ["SHEQU_DATA_DIR"]}/Documents"\n')
os.environ["XDG_CONFIG_HOME"] = _config
from PySide6.QtCore import QSettings  # noqa: E402

QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, _config)

import datetime as dt  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import pytest  # noqa: E402
from shequ_desktop.core.idnumber import check_digit  # noqa: E402

import db  # noqa: E402
from shequ_desktop.places import grid, houses  # noqa: E402
from shequ_desktop.population import households
from shequ_desktop.core.context import Context  # noqa: E402


def make_id(birth: str, gender: str = "1", area: str = "110105", seq: int = 12) -> str:
    """A valid 18-digit ID for a birth date (YYYY-MM-DD) and gender ("1" male, "2" female)."""
    seq = seq * 2 + (1 if gender == "1" else 0)
    body = f"{area}{birth.replace('-', '')}{seq % 1000:03d}"
    return body + check_digit(body)


@pytest.fixture(autouse=True)
def background_work_runs_synchronously(monkeypatch):
    """DESIGN.md §10: in tests, background work runs at once in the calling thread.

    Tests of the runner's threading pass synchronous=False explicitly.
    """
    import sys

    from ui import background

    monkeypatch.setattr(background, "SYNCHRONOUS", True)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)   # ui.app.main installs its own


@pytest.fixture(autouse=True)
def no_keys_left_behind():
    """Database keys live in a process-wide registry: each test starts without any."""
    yield
    db.forget_keys()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture
def conn(db_path):
    c = db.open_db(db_path)
    yield c
    c.close()


@pytest.fixture
def ctx(conn):
    return Context(conn, "测试员")


@dataclass
class Place:
    street: int
    community: int
    grid: int
    building: int
    unit: int
    house: int
    house2: int


@pytest.fixture
def place(ctx) -> Place:
    """街道/社区/网格/楼栋/单元 with two rooms."""
    street = grid.create_unit(ctx, None, "street", "幸福街道").id
    community = grid.create_unit(ctx, street, "community", "阳光社区").id
    g = grid.create_unit(ctx, community, "grid", "第一网格").id
    building = grid.create_unit(ctx, g, "building", "1号楼", floors=6).id
    unit = grid.create_unit(ctx, building, "unit", "1单元").id
    h1 = houses.create_house(ctx, unit, {"room_no": "101", "floor": 1}).id
    h2 = houses.create_house(ctx, unit, {"room_no": "102", "floor": 1}).id
    return Place(street, community, g, building, unit, h1, h2)


@pytest.fixture
def family(ctx, place):
    """A household in room 101: head 王建国, wife 李秀英, son 王小明. Returns (hh_id, ids)."""
    from shequ_desktop.population import residents

    hh = households.create_household(ctx, place.house, {
        "name": "王建国", "id_number": make_id("1970-05-06", "1"), "phone": "13912345678"})
    head = hh.changes[1].id
    wife = residents.add_member(ctx, hh.id, {"name": "李秀英",
                                             "id_number": make_id("1972-03-08", "2")}, "妻").id
    son = residents.add_member(ctx, hh.id, {"name": "王小明",
                                            "id_number": make_id("2001-09-01", "1"),
                                            "moved_in_at": "2010-01-01"}, "子").id
    return hh.id, {"head": head, "wife": wife, "son": son}


TODAY = dt.date.today()
