"""Qt's own dialogs in Chinese: Qt's zh_CN catalogue (qtbase), then our own list of the words
that catalogue leaves in English (resources/translations/qt_zh_CN_extra.json)."""
from __future__ import annotations

import json

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

from shequ_desktop.core.resources import resource_path


class GapTranslator(QTranslator):
    """Answers from a plain table of source text → Chinese. Anything else gets None, a null
    string, which Qt reads as "not found" ('' would be an empty translation)."""

    def __init__(self, texts: dict[str, str], parent=None):
        super().__init__(parent)
        self.texts = texts

    def translate(self, context, source_text, disambiguation=None, n=-1):   # noqa: ARG002
        return self.texts.get(source_text)

    def isEmpty(self) -> bool:
        return not self.texts


def install(app) -> None:
    """Install both; the gap list first, so Qt's own catalogue is asked before it."""
    data = json.loads(resource_path("translations", "qt_zh_CN_extra.json").read_text("utf-8"))
    app.installTranslator(GapTranslator(data["texts"], app))
    qt = QTranslator(app)
    if qt.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_",
               QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
