"""Qt's own dialogs speak Chinese, and file dialogs start where the user expects."""
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (QAbstractButton, QColorDialog, QComboBox, QFileDialog, QLabel,
                               QMessageBox, QWidget)

from ui import app as ui_app
from ui import file_dialogs


def english_words(dialog: QWidget) -> set[str]:
    """Texts shown on the dialog's labels, buttons, boxes and tool tips that hold a Latin word
    (paths, file patterns and colour codes are not words)."""
    texts = {dialog.windowTitle()}
    for w in [dialog, *dialog.findChildren(QWidget)]:
        if not w.isVisibleTo(dialog):
            continue
        if isinstance(w, (QLabel, QAbstractButton)):
            texts.add(w.text())
        if isinstance(w, QComboBox):
            texts.add(w.currentText())
        texts.add(w.toolTip())
    words = set()
    for text in texts:
        plain = re.sub(r"\(&\w\)|&|/\S*|\*\.\w+|#[0-9a-fA-F]{6}|HTML|PDF", "", text or "")
        if re.search(r"[A-Za-z]{3,}", plain):
            words.add(text)
    return words


@pytest.fixture
def app(qapp):
    return ui_app.make_app()


def test_the_file_dialog_is_in_chinese(qtbot, app):
    dialog = QFileDialog(None, "选择要导入的表格")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setNameFilter("表格文件 (*.xlsx *.csv)")
    qtbot.addWidget(dialog)
    dialog.show()
    labels = {w.text() for w in dialog.findChildren(QLabel)}
    assert {"查找范围(&L)：", "文件类型(&T)："} <= labels
    assert english_words(dialog) == set()


def test_the_print_dialog_and_message_boxes_are_in_chinese(qtbot, app):
    printer = QPrinter()
    dialog = QPrintDialog(printer)
    qtbot.addWidget(dialog)
    dialog.show()
    assert english_words(dialog) == set()
    box = QMessageBox(QMessageBox.Icon.Question, "确认", "继续？",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                      | QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Save)
    qtbot.addWidget(box)
    box.show()
    assert {b.text() for b in box.buttons()} == {"是(&Y)", "否(&N)", "取消", "保存"}
    colors = QColorDialog()
    qtbot.addWidget(colors)
    colors.show()
    assert english_words(colors) == set()


def test_file_dialogs_start_in_documents_created_if_missing(app, tmp_path, monkeypatch):
    docs = Path(file_dialogs.documents())
    assert docs.is_dir()
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda parent, title, folder, filters:
                                     asked.append(folder) or ("", "")))
    settings = QSettings()
    settings.remove("folders")
    assert file_dialogs.open_file(None, "import", "选择", "*.xlsx") == ""
    assert asked == [str(docs)]


def test_file_dialogs_remember_the_last_folder_per_purpose(app, tmp_path, monkeypatch):
    QSettings().remove("folders")
    picked = tmp_path / "U盘" / "名册.xlsx"
    picked.parent.mkdir()
    picked.write_bytes(b"")
    asked = []

    def fake_open(parent, title, folder, filters):
        asked.append(folder)
        return str(picked), filters

    def fake_save(parent, title, suggested, filters):
        asked.append(suggested)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_open))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    assert file_dialogs.open_file(None, "import", "选择", "*.xlsx") == str(picked)
    file_dialogs.open_file(None, "import", "选择", "*.xlsx")        # next time: that folder
    file_dialogs.save_file(None, "pdf", "另存为", "台账.pdf", "*.pdf")  # another purpose: not
    assert asked[1:] == [str(picked.parent), str(file_dialogs.documents() / "台账.pdf")]
