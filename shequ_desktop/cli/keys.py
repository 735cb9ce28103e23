"""`shequ encrypt`: encrypt a plain database (an older version's, or one made by `shequ init`).

The password comes from SHEQU_PASSWORD (user SHEQU_USER) or is asked at the terminal. A database
without users gets its first administrator (`--admin`, default admin) under a new key, and the
recovery key is printed once: print it or write it down and keep it offline.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def _encrypt(args) -> int:
    import db
    from shequ_desktop.core.errors import DomainError
    from shequ_desktop.core.keys import recovery_text
    from shequ_desktop.security import unlock

    if db.is_encrypted(args.db):
        print(f"“{args.db}”已经加密，未作修改", file=sys.stderr)
        return 0
    if not os.path.isfile(args.db):
        raise DomainError(f"找不到数据库文件“{args.db}”")
    if unlock.has_key_file(args.db):          # a first encryption that was killed: resumed
        key = unlock.unlock(args.db, *unlock.credentials(args.db))
        if unlock.recovery_pending(args.db):
            print("上次加密被中断，恢复密钥未能显示。恢复密钥（请打印或抄写，离线保管）：",
                  file=sys.stderr)
            print(recovery_text(key))
            unlock.recovery_shown(args.db)
    else:
        password = os.environ.get("SHEQU_PASSWORD")
        if not password:
            password = unlock.ask(f"为管理员“{args.admin}”设置密码：", True)
            if unlock.ask("再输一次：", True) != password:
                raise DomainError("两次输入的密码不一致")
        key = unlock.encrypt_with_first_admin(args.db, args.admin, password)
        print(f"已创建管理员“{args.admin}”。恢复密钥（请打印或抄写，离线保管）：", file=sys.stderr)
        print(recovery_text(key))
        unlock.recovery_shown(args.db)
    unlock.encrypt_plain(args.db, key)
    print(f"已加密“{args.db}”", file=sys.stderr)
    from db import open_db
    from shequ_desktop.security import backups

    conn = open_db(args.db)
    try:
        db_id = backups.database_id(conn, create=False)
    finally:
        conn.close()
    folder = args.backups or backups.default_folder()
    done = backups.encrypt_plain_backups(folder, Path(args.db).stem, db_id, key)
    if done:
        print(f"已加密“{folder}”中这个数据库以前的 {len(done)} 个备份", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("encrypt", help="加密未加密的数据库（旧版本或 shequ init 建立的）")
    p.add_argument("--db", required=True)
    p.add_argument("--admin", default="admin",
                   help="数据库还没有用户时，新建的管理员用户名（默认 admin）")
    p.add_argument("--backups", metavar="DIR",
                   help="这个数据库的备份所在的文件夹（其中未加密的备份一并加密；默认：程序的备份文件夹）")
    p.set_defaults(run=_encrypt, unlocks_itself=True)
