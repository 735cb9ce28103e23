"""`shequ backup` and `shequ restore`."""
from __future__ import annotations

import sys
from pathlib import Path

from shequ_desktop.cli.session import ADMIN_ONLY

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def _backup(args) -> int:
    from shequ_desktop.security import backups

    conn = args.ctx.conn
    try:
        target = backups.backup_to(conn, args.output, args.ctx.user)
    finally:
        conn.close()
    print(f"已备份到 {target}")
    return 0


def _restore(args) -> int:
    from shequ_desktop.security import backups

    folder = Path(args.keep_dir) if args.keep_dir else backups.default_folder()
    actor = _restorer(args)
    kept = backups.restore(args.db, args.backup, folder, actor)
    print(f"已从 {args.backup} 恢复；恢复前的数据库保存在 {kept}", file=sys.stderr)
    return 0


def _restorer(args) -> str:
    """Who restores: an administrator signed in to the current database; when it is too
    damaged to be opened, whoever proves a password of its key file (or the recovery key).
    The connection is closed again: restore needs the file to itself."""
    from db import StorageError
    from shequ_desktop.cli import session as cli_session

    try:
        ctx = cli_session.open_context(args)
    except StorageError:
        return cli_session.password_holder(args)
    ctx.conn.close()
    return ctx.user


def add_commands(sub) -> None:
    p = sub.add_parser("backup", help="备份数据库（SQLite 在线备份，校验后写入）")
    p.add_argument("--db", required=True)
    p.add_argument("-o", "--output", required=True, help="备份文件路径")
    p.set_defaults(run=_backup, needs=ADMIN_ONLY)

    p = sub.add_parser("restore", help="用备份替换数据库（先校验备份，并保存当前数据库；"
                                       "请先关闭正在使用该数据库的程序）")
    p.add_argument("--db", required=True)
    p.add_argument("backup", help="备份文件")
    p.add_argument("--keep-dir", help="恢复前的数据库副本存放的文件夹（默认：程序的备份文件夹）")
    p.set_defaults(run=_restore, needs=ADMIN_ONLY, unlocks_itself=True)
