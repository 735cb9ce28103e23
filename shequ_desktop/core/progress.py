"""Progress reporting for long domain work: `progress(done, total)`; returning False cancels."""
from __future__ import annotations

from typing import Callable, Optional

Progress = Optional[Callable[[int, int], Optional[bool]]]


class Cancelled(Exception):
    def __init__(self) -> None:
        super().__init__("操作已取消，未保存任何修改")


def report(progress: Progress, done: int, total: int) -> None:
    """Tell the caller how far we are; raise Cancelled if it asked to stop."""
    if progress is not None and progress(done, total) is False:
        raise Cancelled()
