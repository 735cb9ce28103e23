"""Running one service call from a widget: an expected refusal (a rule, a locked or full
database, a file that cannot be written) is shown to the user, not raised."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from db import StorageError
from shequ_desktop.core.errors import DomainError


def attempt(parent: QWidget, title: str, action: Callable[[], object]) -> bool:
    """True when `action()` went through; False after showing why it was refused."""
    try:
        action()
    except (DomainError, StorageError, OSError) as exc:
        QMessageBox.warning(parent, title, str(exc))
        return False
    return True
