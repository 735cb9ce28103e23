import sys

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.core.errors import DomainError
from ui import crash


def test_crash_box_shows_the_traceback_and_copies_it(qtbot):
    box = crash.crash_box("Traceback: boom", "/tmp/shequ.log")
    qtbot.addWidget(box)
    assert box.detailedText() == "Traceback: boom" and "/tmp/shequ.log" in box.informativeText()
    copy = next(b for b in box.buttons() if b.text() == "复制详细信息")
    copy.click()
    assert QGuiApplication.clipboard().text() == "Traceback: boom"


def test_uncaught_errors_are_logged_and_shown(qapp, monkeypatch, caplog):
    shown, warned = [], []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.detailedText()))
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)      # restored after the test
    crash.install()
    try:
        raise KeyError("no such thing")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert "KeyError: 'no such thing'" in shown[0]
    assert "uncaught exception" in caplog.text
    sys.excepthook(DomainError, DomainError("不能删除"), None)
    assert warned == ["不能删除"] and len(shown) == 1

