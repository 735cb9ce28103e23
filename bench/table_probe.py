"""Started as a fresh process by bench/run.py (the `table` benchmark): open the resident table on a
street database, paint it, jump far down, and print

    result <first paint ms> <jump ms> <extra MB> <extra MB at first paint>

(or `unavailable: …` when `qsql` is asked for and this PySide6 has no QSQLITE driver).

`ours DB`: the residents page the user sees (ui.pages.residents_page.ResidentsPage: search box,
filter bar, count label and the lazy ResidentTableModel in a QTableView).
`list DB`: the straightforward model: a QAbstractTableModel that loads every row's display values
(shequ_desktop.population.resident_list.rows for all ids) into a Python list up front, in a QTableView.
`qsql DB`: QSqlQueryModel (driver QSQLITE, same file) with a plain SELECT of the same columns.

The peers' views get the same settings as ours (fixed row height, no row header, the same
columns hidden), so the difference is the model. Whatever Qt does once per process (fonts,
style) is done before the clock starts, as it is in the application by the time the resident
list opens.
"""
import sys
import time

JUMP_ROW = 150_000
SIZE = (1000, 700)          # about the middle of the main window on a laptop screen


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for text in status:
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def qsql_select() -> str:
    """Every resident column the model offers (resident_list.COLUMNS), as plain SQL gives it:
    codes stay codes (their labels live in JSON code tables, not in the database)."""
    from shequ_desktop.population.resident_list import (_BUILDING, _GRID, _GRID_JOINS, _JOINS, _UNIT,
                                             COLUMNS)
    age = ("CAST(strftime('%Y', 'now') AS INTEGER) - CAST(strftime('%Y', r.birth_date) AS INTEGER)"
           " - (strftime('%m-%d', 'now') < strftime('%m-%d', r.birth_date))")
    extra = {"age": age, "grid": _GRID,
             "address": f"coalesce({_BUILDING}, '') || coalesce({_UNIT}, '')"
                        " || coalesce(ho.room_no, '')"}
    columns = ", ".join(f"{extra.get(c, 'r.' + c)} AS {c}" for c in COLUMNS)
    return (f"SELECT {columns} FROM residents r {_JOINS} {_GRID_JOINS}"
            " WHERE r.status = '在册' ORDER BY r.id")


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPoint, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QHeaderView, QTableView

    import db
    from shequ_desktop.population.resident_list import COLUMNS, DEFAULT_COLUMNS, ResidentQuery, rows
    from shequ_desktop.core.context import Context
    from ui.pages.residents_page import ResidentsPage

    class ListModel(QAbstractTableModel):
        """All rows in a Python list, one tuple of display values per resident."""

        def __init__(self, conn):
            super().__init__()
            self._rows = [tuple(r[c] for c in COLUMNS)
                          for r in rows(conn, ResidentQuery().ids(conn))]

        def rowCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(self._rows)

        def columnCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(COLUMNS)

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
                return None
            value = self._rows[index.row()][index.column()]
            return "" if value is None else str(value)

        def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
                return COLUMNS[section]
            return None

    def peer_view(model) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        header = view.verticalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(view.fontMetrics().height() + 10)
        header.setVisible(False)
        for column, key in enumerate(COLUMNS):
            view.horizontalHeader().setSectionHidden(column, key not in DEFAULT_COLUMNS)
        return view

    def paint(widget, view) -> None:
        widget.resize(*SIZE)
        widget.show()
        app.processEvents()
        view.viewport().repaint()      # synchronous: returns when the rows are painted
        app.processEvents()

    app = QApplication([])
    if mode == "qsql":
        from PySide6.QtSql import QSqlDatabase, QSqlQuery, QSqlQueryModel
        if "QSQLITE" not in QSqlDatabase.drivers():
            print("unavailable: no QSQLITE driver in this PySide6", flush=True)
            return
        qdb = QSqlDatabase.addDatabase("QSQLITE")
        qdb.setDatabaseName(path)
        if not qdb.open():
            raise RuntimeError(qdb.lastError().text())
    else:
        conn = db.open_db(path)

    # Once-per-process Qt work (fonts with CJK glyphs, style), outside the measurement.
    warm = QStandardItemModel(30, len(DEFAULT_COLUMNS))
    for r in range(30):
        for c in range(len(DEFAULT_COLUMNS)):
            warm.setItem(r, c, QStandardItem(f"王芳 3号楼2单元501 {r}"))
    warm_view = QTableView()
    warm_view.setModel(warm)
    paint(warm_view, warm_view)
    warm_view.close()
    warm_view.deleteLater()
    app.processEvents()

    before = rss_mb()
    start = time.perf_counter()
    if mode == "ours":
        widget = ResidentsPage(Context(conn))
        view, model = widget.view, widget.model
    elif mode == "list":
        model = ListModel(conn)
        widget = view = peer_view(model)
    else:
        model = QSqlQueryModel()
        model.setQuery(QSqlQuery(qsql_select(), qdb))
        if model.lastError().isValid():
            raise RuntimeError(model.lastError().text())
        widget = view = peer_view(model)
    paint(widget, view)
    first = (time.perf_counter() - start) * 1000
    first_mb = rss_mb() - before
    top = view.indexAt(QPoint(5, 5))
    if top.row() != 0 or not top.data():
        raise RuntimeError(f"first paint: top row {top.row()} {top.data()!r}")

    start = time.perf_counter()
    # QSqlQueryModel knows only the rows fetched so far (256 at first); row 150,000 exists for
    # the view only after fetching up to it, which is what the user would wait for.
    while model.rowCount() <= JUMP_ROW and model.canFetchMore():
        model.fetchMore()
    app.processEvents()                # lets the view take in the new rows (scroll range)
    view.scrollTo(model.index(JUMP_ROW, view.horizontalHeader().logicalIndex(0)))
    view.viewport().repaint()
    app.processEvents()
    jump = (time.perf_counter() - start) * 1000
    shown = {view.indexAt(QPoint(5, y)).row() for y in range(5, view.viewport().height(), 7)}
    if JUMP_ROW not in shown or not model.index(JUMP_ROW, 0).data():
        raise RuntimeError(f"jump: rows {min(shown)}–{max(shown)} shown, not {JUMP_ROW}")
    # Memory once the model is showing and has been scrolled far down (ours then holds the
    # full id list and a few cached pages: its steady state).
    extra = rss_mb() - before
    print(f"result {first:.3f} {jump:.3f} {extra:.3f} {first_mb:.3f}", flush=True)


if __name__ == "__main__":
    main()
