"""A full disk during an import (issue 18): one clear message, and the truth about what was
committed. The disk fills through SQLite's own page limit on the connection (max_page_count:
SQLITE_FULL, as from a full disk), or its writes fail after the commit."""
import datetime as dt

import pytest

import db
from db.driver import sqlite3
from shequ_desktop.core import context
from shequ_desktop.cli.main import main
from tests.conftest import make_id
from tests.transfer.test_import_cli import residents
from tests.transfer.test_import import write_xlsx

HEADERS = ["姓名", "公民身份号码", "与户主关系", "现住址"]


def sheet(path, n, start=0):
    born = [(dt.date(1950, 1, 1) + dt.timedelta(days=i)).isoformat()
            for i in range(start, start + n)]
    rows = [[f"居民{i}", make_id(day, "1", seq=i % 400), "户主",
             f"{i // 10 + 1}号楼{i % 10 + 1}01"] for i, day in zip(range(start, start + n), born)]
    return write_xlsx(path, rows, headers=HEADERS, title=None)


@pytest.fixture
def office(tmp_path, capsys):
    path = tmp_path / "office.db"
    assert main(["init", "--db", str(path), "--community", "向阳社区"]) == 0
    capsys.readouterr()
    return path


def fill_up(monkeypatch, spare_pages):
    """Every connection opened from now on may grow its file by `spare_pages` pages only."""
    real = db.open_db

    def opened(path, **kwargs):
        conn = real(path, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + spare_pages}")
        return conn

    monkeypatch.setattr(db, "open_db", opened)


def test_a_disk_that_fills_during_an_import_gives_one_message_and_keeps_nothing(
        office, tmp_path, monkeypatch, capsys):
    big = sheet(tmp_path / "big.xlsx", 1500)
    fill_up(monkeypatch, 20)
    code = main(["import", str(big), "--db", str(office)])
    err = capsys.readouterr().err
    assert code == 2 and "磁盘空间不足" in err and "未保存" in err
    assert err.count("错误") == 1
    monkeypatch.undo()
    assert residents(office) == 0                              # the truth: nothing was committed
    small = sheet(tmp_path / "small.xlsx", 30, start=2000)
    assert main(["import", str(small), "--db", str(office)]) == 0        # space again
    assert residents(office) == 30


def test_writes_failing_after_the_commit_do_not_undo_the_report_of_it(
        office, tmp_path, monkeypatch, capsys):
    def full(_conn):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(context, "analyze", full)          # the statistics after the load
    code = main(["import", str(sheet(tmp_path / "s.xlsx", 40)), "--db", str(office)])
    out, err = capsys.readouterr()
    assert code == 0 and "新增 40" in out, err
    assert residents(office) == 40


def test_a_backup_to_a_full_stick_says_the_copy_failed_not_the_database(office, tmp_path,
                                                                        monkeypatch):
    import errno
    import os

    from db import backup as copying
    from shequ_desktop.security import backups

    def full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(copying.os, "fsync", full)        # the stick's writes fail
    conn = db.open_db(office)
    with pytest.raises(db.StorageError) as refused:
        backups.make_backup(conn, tmp_path / "usb", "测试")
    conn.close()
    assert "副本没有写成" in str(refused.value) and "数据库本身没有受影响" in str(refused.value)
    assert "未保存" not in str(refused.value)
    assert not [f for f in (tmp_path / "usb").iterdir() if f.suffix in (".db", ".partial")]
