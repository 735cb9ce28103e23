"""Run by tests/test_crash_safety.py in a child process that is killed (SIGKILL) at random.

`hold_lock DB SECONDS`: hold the write lock like a second instance in a long write.
`edits DB A B M H1 H2`: forever, one transaction per step i: note "op<i>" on resident A, move
M to the other of households H1/H2, note "op<i>" on resident B. Prints "ready" once started.
"""
import sys

import db
from shequ_desktop import residents
from shequ_desktop.context import Context


def edits(path: str, a: int, b: int, m: int, h1: int, h2: int) -> None:
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


def hold_lock(path: str, seconds: str) -> None:
    """Another instance in the middle of a long write: holds the write lock, then commits."""
    import time
    conn = db.open_db(path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE residents SET notes = '另一实例' WHERE id = (SELECT min(id) FROM residents)")
    print("locked", flush=True)
    time.sleep(float(seconds))
    conn.execute("COMMIT")


if __name__ == "__main__":
    kind, path, *ids = sys.argv[1:]
    from shequ_desktop.unlock import unlock_for_command
    unlock_for_command(path)                  # an encrypted database: SHEQU_RECOVERY_KEY
    if kind == "edits":
        edits(path, *map(int, ids))
    elif kind == "hold_lock":
        hold_lock(path, *ids)
