"""Anything unexpected is a bug: log it and show it with the traceback and a copy button."""
from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from db import StorageError
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.logs import log_error


def _tr(text: str) -> str:
    return QCoreApplication.translate("crash", text)


def crash_box(text: str, log_file: str = "") -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Critical, _tr("程序出错"),
                      _tr("程序遇到了一个错误。已保存的数据不受影响；正在编辑但未保存的内容可能需要重新填写。"
                          "\n请把详细信息复制给维护人员。"))
    if log_file:
        box.setInformativeText(_tr("详细信息也已写入日志：{0}").format(log_file))
    box.setDetailedText(text)
    copy = box.addButton(_tr("复制详细信息"), QMessageBox.ButtonRole.ActionRole)
    copy.clicked.disconnect()            # keep the box open after copying
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(text))
    box.addButton(QMessageBox.StandardButton.Close)
    return box


def install(log_file: str = "") -> None:
    """Route uncaught exceptions (including those raised in Qt slots) to the crash dialog.

    Expected problems that slipped through (a locked database, a refused action) get a plain
    warning instead.
    """
    def hook(kind, exc, tb):
        if isinstance(exc, (StorageError, DomainError)):
            QMessageBox.warning(QApplication.activeWindow(), _tr("无法完成"), str(exc))
            return
        text = "".join(traceback.format_exception(kind, exc, tb))
        log_error("uncaught exception\n" + text)
        if QApplication.instance() is not None:
            crash_box(text, log_file).exec()
        else:
            sys.__excepthook__(kind, exc, tb)

    sys.excepthook = hook
