"""The database key and who may unwrap it (encryption at rest, DESIGN.md §5).

A random 32-byte key encrypts the database. It is kept beside the database in `<db>.keys`
(JSON), wrapped once per user: scrypt(password, salt) gives a key-encryption key, and
AES-256-GCM seals the database key with it (the user name is authenticated data). Being able
to unwrap is the password check: no password hash is stored anywhere else, and a wrong
password is refused by the authentication tag. Changing a password re-wraps the key; the data
is never re-encrypted.

The recovery key is the database key itself, written as 13 groups of 4 base32 characters: it
is printed at setup and kept offline, and opens the database even without this file.

Failed attempts and lock-outs live here too: the database cannot be read before a login.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from shequ_desktop.core.errors import DomainError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1       # ~0.1 s and 32 MB per attempt
MAX_FAILURES = 5
UNKNOWN_USER = "（未知用户名）"
LOCK_MINUTES = 5
KEY_BYTES = 32
LOCK_WAIT_S = 10
_ENTRY_KEYS = {"salt", "nonce", "key", "n", "r", "p"}


class WrongPassword(DomainError):
    pass


class AccountLocked(DomainError):
    pass


class KeyFileBusy(DomainError):
    """Another program holds the key file's lock (and is alive): nothing may be counted."""


class KeyFileReadOnly(DomainError):
    """The key file's folder cannot be written (a write-protected USB stick)."""


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < 8:
        return "密码至少需要 8 个字符"
    if password.isdigit():
        return "密码不能全是数字，请加入字母或符号"
    return None


def new_db_key() -> bytes:
    return os.urandom(KEY_BYTES)


def recovery_text(db_key: bytes) -> str:
    """ABCD-EFGH-… (52 base32 characters in groups of 4)."""
    text = base64.b32encode(db_key).decode("ascii").rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def from_recovery_text(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("018", "OIB"))   # digits misread for letters
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError("恢复密钥不正确：应为 52 个字母和数字（可带短横线），请逐组核对")
    return key


def _kek(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    import hashlib
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DomainError(f"找不到密钥文件“{path}”。它应与数据库放在同一文件夹；"
                          "如已丢失，请从备份恢复。") from None
    except (OSError, ValueError) as exc:
        raise DomainError(f"密钥文件“{path}”已损坏或无法读取：{exc}") from None
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(
            isinstance(e, dict) and _ENTRY_KEYS <= set(e) for e in entries.values()):
        raise DomainError(f"密钥文件“{path}”已损坏（内容不完整），请从备份恢复。")
    return data


def _stale(lock: Path) -> bool:
    """A lock left by a program that is gone: its process no longer runs (POSIX), or it is
    older than a minute (anywhere)."""
    if time.time() - lock.stat().st_mtime > 60:
        return True
    if os.name == "nt":                  # os.kill(pid, 0) is not a question there
        return False
    try:
        pid = int(lock.read_text(encoding="ascii") or "0")
    except (OSError, ValueError):
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


@dataclass
class KeyFile:
    path: Path
    data: dict

    @staticmethod
    def path_for(db_file: str | os.PathLike) -> Path:
        return Path(f"{os.fspath(db_file)}.keys")

    @classmethod
    def load(cls, db_file: str | os.PathLike) -> "KeyFile":
        path = cls.path_for(db_file)
        return cls(path, _read(path))

    @classmethod
    def create(cls, db_file: str | os.PathLike) -> "KeyFile":
        return cls(cls.path_for(db_file), {"version": 1, "users": {}, "failures": []})

    @contextlib.contextmanager
    def _locked(self):
        """Changes are made under a lock file and on the file as it is now, so two programs
        changing users or counting failures at once do not undo each other's change."""
        lock = self.path.with_name(self.path.name + ".lock")
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.write(handle, str(os.getpid()).encode("ascii"))
                break
            except FileExistsError:
                pass
            except OSError as exc:
                raise KeyFileReadOnly(f"无法修改密钥文件“{self.path}”（{exc.strerror or exc}）："
                                      "文件夹可能是只读的或U盘已写保护") from None
            try:
                if _stale(lock):                                 # left by a crash
                    lock.unlink(missing_ok=True)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() > deadline:
                raise KeyFileBusy(f"密钥文件“{self.path}”正被另一个程序修改，请稍后再试")
            time.sleep(0.05)      # waiting for another program, not guessing a duration
        try:
            if self.path.exists():
                self.data = _read(self.path)
            yield self.data
            self.save()
        finally:
            os.close(handle)
            lock.unlink(missing_ok=True)

    def save(self) -> None:
        """Written to a temporary file, flushed, then renamed: never half-written."""
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with contextlib.suppress(OSError):
                os.chmod(partial, 0o600)                # only its owner reads it, where the
            with open(descriptor, "w", encoding="utf-8") as handle:   # OS allows
                json.dump(self.data, handle, ensure_ascii=False, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DomainError(f"无法写入密钥文件“{self.path}”（{exc.strerror or exc}）"
                              "，本次修改未保存") from None

    # --- users ------------------------------------------------------------------------------
    def demo_login(self) -> tuple[str, str] | None:
        """The demo database's documented user name and password, filled in at sign-in."""
        found = self.data.get("demo_login")
        return tuple(found) if found else None

    def set_demo_login(self, username: str, password: str) -> None:
        with self._locked() as data:
            data["demo_login"] = [username, password]

    # --- the recovery key not yet shown (issue 18) -----------------------------------------
    def recovery_pending(self) -> bool:
        """The first administrator was made under a new key whose recovery key has not been
        shown yet (the program or command was killed before): shown at the next sign-in of
        an administrator."""
        return bool(self.data.get("recovery_pending"))

    def set_recovery_pending(self, pending: bool) -> None:
        with self._locked() as data:
            if pending:
                data["recovery_pending"] = True
            else:
                data.pop("recovery_pending", None)

    # --- the audit trail's anchor (issue 18) -----------------------------------------------
    def audit_anchor(self) -> dict | None:
        """{"id", "hash"} of an audit entry as it was when last anchored: a chain rewritten
        through the database alone no longer holds this hash (audit.broken_links)."""
        found = self.data.get("audit_anchor")
        return found if isinstance(found, dict) and {"id", "hash"} <= set(found) else None

    def set_audit_anchor(self, entry_id: int, digest: str, *, restored: bool = False) -> None:
        """Move the anchor forward (never back, an older one is evidence; except right after
        a restore put an older database in place)."""
        with self._locked() as data:
            old = data.get("audit_anchor")
            if (not restored and isinstance(old, dict) and isinstance(old.get("id"), int)
                    and old["id"] > entry_id):
                return
            data["audit_anchor"] = {"id": entry_id, "hash": digest}

    def users(self) -> list[str]:
        return sorted(self.data["users"])

    def set_password(self, username: str, password: str, db_key: bytes) -> None:
        """Wrap the database key for a user (a new user, or an administrator's reset)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        problem = password_problem(password)
        if problem:
            raise DomainError(problem)
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(_kek(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(
            nonce, db_key, username.encode("utf-8"))
        with self._locked() as data:
            if (data.get("demo_login") or [None])[0] == username:
                data.pop("demo_login")             # no longer the documented password
            data["users"][username] = {
                "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": _b64(salt), "nonce": _b64(nonce), "key": _b64(sealed),
                "failed": 0, "locked_until": None}

    def remove_user(self, username: str) -> None:
        with self._locked() as data:
            data["users"].pop(username, None)

    def unwrap(self, username: str, password: str, *, now: dt.datetime | None = None) -> bytes:
        """The database key, if the password is right. Five wrong passwords in a row lock the
        account for five minutes; every failure is kept for the audit trail. Each attempt is
        counted under the key file's lock before the password is tried, so many programs
        guessing at once get no more tries than one (a write-protected folder, where nothing
        can be counted, still lets its users in)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        now = now or _now()
        entry = self.data["users"].get(username)
        if entry is None:          # what was typed may be a password: it is kept nowhere
            self._fail(UNKNOWN_USER, now)
            raise WrongPassword("用户名或密码错误")
        counted = self._count_attempt(username, now)
        entry = self.data["users"].get(username, entry)
        try:
            key = AESGCM(_kek(password, base64.b64decode(entry["salt"]), entry["n"],
                              entry["r"], entry["p"])).decrypt(
                base64.b64decode(entry["nonce"]), base64.b64decode(entry["key"]),
                username.encode("utf-8"))
        except InvalidTag:
            left = MAX_FAILURES
            with contextlib.suppress(KeyFileReadOnly):    # a write-protected folder
                with self._locked() as data:
                    entry = data["users"].get(username, entry)
                    if not counted:
                        entry["failed"] = entry.get("failed", 0) + 1
                    left = MAX_FAILURES - entry.get("failed", 0)
                    if left <= 0 and not entry.get("locked_until"):
                        entry["failed"] = 0
                        entry["locked_until"] = (
                            now + dt.timedelta(minutes=LOCK_MINUTES)).isoformat()
                    data.setdefault("failures", []).append({"user": username,
                                                            "at": now.isoformat()})
            if left <= 0:
                raise AccountLocked(f"密码连续输错 {MAX_FAILURES} 次，账户已锁定 "
                                    f"{LOCK_MINUTES} 分钟") from None
            raise WrongPassword(f"用户名或密码错误（再错 {left} 次将锁定 {LOCK_MINUTES} 分钟）"
                                ) from None
        if counted or entry.get("failed") or entry.get("locked_until"):
            with contextlib.suppress(KeyFileReadOnly):
                with self._locked() as data:
                    if username in data["users"]:
                        data["users"][username].update(failed=0, locked_until=None)
        return key

    def _count_attempt(self, username: str, now: dt.datetime) -> bool:
        """Under the lock: refuse a locked account (AccountLocked), or one that has used up
        its tries while others were guessing (locking it); else count this attempt as a
        failure until it proves right. False when nothing could be counted (read-only)."""
        locked_now = False
        try:
            with self._locked() as data:
                entry = data["users"].get(username)
                if entry is None:
                    raise WrongPassword("用户名或密码错误")
                locked = entry.get("locked_until")
                if locked and dt.datetime.fromisoformat(locked) > now:
                    minutes = -(-(dt.datetime.fromisoformat(locked) - now).seconds // 60)
                    raise AccountLocked(f"密码连续输错 {MAX_FAILURES} 次，账户已锁定，"
                                        f"请 {minutes} 分钟后再试")
                if entry.get("failed", 0) >= MAX_FAILURES:        # tries used up meanwhile
                    entry["failed"] = 0
                    entry["locked_until"] = (now + dt.timedelta(minutes=LOCK_MINUTES)).isoformat()
                    locked_now = True
                else:
                    entry["failed"] = entry.get("failed", 0) + 1
                    entry["locked_until"] = None
        except KeyFileReadOnly:
            locked = self.data["users"][username].get("locked_until")
            if locked and dt.datetime.fromisoformat(locked) > now:
                raise AccountLocked(f"密码连续输错 {MAX_FAILURES} 次，账户已锁定，请稍后再试") from None
            return False
        if locked_now:
            raise AccountLocked(f"密码连续输错 {MAX_FAILURES} 次，账户已锁定 {LOCK_MINUTES} 分钟")
        return True

    def change_password(self, username: str, old: str, new: str) -> None:
        self.set_password(username, new, self.unwrap(username, old))

    def _fail(self, username: str, now: dt.datetime) -> None:
        with contextlib.suppress(KeyFileReadOnly):    # a write-protected folder: not kept
            with self._locked() as data:
                data.setdefault("failures", []).append({"user": username,
                                                        "at": now.isoformat()})

    def take_failures(self) -> list[dict]:
        """Failed attempts since the last login, to be written to the audit trail once the
        database is open (then forgotten here)."""
        with self._locked() as data:
            failures, data["failures"] = data.get("failures", []), []
        return failures
