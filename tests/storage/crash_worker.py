"""Run by tests/storage/test_crash_safety.py in a child process that the test kills (SIGKILL) at a
point the child itself reports, never after a guessed delay.

Kill points are every SQL statement the child starts (SQLite's trace callback), the moments
just before and just after every file rename (os.replace/os.rename: how a database, key file or
PDF is put in place), and the moment the work is done and the process about to exit. With `--stop-at N` the child prints "@@point N <what>" at its N-th point
and waits there to be killed; with `--stop-at 0` it runs to the end and prints "@@points TOTAL".

`cli --stop-at N ARGS…`: the `shequ` command line with ARGS.
`edits --stop-at N DB A B M H1 H2`: forever, one transaction per step i: note "op<i>" on
resident A, move M to the other of households H1/H2, note "op<i>" on resident B.
`hold_lock DB`: hold the write lock like a second instance in a long write, print "locked",
and commit when a line arrives on standard input.
"""
import atexit
import os
import sys
import threading

POINT, TOTAL = "@@point", "@@points"


def install_points(stop: int) -> None:
    from sqlcipher3 import dbapi2

    count, lock = 0, threading.Lock()

    def point(what: str) -> None:
        nonlocal count
        with lock:
            count += 1
            if count != stop:
                return
        print(f"{POINT} {count} {' '.join(str(what).split())[:60]}", flush=True)
        sys.stdin.readline()          # the test kills us here; EOF means it gave up on us
        os._exit(99)

    connect = dbapi2.connect

    def traced_connect(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(point)
        return conn

    dbapi2.connect = traced_connect
    for name in ("replace", "rename"):
        def renamed(src, dst, *args, _real=getattr(os, name), _name=name, **kwargs):
            point(f"before {_name} {dst}")
            result = _real(src, dst, *args, **kwargs)
            point(f"after {_name} {dst}")
            return result
        setattr(os, name, renamed)

    def at_exit() -> None:
        point("exit")                 # the work is done, the process not yet gone
        print(f"{TOTAL} {count}", flush=True)

    atexit.register(at_exit)


def edits(path: str, a: int, b: int, m: int, h1: int, h2: int) -> None:
    import db
    from shequ_desktop.population import residents
    from shequ_desktop.core.context import Context

    ctx = Context(db.open_db(path), "崩溃测试")
    note = ctx.get("residents", a)["notes"] or "op0"
    step = int(note[2:])
    print("ready", flush=True)
    while True:
        step += 1
        with ctx.transaction():
            residents.update_resident(ctx, a, {"notes": f"op{step}"})
            target = h2 if ctx.get("residents", m)["household_id"] == h1 else h1
            residents.move_to_household(ctx, m, target, "子")
            residents.update_resident(ctx, b, {"notes": f"op{step}"})


def hold_lock(path: str) -> None:
    """Another instance in the middle of a long write: holds the write lock until told."""
    import db
    conn = db.open_db(path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE residents SET notes = '另一实例' WHERE id = (SELECT min(id) FROM residents)")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    print("committed", flush=True)


def main(argv: list[str]) -> int:
    kind, rest = argv[0], argv[1:]
    stop = 0
    if rest[:1] == ["--stop-at"]:
        stop, rest = int(rest[1]), rest[2:]
        install_points(stop)
    if kind == "cli":
        from shequ_desktop.cli.main import main as cli
        return cli(rest) or 0
    path, *ids = rest
    from shequ_desktop.security.unlock import unlock_for_command
    unlock_for_command(path)                  # an encrypted database: SHEQU_RECOVERY_KEY
    if kind == "edits":
        edits(path, *map(int, ids))
    elif kind == "hold_lock":
        hold_lock(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
