"""Program users: who they are, their role, their grid units (the database side), and their
password (the key file side, keys.py). Only an administrator manages users."""
from __future__ import annotations

import json
from dataclasses import dataclass

from db.driver import sqlite3
from shequ_desktop.core import audit
from shequ_desktop.core.access import ADMIN, GRID_WORKER, ROLES, Access, NotPermitted
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, NotFoundError
from shequ_desktop.core.keys import KeyFile, new_db_key, password_problem


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    unit_ids: frozenset[int]

    @property
    def access(self) -> Access:
        return Access(self.role, self.unit_ids)


def _require_admin(ctx: Context) -> None:
    if ctx.access is not None and ctx.access.role != ADMIN:
        raise NotPermitted("只有管理员可以管理用户")


def load(conn: sqlite3.Connection, username: str) -> User:
    row = conn.execute("SELECT id, username, display_name, role, unit_ids, active FROM users"
                       " WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise NotFoundError(f"没有用户“{username}”")
    if not row["active"]:
        raise DomainError(f"用户“{username}”已停用，请联系管理员")
    return User(row["id"], row["username"], row["display_name"] or row["username"],
                row["role"], frozenset(json.loads(row["unit_ids"])))


def all_users(conn: sqlite3.Connection) -> list[dict]:
    """Every user with `unit_ids` (a list) and `units` (their names, for showing)."""
    rows = [dict(r) for r in conn.execute(
        "SELECT u.id, u.username, u.display_name, u.role, u.active, u.unit_ids,"
        " (SELECT group_concat(g.name, '、') FROM json_each(u.unit_ids) x JOIN grid_units g"
        "  ON g.id = x.value) AS units"
        " FROM users u ORDER BY u.id")]
    for row in rows:
        row["unit_ids"] = json.loads(row["unit_ids"])
    return rows


def create_user(ctx: Context, keyfile: KeyFile, db_key: bytes, username: str, password: str,
                role: str, unit_ids=(), display_name: str | None = None) -> Result:
    _require_admin(ctx)
    username = (username or "").strip()
    if not username:
        raise DomainError("用户名不能为空")
    if role not in ROLES:
        raise DomainError(f"角色应为{'、'.join(ROLES)}之一")
    if role == GRID_WORKER and not unit_ids:
        raise DomainError("网格员至少要分配一个网格")
    problem = password_problem(password)
    if problem:
        raise DomainError(problem)
    if ctx.conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise DomainError(f"用户名“{username}”已被使用")
    with ctx.transaction():
        user_id, changes = ctx.insert("users", {"username": username, "role": role,
                                                "display_name": display_name,
                                                "unit_ids": json.dumps(sorted(unit_ids))})
        keyfile.set_password(username, password, db_key)   # last: only if all else held
    return Result(user_id, changes)


def set_units(ctx: Context, user_id: int, unit_ids) -> None:
    _require_admin(ctx)
    with ctx.transaction():
        ctx.update("users", user_id, {"unit_ids": json.dumps(sorted(unit_ids))})


def set_role(ctx: Context, user_id: int, role: str) -> None:
    _require_admin(ctx)
    if role not in ROLES:
        raise DomainError(f"角色应为{'、'.join(ROLES)}之一")
    with ctx.transaction():
        ctx.update("users", user_id, {"role": role})
        _keep_an_admin(ctx)


def deactivate(ctx: Context, keyfile: KeyFile, user_id: int) -> None:
    """A user who leaves: kept for the audit trail, but can no longer sign in."""
    _require_admin(ctx)
    with ctx.transaction():
        user = ctx.get("users", user_id)
        ctx.update("users", user_id, {"active": 0})
        _keep_an_admin(ctx)
        keyfile.remove_user(user["username"])


def reactivate(ctx: Context, keyfile: KeyFile, db_key: bytes, user_id: int,
               password: str) -> None:
    """A user stopped by mistake, or back: can sign in again, with a new password (their old
    wrapped key was removed when they were stopped)."""
    _require_admin(ctx)
    problem = password_problem(password)
    if problem:
        raise DomainError(problem)
    with ctx.transaction():
        user = ctx.get("users", user_id)
        ctx.update("users", user_id, {"active": 1})
        keyfile.set_password(user["username"], password, db_key)   # last: only if all else held


def reset_password(ctx: Context, keyfile: KeyFile, db_key: bytes, user_id: int,
                   password: str) -> None:
    _require_admin(ctx)
    user = ctx.get("users", user_id)
    keyfile.set_password(user["username"], password, db_key)
    audit.record(ctx.conn, ctx.user, "user", entity="users", entity_id=user_id,
                 summary=f"重设用户“{user['username']}”的密码")


def _keep_an_admin(ctx: Context) -> None:
    if not ctx.conn.execute("SELECT 1 FROM users WHERE role = ? AND active = 1",
                            (ADMIN,)).fetchone():
        raise DomainError("至少要保留一名启用的管理员")


# --- signing in ----------------------------------------------------------------------------
DEMO_USER, DEMO_PASSWORD = "admin", "demo2026"


def needs_admin(conn: sqlite3.Connection) -> bool:
    """A database without any active user: the first start creates the administrator."""
    return conn.execute("SELECT 1 FROM users WHERE active = 1 LIMIT 1").fetchone() is None


def create_first_admin(ctx: Context, db_file, username: str, password: str,
                       display_name: str | None = None, db_key: bytes | None = None) -> bytes:
    """The first administrator, with the database key (a new one unless given; returned: it
    is shown as the recovery key). A key file left from an earlier database of the same name
    is kept aside, not reused."""
    if not needs_admin(ctx.conn):
        raise DomainError("已经有用户了：请由管理员在“用户”页添加")
    path = KeyFile.path_for(db_file)
    if path.exists():
        path.rename(path.with_name(path.name + ".old"))
    db_key = db_key or new_db_key()
    keyfile = KeyFile.create(db_file)
    keyfile.data["recovery_pending"] = True      # until it has been shown (unlock.shown)
    create_user(ctx, keyfile, db_key, username, password, ADMIN, display_name=display_name)
    return db_key


def create_demo_admin(ctx: Context, db_file, db_key: bytes | None = None) -> bytes:
    """The demo database's documented administrator (README: admin / demo2026), whose login
    the sign-in dialog fills in (the key file says so: the database is not readable yet)."""
    db_key = create_first_admin(ctx, db_file, DEMO_USER, DEMO_PASSWORD, "演示管理员", db_key)
    keyfile = KeyFile.load(db_file)
    keyfile.set_demo_login(DEMO_USER, DEMO_PASSWORD)
    keyfile.set_recovery_pending(False)         # a demo: its login is documented instead
    return db_key


def sign_in(conn: sqlite3.Connection, db_file, username: str, password: str, *,
            record: bool = True) -> tuple[User, bytes]:
    """Check the password (by unwrapping the database key), load the user; record the login
    and the failed attempts before it in the audit trail (not on a read-only, damaged
    database: they stay in the key file until the next sign-in that can record them)."""
    keyfile = KeyFile.load(db_file)
    try:
        db_key = keyfile.unwrap(username.strip(), password)
        user = load(conn, username.strip())
    except DomainError:
        if record:
            _record_failures(conn, keyfile)
        raise
    if record:
        record_login(conn, db_file, user, keyfile)
    return user, db_key


def record_login(conn: sqlite3.Connection, db_file, user: User,
                 keyfile: KeyFile | None = None, via: str | None = None) -> None:
    """The login and the failed attempts before it (kept in the key file until the database
    could be read), in the audit trail; `via`: how (a command-line session says which)."""
    _record_failures(conn, keyfile or KeyFile.load(db_file))
    audit.record(conn, user.username, "login", entity="users", entity_id=user.id,
                 summary=f"{user.display_name}登录" + (f"（{via}）" if via else ""),
                 detail={"via": via} if via else None)
    audit.anchor(conn)


def _record_failures(conn: sqlite3.Connection, keyfile: KeyFile) -> None:
    try:
        failures = keyfile.take_failures()
    except DomainError:                   # a write-protected key file: they stay there
        return
    if failures:
        audit.append(conn, "系统", [("login_failed", "users", None,
                                     f"用户名“{f['user']}”登录失败（{f['at'][:19]}）",
                                     f) for f in failures])
