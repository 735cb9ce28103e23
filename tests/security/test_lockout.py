"""Lock-out that holds against many programs at once (issue 18): each try is counted under the
key file's lock before the password is tried; a lock left by a dead program is broken; the
key file is readable by its owner only."""
import stat
import subprocess
import sys
import threading

import pytest

from shequ_desktop.core import keys

DB_KEY = bytes(range(32))


@pytest.fixture
def keyfile(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)
    kf = keys.KeyFile.create(tmp_path / "shequ.db")
    kf.set_password("admin", "Jiedao2026", DB_KEY)
    return tmp_path / "shequ.db"


def test_forty_parallel_wrong_guesses_get_only_the_allowed_number_of_tries(keyfile,
                                                                           monkeypatch):
    tried = []
    real = keys._kek
    monkeypatch.setattr(keys, "_kek", lambda *a: tried.append(1) or real(*a))
    ready = threading.Barrier(40)
    outcomes = []

    def guess(n):
        program = keys.KeyFile.load(keyfile)          # each read the file before any failure
        ready.wait()
        try:
            program.unwrap("admin", f"guess-{n:04d}")
            outcomes.append("opened")
        except keys.DomainError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 40 and "opened" not in outcomes
    assert len(tried) <= keys.MAX_FAILURES
    with pytest.raises(keys.AccountLocked):
        keys.KeyFile.load(keyfile).unwrap("admin", "Jiedao2026")   # locked, even the right one
    assert len(keys.KeyFile.load(keyfile).take_failures()) == len(tried)
    assert not keyfile.with_name("shequ.db.keys.lock").exists()


def test_a_lock_left_by_a_dead_program_is_broken_and_the_failure_counted(keyfile):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    lock = keyfile.with_name("shequ.db.keys.lock")
    lock.write_text(dead, encoding="ascii")
    with pytest.raises(keys.WrongPassword, match="再错 4 次"):
        keys.KeyFile.load(keyfile).unwrap("admin", "wrong-one")
    assert not lock.exists()
    assert keys.KeyFile.load(keyfile).data["users"]["admin"]["failed"] == 1


def test_a_lock_held_by_a_live_program_refuses_the_try_instead_of_not_counting_it(
        keyfile, monkeypatch):
    tried = []
    real = keys._kek
    monkeypatch.setattr(keys, "_kek", lambda *a: tried.append(1) or real(*a))
    monkeypatch.setattr(keys, "LOCK_WAIT_S", 0)
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"],
                              stdin=subprocess.PIPE)
    lock = keyfile.with_name("shequ.db.keys.lock")
    lock.write_text(str(holder.pid), encoding="ascii")
    try:
        with pytest.raises(keys.KeyFileBusy):
            keys.KeyFile.load(keyfile).unwrap("admin", "wrong-one")
        assert tried == []                                  # not tried uncounted
    finally:
        holder.stdin.close()
        holder.wait()
        lock.unlink()


def test_the_key_file_is_readable_by_its_owner_only(keyfile):       # POSIX permissions
    mode = stat.S_IMODE(keyfile.with_name("shequ.db.keys").stat().st_mode)
    assert mode == 0o600
