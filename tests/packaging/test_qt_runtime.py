"""The Qt binding itself: PySide6 6.12.0 on CPython 3.11 drops a reference to None on every
Qt call that returns nothing, and the interpreter aborts after ~200k calls (setup.cfg excludes
that release). This guards against an upgrade bringing such a binding back."""
import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
    assert abs(sys.getrefcount(None) - before) < 100
