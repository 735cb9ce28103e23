"""Start the GUI: `python main.py [--db PATH]`."""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QSettings, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from db.driver import sqlite3
from shequ_desktop.core import pinyin
from ui import crash, operations, translations
from ui.main_window import MainWindow

# Imports inside functions here are lazy for start-up: the sign-in dialog shows before the
# database, the window and their modules are loaded.

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
    parser.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
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
    translations.install(app)         # Qt's own words: 确定/取消, file and print dialogs
    set_chinese_font(app)
    return app


def build_main_window(conn: sqlite3.Connection, path, settings: QSettings | None = None,
                      user=None) -> MainWindow:
    """The main window over an open database (not shown yet), for a signed-in user."""
    return MainWindow(conn, path, settings, user=user)


class SmokeTest:
    """`--smoke-test` (packaging/bundle.sh checks a bundle with it): sign in as a user pressing
    Enter in each dialog (a demo database fills in its login), show the window, say how long
    that took, and quit. Gives up with exit code 1 after a minute."""

    def __init__(self, app: QApplication):
        self.app, self.started = app, time.perf_counter()
        self.timer = QTimer(app)
        self.timer.timeout.connect(self._press_enter)
        self.timer.start(50)
        QTimer.singleShot(60_000, app, lambda: app.exit(1))

    def _press_enter(self) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            return
        for button in dialog.findChildren(QPushButton):
            if button.isDefault() and button.isEnabled() and button.isVisible():
                button.click()
                return

    def window_shown(self) -> None:
        print(f"smoke-test: window shown {time.perf_counter() - self.started:.2f} s after start",
              flush=True)
        self.app.quit()


def _bring_forward(window) -> None:
    """A second start on this database: show this window instead."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else list(argv))
    app = make_app(qt_args)
    smoke = SmokeTest(app) if args.smoke_test else None
    from shequ_desktop.core.logs import log_path
    crash.install(str(log_path()))
    try:
        if argv is None:                 # a real start: temporary files in a private folder
            from shequ_desktop.core.paths import use_private_temp
            use_private_temp()
        if args.db:
            path = Path(args.db).expanduser()
        else:
            from shequ_desktop.core.paths import default_db_path
            path = default_db_path()
    except OSError as exc:
        QMessageBox.critical(None, _tr("无法打开数据库"),
                             _tr("无法创建数据文件夹：{0}").format(exc))
        return 1
    from ui.single_instance import Instance
    instance = Instance(path, app)
    if not instance.acquire():
        QMessageBox.information(None, _tr("已经打开"), _tr(
            "数据库“{0}”已在另一个窗口中打开，已把那个窗口调到前面。").format(path))
        return 0
    try:
        return _run(app, path, smoke, instance)
    finally:
        instance.release()


def _run(app, path: Path, smoke, instance) -> int:
    """Sign in, show the window and run until it closes (this process owns the database)."""
    from ui import start
    session = start.open_session(path)
    if isinstance(session, int):
        return session
    conn, damaged = session.conn, session.damaged
    try:
        from ui import safety as safety_module
        from ui.login import IdleLock, add_account_actions
        try:
            window = build_main_window(conn, path, user=session.user)
        except sqlite3.DatabaseError as exc:
            if damaged is None:
                raise
            QMessageBox.critical(None, _tr("数据库已损坏"), _tr(
                "数据库损坏严重，无法打开查看：{0}\n请从备份恢复，或把文件交给维护人员。").format(exc))
            return 1
        window.db_key = session.db_key
        safety = safety_module.Safety(window, damaged=damaged)
        add_account_actions(window, IdleLock(window))
        window.show()
        instance.activated.connect(lambda: _bring_forward(window))
        # Choosers sort names by pinyin: its tables load in the background meanwhile.
        threading.Thread(target=pinyin.warm, name="pinyin", daemon=True).start()
        # After the first paint: the quick check, then the automatic backups.
        QTimer.singleShot(0, safety, safety.start if session.checked else (
            lambda: start.check_pages_in_background(window, path, safety)))
        if smoke is not None:
            QTimer.singleShot(0, window, smoke.window_shown)
        try:
            code = app.exec()
            safety.backup_on_close()
            return code
        finally:
            operations.finish_all()     # queued operations dropped, the running one stopped
    finally:
        conn.close()
