"""Keeping the records safe while the program runs: automatic backups (at most once a day
while it runs, and when it closes), backups and restores by hand, and what happens when the
database is found damaged at start (it is opened read-only and the newest good backup is
offered). The backup folder is per PC (QSettings "backup/folder"), so it can be a USB drive.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from db import StorageError, open_read_only
from db.backup import check_file
from db.driver import sqlite3
from shequ_desktop.core.access import is_admin
from shequ_desktop.security import backups
from ui import background, operations

DAMAGED = "数据库文件已损坏，只能查看，不能修改。请从备份恢复。"
ADMINS_ONLY = "只有管理员可以立即备份、从备份恢复和选择备份文件夹"
BACKUP_EVERY_MS = 30 * 60 * 1000          # look every half hour whether today's backup is due


def _tr(text: str) -> str:
    return QCoreApplication.translate("safety", text)


def backup_folder(settings: QSettings | None = None) -> Path:
    settings = settings if settings is not None else QSettings()
    return Path(settings.value("backup/folder", str(backups.default_folder())))


def _database_id(path: Path) -> str | None:
    """The id of a (possibly damaged) database, read without writing; None if unreadable."""
    try:
        conn = open_read_only(path)
        try:
            return backups.database_id(conn, create=False)
        finally:
            conn.close()
    except (sqlite3.Error, StorageError, ValueError):
        return None


def when_damaged(path: Path, problem: str, parent: QWidget | None = None) -> str | None:
    """Before anything is opened: tell the user and offer the newest good backup.
    Returns "restored", "read" (open read-only) or None (quit)."""
    folder = backup_folder()
    good = backups.newest_good(folder, path.stem, _database_id(path))
    text = _tr("数据库文件已损坏，为保护数据，不会以可写方式打开它。\n\n{0}").format(problem)
    box = QMessageBox(QMessageBox.Icon.Critical, _tr("数据库已损坏"), text, parent=parent)
    if good is not None:
        box.setInformativeText(_tr("最新的完好备份：{0}").format(good.name))
        restore = box.addButton(_tr("从这个备份恢复"), QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setInformativeText(_tr("在备份文件夹“{0}”中没有找到这个数据库的完好备份。"
                                   "可以选择其他备份文件，或把数据库文件交给维护人员。")
                               .format(folder))
        restore = box.addButton(_tr("选择备份文件…"), QMessageBox.ButtonRole.AcceptRole)
    read = box.addButton(_tr("只读查看"), QMessageBox.ButtonRole.RejectRole)
    box.addButton(_tr("退出"), QMessageBox.ButtonRole.DestructiveRole)
    box.exec()
    if box.clickedButton() is read:
        return "read"
    if box.clickedButton() is not restore:
        return None
    if good is None:
        chosen, _ = QFileDialog.getOpenFileName(parent, _tr("选择要恢复的备份"), str(folder),
                                                _tr("数据库备份 (*.db)"))
        if not chosen:
            return None
        good = Path(chosen)
    try:
        kept = backups.restore(path, good, folder, "系统")
    except Exception as exc:                         # noqa: BLE001 - shown to the user
        QMessageBox.critical(parent, _tr("恢复失败"), str(exc))
        return None
    QMessageBox.information(parent, _tr("恢复完成"), _tr(
        "已从备份“{0}”恢复。损坏的数据库保存在：\n{1}").format(good.name, kept))
    return "restored"


class Safety(QObject):
    def __init__(self, window, settings: QSettings | None = None, damaged: str | None = None):
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.path = Path(window.path)
        self.settings = settings if settings is not None else window.settings
        self.damaged = damaged
        self.closed = False                  # the window has closed: no more backups
        self.timer = QTimer(self)
        self.timer.setInterval(BACKUP_EVERY_MS)
        self.timer.timeout.connect(self.backup_if_due)
        self._add_actions(window.file_menu)

    # --- settings ---------------------------------------------------------------------------
    def folder(self) -> Path:
        return backup_folder(self.settings)

    def choose_folder(self) -> None:
        if self._refused():
            return
        chosen = QFileDialog.getExistingDirectory(self.window, _tr("选择备份文件夹（可以是 U 盘）"),
                                                  str(self.folder()))
        if chosen:
            self.settings.setValue("backup/folder", chosen)

    def _add_actions(self, menu) -> None:
        first = menu.actions()[0] if menu.actions() else None
        self.backup_action = menu.addAction(_tr("立即备份(&B)"), self.backup_now)
        self.restore_action = menu.addAction(_tr("从备份恢复…"), self.restore_from_file)
        self.folder_action = menu.addAction(_tr("备份文件夹…"), self.choose_folder)
        if first is not None:                   # before 刷新/退出
            for action in (self.backup_action, self.restore_action, self.folder_action):
                menu.removeAction(action)
                menu.insertAction(first, action)
            menu.insertSeparator(first)
        if not self.allowed():                  # a backup is the whole database
            for action in (self.backup_action, self.restore_action, self.folder_action):
                action.setEnabled(False)
                action.setToolTip(_tr(ADMINS_ONLY))
                action.setStatusTip(_tr(ADMINS_ONLY))

    def allowed(self) -> bool:
        """Backups by hand, restores and the backup folder: administrators only (automatic
        backups still go to the folder an administrator chose)."""
        return is_admin(self.ctx.access)

    def _refused(self) -> bool:
        if self.allowed():
            return False
        QMessageBox.warning(self.window, _tr("无法操作"), _tr(ADMINS_ONLY))
        return True

    def start(self) -> None:
        """Call once the window is shown."""
        if self.closed:
            return
        if self.damaged:
            self.ctx.read_only = DAMAGED
            self.window.statusBar().showMessage(_tr("数据库已损坏，只读"))
            return
        self.timer.start()
        QTimer.singleShot(0, self, self.backup_if_due)

    # --- backups ----------------------------------------------------------------------------
    def backup_if_due(self) -> None:
        if self.closed or self.damaged is not None:
            return
        db_id = backups.database_id(self.window.conn, create=False)
        if backups.is_due(self.folder(), self.path.stem, db_id):
            self._backup(quiet=True)

    def backup_now(self) -> None:
        if self._refused():
            return
        if self.damaged is not None:
            QMessageBox.warning(self.window, _tr("无法备份"), DAMAGED)
            return
        self._backup(quiet=False, done=lambda target: QMessageBox.information(
            self.window, _tr("备份完成"), _tr("已备份到：\n{0}").format(target)))

    def _backup(self, *, quiet: bool, done=None, parent: QWidget | None = None):
        """A backup is an operation like any write (it records who made it): queued behind
        an import or merge under way, so it copies the database after it, not during."""
        folder = self.folder()

        def work(ctx, progress):
            return backups.make_backup(ctx.conn, folder, ctx.user, progress=progress)

        def failed(exc: BaseException) -> None:
            self.window.statusBar().showMessage(_tr("自动备份失败：{0}").format(exc))
            if not quiet:
                background.show_error(self.window, exc)

        return operations.CollectionOp(
            parent or self.window, self.ctx, work, quiet=quiet, label=_tr("正在备份数据库…")) \
            .failure(failed).success(done or (lambda target: self.window.statusBar().showMessage(
                _tr("已自动备份到 {0}").format(target), 10000))).run_in_background()

    def backup_on_close(self) -> None:
        """The last backup, with progress and cancel (the window is already closed)."""
        if self.closed:
            return
        self.closed = True
        self.timer.stop()
        if self.damaged is None:
            self._backup(quiet=False, parent=None).wait()

    # --- restore ----------------------------------------------------------------------------
    def restore_from_file(self) -> None:
        if self._refused():
            return
        chosen, _ = QFileDialog.getOpenFileName(self.window, _tr("选择要恢复的备份"),
                                                str(self.folder()), _tr("数据库备份 (*.db)"))
        if chosen:
            answer = QMessageBox.question(self.window, _tr("从备份恢复"), _tr(
                "用备份“{0}”替换当前数据库？\n当前数据库会先另存一份到备份文件夹。"
                "恢复后程序将关闭，请重新打开。").format(Path(chosen).name))
            if answer == QMessageBox.StandardButton.Yes:
                self.restore(Path(chosen))

    def restore(self, backup: Path) -> None:
        if self._refused():
            return
        problem = check_file(backup, full=True)
        if problem:
            QMessageBox.warning(self.window, _tr("无法恢复"), problem)
            return
        self.window.conn.close()
        self.damaged = self.damaged or "restoring"      # no backup of the replaced database
        try:
            kept = backups.restore(self.path, backup, self.folder(), self.ctx.user)
        except Exception as exc:                         # noqa: BLE001 - shown to the user
            QMessageBox.critical(self.window, _tr("恢复失败"), _tr(
                "{0}\n\n程序将关闭，请重新打开。").format(exc))
        else:
            QMessageBox.information(self.window, _tr("恢复完成"), _tr(
                "已从备份恢复。恢复前的数据库保存在：\n{0}\n\n程序将关闭，请重新打开。").format(kept))
        QCoreApplication.quit()
