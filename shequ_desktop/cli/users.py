"""`shequ users` (issue 18): administrators manage users without the GUI.

    shequ users add --db PATH NAME --role 管理员|网格员|只读 [--unit CODE …] [--display-name N]
    shequ users list --db PATH [--json]
    shequ users disable --db PATH NAME

The new user's password comes from SHEQU_NEW_PASSWORD, else it is asked twice at the terminal.
Users exist only in an encrypted database (their password unwraps its key): a plain one is
encrypted first with `shequ encrypt`, which makes its first administrator.
"""
from __future__ import annotations

import json
import os
import sys

from shequ_desktop.cli.session import ADMIN_ONLY
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

NEW_PASSWORD_ENV = "SHEQU_NEW_PASSWORD"


def _key_and_file(args):
    import db
    from shequ_desktop.core.keys import KeyFile

    key = db.key_of(args.db)
    if key is None or not db.is_encrypted(args.db):
        raise DomainError("这个数据库未加密，还没有用户：请先用 shequ encrypt 加密并建立管理员")
    return key, KeyFile.load(args.db)


def _user_id(conn, name: str) -> int:
    row = conn.execute("SELECT id FROM users WHERE username = ?", (name,)).fetchone()
    if row is None:
        raise DomainError(f"没有用户“{name}”")
    return row[0]


def _add(args) -> int:
    from shequ_desktop.core import tree
    from shequ_desktop.security import unlock, users

    ctx = args.ctx
    key, keyfile = _key_and_file(args)
    units = [tree.unit_by_code(ctx.conn, code) for code in args.unit or ()]
    password = os.environ.get(NEW_PASSWORD_ENV)
    if not password:
        password = unlock.ask(f"为“{args.name}”设置密码：", True)
        if unlock.ask("再输一次：", True) != password:
            raise DomainError("两次输入的密码不一致")
    users.create_user(ctx, keyfile, key, args.name, password, args.role, units,
                      display_name=args.display_name)
    print(f"已添加用户“{args.name}”（{args.role}）")
    return 0


def _list(args) -> int:
    from shequ_desktop.security import users

    for row in users.all_users(args.ctx.conn):
        out = {"username": row["username"], "display_name": row["display_name"],
               "role": row["role"], "units": row["units"] or "",
               "active": bool(row["active"])}
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            print("\t".join([out["username"], out["display_name"] or "", out["role"],
                             out["units"], "启用" if out["active"] else "停用"]))
    return 0


def _disable(args) -> int:
    from shequ_desktop.security import users

    ctx = args.ctx
    _key, keyfile = _key_and_file(args)
    users.deactivate(ctx, keyfile, _user_id(ctx.conn, args.name))
    print(f"已停用用户“{args.name}”", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    from shequ_desktop.core.access import ROLES

    group = sub.add_parser("users", help="用户管理（管理员）：添加、列出、停用").add_subparsers(
        dest="users_command", required=True, metavar="子命令")
    p = group.add_parser("add", help=f"添加用户（密码取自环境变量 {NEW_PASSWORD_ENV} 或终端输入）")
    p.add_argument("--db", required=True)
    p.add_argument("name", help="用户名")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--unit", action="append", metavar="CODE",
                   help="网格员负责的网格（编码或名称，可重复）")
    p.add_argument("--display-name", help="显示的姓名")
    p.set_defaults(run=_add, needs=ADMIN_ONLY, must_exist=True)

    p = group.add_parser("list", help="列出用户")
    p.add_argument("--db", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_list, needs=ADMIN_ONLY, must_exist=True)

    p = group.add_parser("disable", help="停用用户（保留在审计日志中，不能再登录）")
    p.add_argument("--db", required=True)
    p.add_argument("name", help="用户名")
    p.set_defaults(run=_disable, needs=ADMIN_ONLY, must_exist=True)
