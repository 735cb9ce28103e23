"""`shequ package` (issue 10): data packages between the office and the grid workers' PCs.

    shequ package export --db PATH [--unit CODE] [--since SITE] -o FILE
    shequ package merge  --db PATH FILE [--dry-run] [--json] [--admin NAME]
    shequ package conflicts --db PATH [--all] [--json]
    shequ package resolve --db PATH ID ours|theirs
    shequ package peers --db PATH [--json]

The passphrase comes from --passphrase, else the environment variable
SHEQU_PACKAGE_PASSPHRASE, else it is asked for on the terminal. merge exits 0 when merged
(conflicts are listed and kept for the user), 2 when the package is refused whole.
"""
from __future__ import annotations

import json
import os
import sys

from db import open_db
from shequ_desktop.cli.session import WRITE
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

PASSPHRASE_ENV = "SHEQU_PACKAGE_PASSPHRASE"




def _passphrase(args, confirm: bool = False) -> str:
    if args.passphrase:
        return args.passphrase
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise DomainError(f"请用 --passphrase 或环境变量 {PASSPHRASE_ENV} 给出数据包口令")
    import getpass
    text = getpass.getpass("数据包口令：")
    if confirm and getpass.getpass("再输入一次：") != text:
        raise DomainError("两次输入的口令不一致")
    return text


def _progress(label: str):
    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{label} {done}/{total}", end="", file=sys.stderr)
    return progress


def _context(args):
    """The signed-in Context (cli_session: the one door)."""
    return args.ctx


def _export(args) -> int:
    from shequ_desktop.core import tree
    from shequ_desktop.core.keys import password_problem
    from shequ_desktop.sync import exchange, package

    passphrase = _passphrase(args, confirm=True)
    problem = password_problem(passphrase)
    if problem:
        raise DomainError(problem.replace("密码", "数据包口令"))
    from shequ_desktop.cli.session import default_unit

    ctx = _context(args)
    unit_id = tree.unit_by_code(ctx.conn, args.unit) if args.unit else None
    if unit_id is None and exchange.scope_unit(ctx.conn) is None:
        unit_id = default_unit(ctx, None)          # a 网格员: their one grid
    manifest = exchange.export_package(ctx, args.output, passphrase, unit_id, args.since,
                                       progress=_progress("导出"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    counts = manifest["counts"]
    print(f"已导出数据交换包 {args.output}：{manifest['unit_name']}，"
          f"{package.records(counts)} 条记录（其中删除 {counts['tombstones']} 条）"
          + (f"，文件 {counts['blobs']} 个" if counts.get("blobs") else ""))
    return 0


def _new_database(args):
    """A laptop's database started from a handed-out package is born encrypted, like the
    first start's 从数据交换包建立…: its first administrator (--admin; password from
    SHEQU_PASSWORD or the terminal) comes first, so the key file exists before any record is
    written. Returns (context, recovery key)."""
    from shequ_desktop.core.context import Context
    from shequ_desktop.core.keys import password_problem
    from shequ_desktop.security import unlock, users

    password = os.environ.get("SHEQU_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise DomainError("新建本机数据库需要管理员密码：请设置环境变量 SHEQU_PASSWORD，"
                              "或在终端中运行以输入密码")
        password = unlock.ask(f"为本机数据库的管理员“{args.admin}”设置密码：", True)
        if unlock.ask("再输一次：", True) != password:
            raise DomainError("两次输入的密码不一致")
    problem = password_problem(password)
    if problem:
        raise DomainError(problem)
    conn, key = unlock.create_database(args.db)
    try:
        users.create_first_admin(Context(conn, args.admin), args.db, args.admin, password,
                                 db_key=key)
    except BaseException:
        conn.close()
        _discard(args.db)
        raise
    return Context(conn, args.admin), key


def _discard(path) -> None:
    """A new database that was never finished."""
    from shequ_desktop.core.keys import KeyFile

    for file in (str(path), f"{path}-wal", f"{path}-shm", str(KeyFile.path_for(path))):
        try:
            os.remove(file)
        except FileNotFoundError:
            pass


def _merge(args) -> int:
    from shequ_desktop.core.context import Context
    from shequ_desktop.security import unlock
    from shequ_desktop.sync import merging

    passphrase = _passphrase(args)
    key = None
    if unlock.is_new(args.db) and args.dry_run:
        ctx = Context(open_db(":memory:"), args.admin)     # a preview writes no file
    elif unlock.is_new(args.db):
        ctx, key = _new_database(args)
    else:
        from shequ_desktop.cli.session import open_context
        ctx = args.ctx = open_context(args)      # an existing database: signed in
    try:
        result = merging.merge(ctx, args.file, passphrase, dry_run=args.dry_run,
                               progress=_progress("合并"))
    except BaseException:
        if key is not None:
            ctx.conn.close()
            _discard(args.db)
        raise
    if key is not None:
        from shequ_desktop.core.keys import recovery_text
        print(f"已建立加密的本机数据库，管理员“{args.admin}”。恢复密钥（请打印或抄写，离线保管）："
              f"{recovery_text(key)}", file=sys.stderr)
        from shequ_desktop.security.unlock import recovery_shown
        recovery_shown(args.db)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, default=str))
        return 0
    head = "预览（未合并）" if args.dry_run else "合并结果"
    print(f"{head}：来自“{result.manifest.get('source_name')}”（{result.manifest.get('unit_name')}），"
          + result.summary())
    for c in result.conflicts:
        number = "" if args.dry_run else f" #{c['id']}"    # a preview's rows were rolled back
        print(f"  冲突{number} {c['record']} “{c['field_label']}”："
              f"本机 {merging.shown(ctx.conn, c['entity'], c['field'], c['ours'])}，"
              f"对方 {merging.shown(ctx.conn, c['entity'], c['field'], c['theirs'])}")
    for r in result.refused:
        print(f"  拒绝 {r['record']}：{r['reason']}")
    return 0


def _conflicts(args) -> int:
    from shequ_desktop.sync import merging

    conn = args.ctx.conn
    rows = merging.conflicts(conn, include_resolved=args.all, access=args.ctx.access)
    for c in rows:
        if args.json:
            print(json.dumps(c, ensure_ascii=False, default=str))
        else:
            state = "" if c["resolved_at"] is None else f"（已处理：{c['resolution']}）"
            print(f"#{c['id']} {c['record']} “{c['field_label']}”："
                  f"本机 {merging.shown(conn, c['entity'], c['field'], c['ours'])}，"
                  f"对方（{c['peer_name']}）{merging.shown(conn, c['entity'], c['field'], c['theirs'])}"
                  + state)
    if not args.json:
        print(f"共 {len(rows)} 处冲突", file=sys.stderr)
    return 0


def _resolve(args) -> int:
    from shequ_desktop.sync import merging

    merging.resolve(_context(args), args.id, args.choice)
    print("已采用对方的值" if args.choice == "theirs" else "已保留本机的值")
    return 0


def _peers(args) -> int:
    from shequ_desktop.sync import exchange

    conn = args.ctx.conn
    for p in exchange.peers(conn):
        if args.json:
            print(json.dumps(p, ensure_ascii=False))
        else:
            print(f"{p['site'][:8]}\t{p['name']}\t{p['unit_name'] or ''}\t"
                  f"合并于 {p['merged_at']}\t未处理冲突 {p['open_conflicts']}")
    return 0


def add_commands(sub) -> None:
    pkg = sub.add_parser("package", help="数据交换包：导出、合并、冲突处理").add_subparsers(
        dest="package_command", required=True, metavar="子命令")

    def common(p):
        p.add_argument("--db", required=True)

    p = pkg.add_parser("export", help="导出数据交换包（加密）")
    common(p)
    p.add_argument("--unit", help="网格单元编码或名称（默认本机下发时的网格，或全部）")
    p.add_argument("--since", metavar="SITE",
                   help="只导出自上次与该电脑交换以来的变化（站点编号、其前几位或名称）")
    p.add_argument("-o", "--output", required=True, help="输出文件（.sqpkg）")
    p.add_argument("--passphrase", help=f"数据包口令（也可用环境变量 {PASSPHRASE_ENV}）")
    p.set_defaults(run=_export)

    p = pkg.add_parser("merge", help="合并数据交换包")
    common(p)
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="只预览，不合并")
    p.add_argument("--json", action="store_true", help="输出一行 JSON")
    p.add_argument("--passphrase", help=f"数据包口令（也可用环境变量 {PASSPHRASE_ENV}）")
    p.add_argument("--admin", default="admin",
                   help="合并进新数据库时，新建的管理员用户名（默认 admin；密码取自 SHEQU_PASSWORD）")
    p.set_defaults(run=_merge, needs=WRITE, unlocks_itself=True)

    p = pkg.add_parser("conflicts", help="列出合并冲突")
    common(p)
    p.add_argument("--all", action="store_true", help="包括已处理的")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_conflicts)

    p = pkg.add_parser("resolve", help="处理一处合并冲突")
    common(p)
    p.add_argument("id", type=int, help="冲突编号（见 conflicts）")
    p.add_argument("choice", choices=("ours", "theirs"), help="ours 保留本机的，theirs 用对方的")
    p.set_defaults(run=_resolve, needs=WRITE)

    p = pkg.add_parser("peers", help="交换过数据的电脑")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_peers)
