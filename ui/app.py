"""Start the GUI: `python main.py [--db PATH]`."""
from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox

import db
from shequ_desktop import community
from shequ_desktop.context import Context
from ui import background, crash
from ui.main_window import MainWindow

ORGANIZATION = "shequ"
APPLICATION = "shequ_desktop"
# Fonts with Chinese glyphs, best first: Windows, macOS, then Linux.
CHINESE_FONTS = ("Microsoft YaHei UI", "Microsoft YaHei", "微软雅黑", "PingFang SC",
                 "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "SimSun", "宋体", "Droid Sans Fallback")


def _tr(text: str) -> str:
    return QCoreApplication.translate("app", text)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="shequ-desktop", description="社区网格工作台")
    parser.add_argument("--db", metavar="PATH", help="数据库文件（默认：用户数据目录下的 shequ.db）")
    return parser.parse_known_args(argv)


def set_chinese_font(app: QApplication) -> str | None:
    """Use the first installed font that has Chinese glyphs; the family, or None."""
    families = set(QFontDatabase.families())
    for family in CHINESE_FONTS:
        if family in families:
            font = QFont(app.font())
            font.setFamilies([family, *font.families()])
            app.setFont(font)
            return family
    return None


def make_app(qt_args: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APPLICATION,
                                                   *(qt_args or [])])
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    # Dates, calendars and numbers the Chinese way, whatever the PC's own locale is.
    chinese = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    QLocale.setDefault(chinese)
    translator = QTranslator(app)     # Qt's own words: 确定/取消, context menus, dialogs
    if translator.load(chinese, "qtbase", "_",
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    set_chinese_font(app)
    return app


def open_database(path: Path) -> sqlite3.Connection | None:
    """open_db, telling the user in Chinese what is wrong; None when it cannot be opened."""
    try:
        return db.open_db(path)
    except db.StorageError as exc:
        message = str(exc)
    except (sqlite3.Error, OSError) as exc:
        message = _tr("无法打开数据库文件“{0}”：{1}").format(path, exc)
    QMessageBox.critical(None, _tr("无法打开数据库"), message)
    return None


def build_main_window(conn: sqlite3.Connection, path, settings: QSettings | None = None
                      ) -> MainWindow:
    """The main window over an open database (not shown yet)."""
    return MainWindow(conn, path, settings)


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else list(argv))
    app = make_app(qt_args)
    from shequ_desktop.logs import log_path
    crash.install(str(log_path()))
    try:
        if args.db:
            path = Path(args.db).expanduser()
        else:
            from shequ_desktop.paths import default_db_path
            path = default_db_path()
    except OSError as exc:
        QMessageBox.critical(None, _tr("无法打开数据库"),
                             _tr("无法创建数据文件夹：{0}").format(exc))
        return 1
    conn = open_database(path)
    if conn is None:
        return 1
    try:
        if community.is_empty(Context(conn)):
            from ui.first_start import run_first_start
            if not run_first_start(conn, path):
                return 0
        window = build_main_window(conn, path)
        window.show()
        try:
            return app.exec()
        finally:
            background.finish_all()
    finally:
        conn.close()
