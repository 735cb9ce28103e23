"""One path for background writes (issue 19 §2; Anki's CollectionOp is the model).

    CollectionOp(parent, window_ctx, lambda ctx, progress: write(ctx, ..., progress=progress),
                 label="正在导入…").success(on_done).failure(on_error).run_in_background()

`window_ctx` is the signed-in user's Context (MainWindow.ctx, handed to every page). The
function runs off the GUI thread with `window_ctx.on(conn)`: the same user, role, grid scope
and read-only state over the worker's own connection, so it is refused and audited exactly as
a foreground write (or the command line) would be. Operations run one at a time, in the order
asked: two writes never interleave and the later one sees the earlier one's rows.

A progress dialog with counts appears after half a second; its cancel makes `progress` return
False, which the domain turns into Cancelled (its transaction rolls back whole).

Every transaction the function commits is collected (a subscriber on the operation's Context);
back on the GUI thread the changes go to `window_ctx.publish`, i.e. to the same subscribers a
foreground write reaches (MainWindow._on_changes → each part's apply_changes), so pages refresh
only what changed. They are published before the success or failure callback runs, and also
after a failure (a function of several transactions may have committed some).

The failure callback gets the exception. Cancelled, DomainError and StorageError carry their
Chinese message; anything else (a bug) arrives as OperationFailed, whose message is Chinese and
which keeps the traceback for the maintainer. Without a failure callback, background.show_error
says it.

Background reads (statistics, checks, lists) use `query`: the same Context, no queue.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QWidget

import db
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Cancelled, Progress
from ui import background

Op = Callable[[Context, Progress], Any]        # fn(ctx, progress) -> result

_queue: deque[CollectionOp] = deque()          # asked for, not started yet
_active: list[CollectionOp] = []               # the one running (at most one)


def _tr(text: str) -> str:
    return QCoreApplication.translate("operations", text)


class OperationFailed(Exception):
    """A background operation stopped on a bug: a Chinese message for the user, the original
    exception as __cause__ and its traceback as traceback_text (shown under 详细信息)."""

    def __init__(self, exc: BaseException):
        super().__init__(_tr("操作因程序错误而中止（{0}）。本次操作未完成的修改没有保存；"
                             "请把详细信息发给维护人员。").format(type(exc).__name__))
        self.__cause__ = exc


class CollectionOp(QObject):
    """One background write for the signed-in user; see the module docstring."""

    finished = Signal()              # after the callbacks

    def __init__(self, parent: QWidget | None, ctx: Context, fn: Op, *,
                 label: str | None = None, quiet: bool = False,
                 counting: Callable[[int, int], str] | None = None):
        super().__init__()           # no QObject parent: it outlives a dialog closed meanwhile
        self.parent_widget = parent
        self.ctx = ctx
        self.fn = fn
        self.label = label or _tr("正在处理…")
        self.quiet = quiet
        self.counting = counting             # the dialog's count line (background.counted)
        self.changes: list[Change] = []     # what the operation committed
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.task: background.Task | None = None
        self._on_success: Callable[[Any], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None

    def success(self, callback: Callable[[Any], None]) -> CollectionOp:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> CollectionOp:
        self._on_failure = callback
        return self

    def run_in_background(self) -> CollectionOp:
        """Queue the operation behind any running one; returns it (wait(), cancel())."""
        _queue.append(self)
        _start_next()
        return self

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        elif self in _queue:                 # not started: it never will be
            _queue.remove(self)
            self._failed(Cancelled())

    def wait(self) -> None:
        """Block (keeping the GUI responsive) until the operation has finished."""
        background.wait(self)

    # --- worker thread ----------------------------------------------------------------------
    def _work(self, conn, progress) -> Any:
        ctx = self.ctx.on(conn)
        ctx.subscribe(self.changes.extend)
        try:
            return self.fn(ctx, progress)
        except (Cancelled, DomainError, db.StorageError):
            raise
        except Exception as exc:                  # noqa: BLE001 - a bug: said in Chinese
            raise OperationFailed(exc) from exc

    # --- GUI thread -------------------------------------------------------------------------
    def _start(self) -> None:
        parent = self._parent()
        self.task = background.run(self._work, db.db_path(self.ctx.conn), parent=parent,
                                   label=self.label, quiet=self.quiet, counting=self.counting,
                                   on_success=self._succeeded, on_failure=self._failed)

    def _parent(self) -> QWidget | None:
        widget = self.parent_widget
        return widget if widget is not None and shiboken6.isValid(widget) else None

    def _succeeded(self, result: Any) -> None:
        self.result = result
        self._finish(self._on_success, result)

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self._finish(self._on_failure or (lambda e: background.show_error(self._parent(), e)),
                     exc)

    def _finish(self, callback, value) -> None:
        try:
            self.ctx.publish(self.changes)
            if callback is not None:
                callback(value)
        finally:
            self.done = True
            if self in _active:
                _active.remove(self)
            self.finished.emit()
            _start_next()


def query(parent: QWidget | None, ctx: Context, fn: Op, *, label: str | None = None,
          quiet: bool = False, on_success: Callable[[Any], None] | None = None,
          on_failure: Callable[[BaseException], None] | None = None) -> background.Task:
    """A background READ with the signed-in user's Context, the same way an operation gets it
    (`fn(ctx.on(conn), progress)`: the user's grid scope, their name on what is recorded).
    Reads are not queued behind writes (each has its own connection and sees committed data
    only) and commit nothing, so there is nothing to publish."""
    return background.run(lambda conn, progress: fn(ctx.on(conn), progress),
                          db.db_path(ctx.conn), parent=parent, label=label, quiet=quiet,
                          on_success=on_success, on_failure=on_failure)


def latest(owner: QObject, slot: str, ctx: Context, read: Callable[[Context], Any],
           show: Callable[[Any], None], *,
           on_failure: Callable[[BaseException], None] | None = None) -> background.Task:
    """background.latest (a page's read, no dialog, only the newest answer shown) with the
    signed-in user's Context: `read(ctx.on(conn))`."""
    return background.latest(owner, slot, lambda conn: read(ctx.on(conn)), show,
                             db.db_path(ctx.conn), on_failure=on_failure)


def _start_next() -> None:
    if _active or not _queue:
        return
    op = _queue.popleft()
    _active.append(op)
    op._start()


def finish_all() -> None:
    """Before the program exits: queued operations never start; the running one is asked to
    stop and waited for (background.finish_all)."""
    _queue.clear()
    background.finish_all()
