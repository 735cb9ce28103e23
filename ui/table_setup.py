"""How the program's read-only tables look and behave: whole rows, fixed row height (a view that
measures every row takes 111 s at 200k), no row numbers, left-aligned headers, widths given in
Chinese characters."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


def setup_table(view: QTableView, widths: list[int], *, multi: bool = False,
                stretch: int | None = None) -> None:
    """`widths[i]`: column i's width in Chinese characters; `stretch`: the column that takes
    what is left; `multi`: several rows may be selected."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    metrics = view.fontMetrics()
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(metrics.height() + 10)
    rows.setVisible(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    char = metrics.horizontalAdvance("汉")
    for column, chars in enumerate(widths):
        header.resizeSection(column, max(chars, 2) * char + 14)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)   # the list's own order
    view.setSortingEnabled(True)
    # Connected after the view's own sorting slot: a sorted list shows its first rows, its
    # selection kept (docs/decisions.md, issue 20).
    header.sortIndicatorChanged.connect(lambda *_: view.scrollToTop())
