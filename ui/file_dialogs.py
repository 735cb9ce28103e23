"""File dialogs that start where the user expects: the folder last used for the same purpose
(remembered in QSettings under folders/<purpose>), else Documents (created when missing).

Purposes are short names: "import", "export", "backup", "package", "pdf", "font", "errors".
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget


def documents() -> Path:
    """The user's Documents folder, created if it is missing (a fresh office PC account)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    path = Path(folder) if folder else Path.home() / "Documents"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path.home()
    return path


def start_folder(purpose: str, settings: QSettings | None = None) -> Path:
    remembered = (settings or QSettings()).value(f"folders/{purpose}", "", str)
    if remembered and Path(remembered).is_dir():
        return Path(remembered)
    return documents()


def remember(purpose: str, chosen: str, settings: QSettings | None = None) -> None:
    """Keep the folder of a chosen file (or the chosen folder itself) for next time."""
    path = Path(chosen)
    (settings or QSettings()).setValue(f"folders/{purpose}",
                                       str(path if path.is_dir() else path.parent))


def open_file(parent: QWidget | None, purpose: str, title: str, filters: str) -> str:
    """A file to read, or '' when cancelled."""
    chosen, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder(purpose)), filters)
    if chosen:
        remember(purpose, chosen)
    return chosen


def save_file(parent: QWidget | None, purpose: str, title: str, name: str, filters: str) -> str:
    """Where to write a file suggested as `name` (a bare name goes into the start folder; a
    full path is kept), or '' when cancelled."""
    suggested = Path(name)
    if not suggested.is_absolute() or not suggested.parent.is_dir():
        suggested = start_folder(purpose) / suggested.name
    chosen, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), filters)
    if chosen:
        remember(purpose, chosen)
    return chosen


def choose_folder(parent: QWidget | None, purpose: str, title: str,
                  current: str | None = None) -> str:
    """A folder, or '' when cancelled."""
    start = current if current and Path(current).is_dir() else str(start_folder(purpose))
    chosen = QFileDialog.getExistingDirectory(parent, title, start)
    if chosen:
        remember(purpose, chosen)
    return chosen
