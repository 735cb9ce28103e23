"""Rotation keys on the order backups were made, not on the PC's clock (issue 18): with the
clock behind the newest backup, new automatic backups are not rotated away at once."""
import datetime as dt

import db
from shequ_desktop.security import backups
from shequ_desktop.demo import street as demo


def test_a_clock_behind_the_newest_backup_does_not_rotate_new_backups_away(tmp_path):
    path = tmp_path / "office.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=30, seed=2)
    folder = tmp_path / "usb"
    right = dt.datetime(2025, 11, 21, 9, 0)
    for n in range(40):                             # 400 days with the right clock
        backups.make_backup(conn, folder, "测试", now=right + dt.timedelta(days=10 * n))
    wrong = dt.datetime(2024, 3, 1, 9, 0)           # then the CMOS battery dies
    made = [backups.make_backup(conn, folder, "测试", now=wrong + dt.timedelta(hours=h))
            for h in range(3)]
    conn.close()
    left = [f for _t, f in backups.backups(folder, "office", db_id_of(path))]
    assert made[-1].exists() and left[0] == made[-1]       # the last made counts as newest
    assert backups.newest_good(folder, "office", db_id_of(path)) == made[-1]
    assert len(left) <= 7 + 4 + 12 + 1


def db_id_of(path):
    conn = db.open_db(path)
    try:
        return backups.database_id(conn, create=False)
    finally:
        conn.close()
