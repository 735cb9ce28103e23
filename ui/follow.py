"""Keeping a widget current: it hears the Context's changes for as long as it exists."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject

from shequ_desktop.context import Change, Context


def follow_changes(widget: QObject, ctx: Context,
                   callback: Callable[[list[Change]], None]) -> None:
    """Subscribe `callback`; unsubscribe when the widget is destroyed (a closed page must not
    be called on after Qt has deleted it)."""
    ctx.subscribe(callback)
    widget.destroyed.connect(lambda *_: ctx.unsubscribe(callback))
