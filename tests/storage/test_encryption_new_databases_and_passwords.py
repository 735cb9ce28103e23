"""Encryption at rest (issue 4): new databases that are never left unopenable, passwords kept
nowhere they should not be, the demo login, and recovery keys on the command line."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shequ_desktop.security import unlock
from shequ_desktop.core.keys import KeyFile

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                          env=full, text=True, capture_output=True, stdin=subprocess.DEVNULL)


# The first start's 载入演示数据 (ui.start._new_database), killed by SIGKILL while the demo is
# being generated.
KILLED_DEMO = """
    import os, signal, sys
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from ui import background
    background.SYNCHRONOUS = True
    import shequ_desktop.demo.street as demo
    original = demo.generate
    def generate(conn, residents=8000, progress=None, **kw):
        def killed(done, total):
            if done > 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return True
        return original(conn, residents=residents, progress=killed, **kw)
    demo.generate = generate
    from pathlib import Path
    from ui import first_start, start
    first_start.DEMO_RESIDENTS = 300
    first_start.FirstStartDialog.exec = lambda dialog: (dialog._choose_demo(), 1)[1]
    start._new_database(Path(sys.argv[1]))
    print("not killed")
"""


def test_a_crash_while_a_new_database_is_filled_leaves_no_unopenable_file(tmp_path):
    path = tmp_path / "shequ.db"
    run = _run(KILLED_DEMO, str(path))
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    # either the name is still free (the next start offers the first start again), or the
    # file beside it lets someone open it
    assert unlock.is_new(path) or KeyFile.path_for(path).exists()


@pytest.fixture
def fast_scrypt(monkeypatch):
    from shequ_desktop.core import keys
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


@pytest.fixture
def new_db(tmp_path, fast_scrypt):
    """A new encrypted database with its first administrator (admin / 正确的密码abc)."""
    from shequ_desktop.security import users
    from shequ_desktop.core.context import Context

    path = tmp_path / "社区.db"
    conn, key = unlock.create_database(path)
    users.create_first_admin(Context(conn, "admin"), path, "admin", "正确的密码abc", db_key=key)
    yield path, conn
    conn.close()


def test_a_password_typed_as_the_user_name_is_kept_nowhere(new_db):
    from shequ_desktop.security import users
    from shequ_desktop.core.errors import DomainError

    path, conn = new_db
    with pytest.raises(DomainError):
        users.sign_in(conn, path, "我的密码Xy7!", "")
    users.sign_in(conn, path, "admin", "正确的密码abc")
    assert "我的密码Xy7!" not in KeyFile.path_for(path).read_text(encoding="utf-8")
    logged = [tuple(r) for r in conn.execute("SELECT * FROM audit_log")]
    assert logged and not any("我的密码Xy7!" in str(v) for r in logged for v in r)


def test_a_wrong_password_on_a_write_protected_stick_is_explained(new_db, monkeypatch):
    import errno

    from shequ_desktop.core.errors import DomainError

    path, _conn = new_db
    real_open = os.open

    def read_only(file, flags, *args):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, flags, *args)
    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(DomainError, match="密码"):
        unlock.unlock(path, "admin", "不对的密码123")


def test_the_demo_login_is_forgotten_once_its_password_is_changed(tmp_path, fast_scrypt):
    from shequ_desktop.security import users
    from shequ_desktop.core.context import Context

    path = tmp_path / "演示.db"
    conn, key = unlock.create_database(path)
    try:
        users.create_demo_admin(Context(conn, "系统"), path, key)
    finally:
        conn.close()
    keyfile = KeyFile.load(path)
    assert keyfile.demo_login() == (users.DEMO_USER, users.DEMO_PASSWORD)
    keyfile.change_password(users.DEMO_USER, users.DEMO_PASSWORD, "真正的新密码2026")
    assert KeyFile.load(path).demo_login() is None


def test_a_wrong_recovery_key_on_the_command_line_prints_only_the_explanation(tmp_path):
    demo = subprocess.run([sys.executable, "-m", "shequ_desktop", "demo", "--db",
                           str(tmp_path / "d.db"), "--residents", "30"], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    assert demo.returncode == 0, demo.stderr
    other = "-".join(["ABCD"] * 13)
    run = subprocess.run([sys.executable, "-m", "shequ_desktop", "check", "--db",
                          str(tmp_path / "d.db")], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), SHEQU_RECOVERY_KEY=other),
                         stdin=subprocess.DEVNULL)
    assert run.returncode != 0
    assert "恢复密钥与这个数据库不符" in run.stderr
    assert run.stderr.strip().splitlines() == [l for l in run.stderr.strip().splitlines()
                                               if "ERROR" not in l and "sqlcipher" not in l]
