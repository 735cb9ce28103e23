"""The command line on encrypted databases (real processes): the password from SHEQU_PASSWORD
or a terminal, the recovery key from SHEQU_RECOVERY_KEY, and `shequ encrypt` for a plain one."""
import os
import subprocess
import sys

import pytest

import db
from shequ_desktop.core import keys


def shequ(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SHEQU_")}
    environ["SHEQU_DATA_DIR"] = os.environ["SHEQU_DATA_DIR"]
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "shequ_desktop", *args], env=environ,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("enc") / "demo.db"
    made = shequ("demo", "--db", str(path), "--residents", "200", "--seed", "4")
    assert made.returncode == 0, made.stderr
    return path


def test_demo_is_born_encrypted_and_opens_with_the_documented_password(demo_file):
    assert db.is_encrypted(demo_file)
    refused = shequ("search", "--db", str(demo_file), "王", "--json")
    assert refused.returncode == 2 and "SHEQU_PASSWORD" in refused.stderr
    wrong = shequ("search", "--db", str(demo_file), "王", SHEQU_PASSWORD="not-the-one")
    assert wrong.returncode == 2 and "用户名或密码错误" in wrong.stderr
    found = shequ("search", "--db", str(demo_file), "王", "--json", SHEQU_PASSWORD="demo2026")
    assert found.returncode == 0 and "王" in found.stdout
    checked = shequ("check", "--db", str(demo_file), SHEQU_USER="admin",
                    SHEQU_PASSWORD="demo2026")
    assert checked.returncode == 0 and "全部检查通过" in checked.stdout


def test_a_backup_from_the_command_line_stays_encrypted(demo_file, tmp_path):
    target = tmp_path / "copy.db"
    done = shequ("backup", "--db", str(demo_file), "-o", str(target), SHEQU_PASSWORD="demo2026")
    assert done.returncode == 0, done.stderr
    assert db.is_encrypted(target)
    assert shequ("check", "--db", str(target)).returncode == 2      # no key: not readable


def test_encrypt_a_plain_database_and_open_it_with_the_recovery_key(tmp_path):
    path = tmp_path / "old.db"
    assert shequ("init", "--db", str(path), "--community", "向阳社区").returncode == 0
    assert not db.is_encrypted(path) and "向阳社区".encode() in path.read_bytes()
    from shequ_desktop.security import backups
    conn = db.open_db(path)
    old_backup = backups.make_backup(conn, tmp_path / "usb", "系统")
    conn.close()
    assert not db.is_encrypted(old_backup)
    short = shequ("encrypt", "--db", str(path), SHEQU_PASSWORD="12345678")
    assert short.returncode == 2 and "不能全是数字" in short.stderr
    assert not db.is_encrypted(path)
    done = shequ("encrypt", "--db", str(path), "--backups", str(tmp_path / "usb"),
                 SHEQU_PASSWORD="Admin-2026")
    assert done.returncode == 0, done.stderr
    assert db.is_encrypted(old_backup) and "以前的 1 个备份" in done.stderr
    recovery = done.stdout.strip()
    assert len(keys.from_recovery_text(recovery)) == 32 and "恢复密钥" in done.stderr
    assert db.is_encrypted(path) and "向阳社区".encode() not in path.read_bytes()
    assert shequ("encrypt", "--db", str(path)).returncode == 0          # already: nothing to do
    checked = shequ("check", "--db", str(path), SHEQU_RECOVERY_KEY=recovery)
    assert checked.returncode == 0, checked.stderr
    assert shequ("check", "--db", str(path), SHEQU_PASSWORD="Admin-2026").returncode == 0
    other = keys.recovery_text(keys.new_db_key())
    assert "不符" in shequ("check", "--db", str(path), SHEQU_RECOVERY_KEY=other).stderr
