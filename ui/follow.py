"""Keeping a widget current: it hears the Context's changes for as long as it exists."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject

from shequ_desktop.core.context import Change, Context


def follow_changes(widget: QObject, ctx: Context,
                   callback: Callable[[list[Change]], None]) -> None:
    """Subscribe `callback`; unsubscribe when the widget is destroyed (a closed page must not
    be called on after Qt has deleted it)."""
    ctx.subscribe(callback)
    widget.destroyed.connect(lambda *_: ctx.unsubscribe(callback))


class ReloadWhenShown:
    """Mixin for a page that reads its data only while it can be seen: a change or a new unit
    while it is hidden marks it stale, and it reads again when next shown. The page implements
    reload(); put this class before the Qt widget class in the bases."""

    _stale = True

    def _reload_when_shown(self) -> None:
        if self.isVisible():
            self._stale = False
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()


def set_quietly(widget, value, by_data: bool = True) -> None:
    """Set a chooser to the item with this data (or a spin box to this value) without its
    change signal: a page opened for a target sets several filters, then reloads once."""
    blocker = widget.blockSignals(True)
    if by_data:
        widget.setCurrentIndex(max(0, widget.findData(value)))
    else:
        widget.setValue(value)
    widget.blockSignals(blocker)
