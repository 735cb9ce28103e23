"""The key file: wrapped database keys, password rules, lock-out, recovery key."""
import datetime as dt
import json

import pytest

from shequ_desktop.core import keys
from shequ_desktop.core.errors import DomainError


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)          # the real cost is 0.1 s a try


@pytest.fixture
def keyfile(tmp_path):
    kf = keys.KeyFile.create(tmp_path / "shequ.db")
    kf.set_password("admin", "Jiedao2026", DB_KEY)
    return kf


DB_KEY = bytes(range(32))
NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("password, problem", [
    ("short1", "至少需要 8 个字符"), ("12345678", "不能全是数字"), ("网格员的密码很长", None),
    ("abcdefgh", None)])
def test_password_rules(password, problem):
    found = keys.password_problem(password)
    assert (found is None) if problem is None else (problem in found)


def test_the_right_password_unwraps_the_key_and_nothing_secret_is_stored(keyfile, tmp_path):
    again = keys.KeyFile.load(tmp_path / "shequ.db")
    assert again.unwrap("admin", "Jiedao2026", now=NOW) == DB_KEY
    text = (tmp_path / "shequ.db.keys").read_text(encoding="utf-8")
    assert "Jiedao2026" not in text and DB_KEY.hex() not in text
    entry = json.loads(text)["users"]["admin"]
    assert entry["kdf"] == "scrypt" and len(entry["salt"]) >= 16


def test_five_wrong_passwords_lock_the_account_for_five_minutes(keyfile):
    for left in (4, 3, 2, 1):
        with pytest.raises(keys.WrongPassword, match=f"再错 {left} 次"):
            keyfile.unwrap("admin", "wrong-one", now=NOW)
    with pytest.raises(keys.AccountLocked, match="锁定 5 分钟"):
        keyfile.unwrap("admin", "wrong-one", now=NOW)
    with pytest.raises(keys.AccountLocked, match="请 4 分钟后再试"):   # even the right one
        keyfile.unwrap("admin", "Jiedao2026", now=NOW + dt.timedelta(seconds=90))
    later = NOW + dt.timedelta(minutes=5, seconds=1)
    assert keyfile.unwrap("admin", "Jiedao2026", now=later) == DB_KEY
    failures = keyfile.take_failures()
    assert len(failures) == 5 and {f["user"] for f in failures} == {"admin"}
    assert keyfile.take_failures() == []


def test_unknown_user_gets_the_same_message_and_is_logged(keyfile):
    with pytest.raises(keys.WrongPassword, match="^用户名或密码错误$"):
        keyfile.unwrap("nobody", "whatever1", now=NOW)
    assert keyfile.take_failures()[0]["user"] == keys.UNKNOWN_USER    # the typed text is kept nowhere


def test_changing_a_password_rewraps_the_same_key(keyfile):
    keyfile.change_password("admin", "Jiedao2026", "NewPass-99")
    assert keyfile.unwrap("admin", "NewPass-99", now=NOW) == DB_KEY
    with pytest.raises(keys.WrongPassword):
        keyfile.unwrap("admin", "Jiedao2026", now=NOW)
    with pytest.raises(DomainError, match="不能全是数字"):
        keyfile.change_password("admin", "NewPass-99", "20261121")


def test_one_users_wrapped_key_does_not_open_for_another_name(keyfile):
    keyfile.data["users"]["mallory"] = dict(keyfile.data["users"]["admin"])
    with pytest.raises(keys.WrongPassword):
        keyfile.unwrap("mallory", "Jiedao2026", now=NOW)     # the name is authenticated


def test_recovery_key_round_trip_and_typing_mistakes():
    text = keys.recovery_text(DB_KEY)
    assert len(text.replace("-", "")) == 52 and text.count("-") == 12
    assert keys.from_recovery_text(text) == DB_KEY
    sloppy = text.lower().replace("-", " ").replace("o", "0")
    assert keys.from_recovery_text(sloppy) == DB_KEY
    with pytest.raises(ValueError, match="恢复密钥不正确"):
        keys.from_recovery_text(text[:-4])


def test_a_missing_or_mangled_key_file_is_explained(tmp_path):
    with pytest.raises(DomainError, match="找不到密钥文件.*从备份恢复"):
        keys.KeyFile.load(tmp_path / "none.db")
    for text in ("{not json", "{}", '{"users": {"admin": {"n": 1}}}'):
        (tmp_path / "bad.db.keys").write_text(text, encoding="utf-8")
        with pytest.raises(DomainError, match="已损坏"):
            keys.KeyFile.load(tmp_path / "bad.db")


def test_two_programs_changing_the_key_file_at_once_keep_both_changes(keyfile, tmp_path):
    import threading
    other = keys.KeyFile.load(tmp_path / "shequ.db")      # read before either change
    threads = [threading.Thread(target=kf.set_password, args=(name, "Password-1", DB_KEY))
               for kf, name in ((keyfile, "zhang"), (other, "li"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert keys.KeyFile.load(tmp_path / "shequ.db").users() == ["admin", "li", "zhang"]
    assert not (tmp_path / "shequ.db.keys.lock").exists()
