"""One door for the command line (issue 18): every `shequ` command that works on an existing
database opens it here, signs in, and gets the same Context as the GUI — the signed-in user's
name for the audit trail and their role and grid scope (Context.access).

Signing in: SHEQU_RECOVERY_KEY (the holder of the database key: an administrator), or a user
name (--user, else SHEQU_USER, else the only user, else asked) and password (SHEQU_PASSWORD,
else asked at the terminal), checked against the key file every time, even when this process
already knows the key. Each session is recorded in the audit trail as a login. A plain database
without users (made by `shequ init` or an older version) works as before: no sign-in, every
right, and --user (else SHEQU_USER) names who acted.

What a command needs is declared with its parser: `set_defaults(needs=READ|WRITE|ADMIN)`.
"""
from __future__ import annotations

import os
import sys

from shequ_desktop.core.access import ADMIN, READ_ONLY, Access, NotPermitted, is_admin
from shequ_desktop.core.errors import DomainError, ReadOnlyError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

READ, WRITE, ADMIN_ONLY = "read", "write", "admin"
RECOVERY_USER = "恢复密钥"
DEFAULT_USER = "管理员"           # a plain database without users, as before
NEEDS_ADMIN = "只有管理员可以{what}"
WHAT = {"backup": "备份数据库", "restore": "从备份恢复数据库", "users": "管理用户"}


def command_name(args) -> str:
    """`package export`, `users add`, `check`: for messages and the login entry."""
    parts = [args.command]
    for key, value in vars(args).items():
        if key.endswith("_command") and value:
            parts.append(value)
    return " ".join(parts)


def open_context(args, environ=os.environ, ask=None):
    """The signed-in Context for a command with --db (see the module's docstring). Raises
    DomainError (exit 2) with a Chinese message when the user may not run it."""
    import db
    from db import StorageError
    from db.driver import sqlite3 as driver
    from shequ_desktop.core.context import Context
    from shequ_desktop.core.keys import KeyFile
    from shequ_desktop.security import unlock, users

    ask = ask or unlock.ask
    db_file = args.db
    command = command_name(args)
    needs = getattr(args, "needs", READ)
    named = getattr(args, "user", None)
    if getattr(args, "must_exist", False) and not os.path.isfile(db_file):
        raise DomainError(f"数据库文件“{db_file}”不存在，请检查 --db 的路径")
    if environ.get("SHEQU_RECOVERY_KEY") and db.is_encrypted(db_file):
        unlock.check_recovery_key(db_file, environ["SHEQU_RECOVERY_KEY"])
        ctx = Context(db.open_db(db_file), RECOVERY_USER)
        ctx.access = Access(ADMIN)
        unlock.recovery_shown(db_file)             # its holder has it
        _record(ctx, "login", f"用恢复密钥登录（命令行：{command}）")
        return ctx
    if db.is_encrypted(db_file):
        if not unlock.has_key_file(db_file):
            raise DomainError(f"数据库已加密，但找不到密钥文件“{KeyFile.path_for(db_file)}”："
                              "请设置环境变量 SHEQU_RECOVERY_KEY（恢复密钥）")
        conn = None
    else:
        conn = db.open_db(db_file)
        if users.needs_admin(conn):                      # no users: as before
            ctx = Context(conn, named or environ.get("SHEQU_USER") or DEFAULT_USER)
            return ctx
        if not unlock.has_key_file(db_file):
            conn.close()
            raise DomainError(f"数据库有用户，但找不到密钥文件“{KeyFile.path_for(db_file)}”，"
                              "无法核对密码：请从备份恢复密钥文件")
    keyfile = KeyFile.load(db_file)
    env = dict(environ)
    if named:
        env["SHEQU_USER"] = named
    username, password = unlock.credentials(db_file, env, ask)
    try:
        key = keyfile.unwrap(username.strip(), password)      # the password check, every time
    except DomainError:
        if conn is not None:
            conn.close()
        raise
    if conn is not None:                 # users, not encrypted: a first encryption was killed
        conn.close()
        unlock.encrypt_plain(db_file, key)
        warn(f"已完成数据库“{db_file}”上次被中断的加密")
    db.use_key(db_file, key)
    conn = db.open_db(db_file)
    try:
        user = users.load(conn, username.strip())
    except DomainError:
        conn.close()
        raise DomainError("用户名或密码错误，或该用户已停用") from None
    if user.role == ADMIN and unlock.recovery_pending(db_file):
        show_recovery_key(db_file, key)
    ctx = Context(conn, user.username)
    ctx.access = user.access
    try:
        users.record_login(conn, db_file, user, keyfile, via=f"命令行：{command}")
    except (StorageError, driver.Error) as exc:       # a damaged file: `check` still runs
        warn(f"注意：无法在审计日志中记录这次登录（{exc}）")
    check_allowed(ctx, needs, args.command)
    return ctx


def show_recovery_key(db_file, key: bytes) -> None:
    """The recovery key that was never shown (the first encryption, or the command that made
    the database, was killed before showing it): shown once, to an administrator."""
    from shequ_desktop.core.keys import recovery_text
    from shequ_desktop.security import unlock

    warn("这个数据库的恢复密钥在建立时未能显示。请现在打印或抄写，离线保管"
         f"（只显示这一次）：\n{recovery_text(key)}")
    unlock.recovery_shown(db_file)


def password_holder(args, environ=os.environ, ask=None) -> str:
    """For a database that cannot be opened (damaged): the name of whoever proves a password
    of its key file, or the recovery key; as before for a plain one without a key file."""
    import db
    from shequ_desktop.core.keys import KeyFile
    from shequ_desktop.security import unlock

    if environ.get("SHEQU_RECOVERY_KEY") and db.is_encrypted(args.db):
        unlock.check_recovery_key(args.db, environ["SHEQU_RECOVERY_KEY"])
        return RECOVERY_USER
    if not unlock.has_key_file(args.db):
        if db.is_encrypted(args.db):
            raise DomainError("数据库已加密，但找不到密钥文件：请设置环境变量 SHEQU_RECOVERY_KEY（恢复密钥）")
        return getattr(args, "user", None) or environ.get("SHEQU_USER") or DEFAULT_USER
    env = dict(environ)
    if getattr(args, "user", None):
        env["SHEQU_USER"] = args.user
    username, password = unlock.credentials(args.db, env, ask or unlock.ask)
    key = KeyFile.load(args.db).unwrap(username.strip(), password)
    db.use_key(args.db, key)
    return username.strip()


def check_allowed(ctx, needs: str, command: str) -> None:
    """Refuse, before anything is done, a command the signed-in user's role does not allow."""
    access = ctx.access
    if is_admin(access):
        return
    if needs == ADMIN_ONLY:
        raise NotPermitted(NEEDS_ADMIN.format(what=WHAT.get(command, f"运行“{command}”")))
    if needs == WRITE and access.role == READ_ONLY:
        raise ReadOnlyError("只读用户不能修改数据")


def _record(ctx, action: str, summary: str) -> None:
    from shequ_desktop.core import audit

    audit.record(ctx.conn, ctx.user, action, summary=summary)


def default_unit(ctx, unit_id: int | None) -> int | None:
    """A 网格员's command without --unit covers their one grid (several: they must choose)."""
    access = ctx.access
    if unit_id is not None or access is None or not access.restricted:
        return unit_id
    roots = access.roots(ctx.conn)
    if len(roots) == 1:
        return roots[0]
    from shequ_desktop.core.tree import unit_name
    raise DomainError("你负责多个网格，请用 --unit 指定一个："
                      + "、".join(unit_name(ctx.conn, u) for u in roots))


def warn(text: str) -> None:
    print(text, file=sys.stderr)
