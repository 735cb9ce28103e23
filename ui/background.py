"""Long work off the GUI thread (DESIGN.md §7).

`run(...)` calls a domain function `fn(conn, progress)` in a QThread. The worker opens its own
connection from the database path (a sqlite3 connection belongs to the thread that opened it).
Progress, the result and any error come back to the GUI thread through signals. A progress
dialog appears only when the work lasts longer than half a second; its cancel button makes
the progress callback return False, which the domain turns into `Cancelled`.

Tests set `SYNCHRONOUS = True` (or pass synchronous=True): the work then runs at once in the
calling thread and the signals fire before `run` returns.
"""
from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

import db
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.logs import log_error
from shequ_desktop.core.progress import Cancelled

SYNCHRONOUS = False          # tests: run work in the calling thread
SHOW_AFTER_MS = 500
GUI_SWITCH_INTERVAL = 0.001  # seconds; sys.setswitchinterval while workers run

def _tr(text: str) -> str:
    return QCoreApplication.translate("background", text)


Work = Callable[[Any, Callable[[int, int], bool]], Any]   # fn(conn, progress) -> result


class Task(QObject):
    """One piece of background work and its outcome. Lives in the GUI thread."""

    progressed = Signal(int, int)     # done, total
    succeeded = Signal(object)        # the function's result
    failed = Signal(object)           # the exception (Cancelled when the user cancelled)
    finished = Signal()               # after succeeded or failed
    # Emitted in the worker thread; Qt queues them to this object's (the GUI) thread.
    _reported = Signal(int, int)
    _completed = Signal()

    def __init__(self, db_path, fn: Work, parent: QObject | None = None):
        super().__init__(parent)
        self.db_path = db_path
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.dialog: QProgressDialog | None = None
        self.throttle = 0.0               # seconds between progress reports (0: all of them)
        self._last_report = 0.0
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self._reported.connect(self.progressed)
        self._completed.connect(self._deliver)

    # --- runs in the worker thread (or inline when synchronous) -----------------------------
    def progress(self, done: int, total: int) -> bool:
        """The domain's progress callback: report, and say whether to go on.

        With a throttle, reports closer together than `throttle` seconds are dropped (the last
        one always goes through), so a loop reporting every row cannot flood the GUI thread.
        """
        now = time.monotonic()
        if not self.throttle or done >= total or now - self._last_report >= self.throttle:
            self._last_report = now
            self._reported.emit(int(done), int(total))
        return not self._cancel.is_set()

    def execute(self) -> None:
        conn = None
        try:
            conn = db.open_db(self.db_path) if self.db_path is not None else None
            self.result = self.fn(conn, self.progress)
        except BaseException as exc:            # noqa: BLE001 - handed to the GUI thread
            if not isinstance(exc, (Cancelled, DomainError, db.StorageError)):
                log_error("background work failed\n" + traceback.format_exc())
            exc.traceback_text = traceback.format_exc()
            self.error = exc
        finally:
            if conn is not None:
                conn.close()
        self._completed.emit()

    # --- GUI thread -------------------------------------------------------------------------
    @Slot()
    def _deliver(self) -> None:
        self.done = True
        if self.error is None:
            self.succeeded.emit(self.result)
        else:
            self.failed.emit(self.error)
        self.finished.emit()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self) -> None:
        wait(self)


def wait(work) -> None:
    """Block (keeping the GUI responsive) until `work` (a Task, an operation: `done` and a
    `finished` signal) has finished."""
    if work.done:
        return
    loop = QEventLoop()
    work.finished.connect(loop.quit)
    if not work.done:
        loop.exec()


class _Worker(QThread):
    def __init__(self, task: Task):
        super().__init__()
        self.task = task

    def run(self) -> None:
        self.task.execute()


_running: set[Task] = set()      # keeps tasks and their threads alive until they finish
_gc_state = {"was_enabled": True, "timer": None}


def _pin_gc(start: bool) -> None:
    """While workers run, Python's cyclic GC runs only in the GUI thread.

    An automatic collection runs in whichever thread allocates; in a worker it can free
    GUI-thread Qt objects caught in reference cycles, from the wrong thread, which crashes
    PySide (seen in Shiboken's runDeletionInMainThread). The same pattern as calibre and
    pyqtgraph: automatic collection off, a GUI-thread timer collects instead.
    """
    if start and not _running:
        # While a worker runs Python, the GUI thread waits for the GIL at every call back into
        # Python (each data() of a table being painted): a 1 ms switch interval instead of
        # 5 ms keeps those waits short (issue 20: no GUI-thread stall over 200 ms).
        _gc_state["switch"] = sys.getswitchinterval()
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)
        _gc_state["was_enabled"] = gc.isenabled()
        gc.disable()
        gc.collect()
        timer = QTimer()
        timer.setInterval(1000)
        timer.timeout.connect(lambda: gc.collect(1))
        timer.start()
        _gc_state["timer"] = timer
    elif not start and not _running:
        sys.setswitchinterval(_gc_state.get("switch", 0.005))
        timer = _gc_state["timer"]
        if timer is not None:
            timer.stop()
            _gc_state["timer"] = None
        if _gc_state["was_enabled"]:
            gc.enable()


def run(fn: Work, db_path, *, parent: QWidget | None = None, label: str | None = None,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        synchronous: bool | None = None, quiet: bool = False,
        counting: Callable[[int, int], str] | None = None) -> Task:
    """Run `fn(conn, progress)` off the GUI thread; report through callbacks on the GUI thread.

    `quiet` work (an automatic backup, a check) shows no progress dialog. `counting(done,
    total)` turns a report into a line the dialog shows under its label (「已导出 12,000 /
    200,000 行」), for work whose progress counts rows.

    Without `on_failure`, expected problems (DomainError, StorageError) are shown as a warning,
    a cancel is silent, and anything else is shown with its traceback.
    """
    task = Task(db_path, fn)
    if on_success is not None:
        task.succeeded.connect(on_success)
    task.failed.connect(on_failure or (lambda exc: show_error(parent, exc)))
    if on_progress is not None:
        task.progressed.connect(on_progress)
    if SYNCHRONOUS if synchronous is None else synchronous:
        task.execute()
        return task

    def on_thread_finished() -> None:
        thread.deleteLater()
        _running.discard(task)
        _pin_gc(False)

    task.throttle = 0.05
    thread = _Worker(task)
    task._thread = thread
    thread.finished.connect(on_thread_finished)
    if not quiet:
        _add_dialog(task, parent, label, counting)
    _pin_gc(True)
    _running.add(task)
    thread.start()
    return task


def latest(owner: QObject, slot: str, read: Callable[[Any], Any],
           show: Callable[[Any], None], db_path, *,
           on_failure: Callable[[BaseException], None] | None = None) -> Task:
    """Read `read(conn)` off the GUI thread for a page (no dialog) and `show` the result on
    the GUI thread, only if no newer request for the same `slot` of `owner` came meanwhile
    (a quick change of the tree or a list must not show an older answer last)."""
    asked = owner.__dict__.setdefault("_latest_requests", {})
    number = asked[slot] = asked.get(slot, 0) + 1

    def deliver(result) -> None:
        if asked.get(slot) == number:
            show(result)

    def failed(exc: BaseException) -> None:
        if asked.get(slot) == number:
            (on_failure or (lambda e: show_error(None, e)))(exc)

    return run(lambda conn, _progress: read(conn), db_path, quiet=True, on_success=deliver,
               on_failure=failed)


def counted(verb: str, unit: str = "行") -> Callable[[int, int], str]:
    """A `counting` for run(): 「{verb} 12,000 / 200,000 {unit}」."""
    return lambda done, total: _tr("{0} {1} / {2} {3}").format(verb, f"{done:,}", f"{total:,}",
                                                               unit)


def _done(done: int, total: int) -> str:
    """The count line of work that gave no `counting` of its own: 「已完成 1,279 / 20,000」."""
    return _tr("已完成 {0} / {1}").format(f"{done:,}", f"{total:,}")


def _add_dialog(task: Task, parent: QWidget | None, label: str | None,
                counting: Callable[[int, int], str] | None = None) -> None:
    label = label or _tr("正在处理…")
    dialog = QProgressDialog(label, _tr("取消"), 0, 0, parent)
    dialog.setWindowTitle(_tr("请稍候"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent is not None
                             else Qt.WindowModality.ApplicationModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setValue(0)
    dialog.canceled.connect(task.cancel)
    task.dialog = dialog
    updating = []

    def show_progress(done: int, total: int) -> None:
        # setValue on a modal dialog processes events, which may deliver the next report:
        # skip nested calls instead of recursing.
        if total <= 0 or task.done or updating:
            return
        updating.append(True)
        try:
            dialog.setMaximum(total)
            dialog.setLabelText(f"{label}\n{(counting or _done)(done, total)}")
            dialog.setValue(min(done, total))
        finally:
            updating.clear()
        # setValue processes events: the work may have finished meanwhile (on_finished hid the
        # dialog) and setValue then shown it again, past its minimum duration.
        if task.done and shiboken6.isValid(dialog):
            dialog.hide()

    def on_finished() -> None:
        if not shiboken6.isValid(dialog):        # its parent window was closed meanwhile
            return
        dialog.canceled.disconnect(task.cancel)   # closing the dialog would emit canceled
        dialog.reset()           # stops its show-after-0.5 s timer, which may be due right now
        dialog.hide()
        dialog.deleteLater()

    task.progressed.connect(show_progress)
    task.finished.connect(on_finished)


def run_and_wait(fn: Work, db_path, *, parent: QWidget | None = None,
                 label: str | None = None) -> bool:
    """Run `fn` in the background (progress dialog with cancel after half a second) and wait
    for it; True when it succeeded. A failure is shown to the user, a cancel is not."""
    task = run(fn, db_path, parent=parent, label=label, on_failure=lambda exc: None)
    task.wait()
    if task.error is not None:
        show_error(parent, task.error)           # says nothing for Cancelled
        return False
    return True


def finish_all() -> None:
    """Before the program exits: ask running work to stop and wait for its threads
    (a QThread destroyed while running aborts the process)."""
    for task in list(_running):
        task.cancel()
        if task._thread is not None:
            task._thread.wait()


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """Default handling of a failed task."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, (DomainError, db.StorageError)):
        QMessageBox.warning(parent, _tr("无法完成"), str(exc))
        return
    box = QMessageBox(QMessageBox.Icon.Critical, _tr("程序出错"),
                      _tr("操作因程序错误而中止。请把下面的详细信息发给维护人员。"),
                      QMessageBox.StandardButton.Ok, parent)
    box.setDetailedText(getattr(exc, "traceback_text", "") or repr(exc))
    box.exec()
