"""Started as a fresh process by bench/run.py: show a main window, print when it is on screen.

`bare`: a bare PySide6 QMainWindow (the floor). `views`: a QMainWindow with a tree and a
table over a small standard model (what any item-view program pays: the Qt namespace's enums
alone take ~15 ms to create on first use). `app DB`: the application's main window on DB,
built the way ui.app.main builds it. `signed_in DB USER PASSWORD`: from the moment the
password is accepted (the key unwrapped, not timed) to the main window shown, the way
ui.app.main goes on (ui.start.signed_in, the window, the page check started in the
background); `floor`: the `views` window timed the same way, from after QApplication.
"""
import sys
import time

T0 = time.perf_counter()


def shown():
    print(f"shown {time.perf_counter() - T0:.4f}", flush=True)
    if "ui.background" in sys.modules:
        sys.modules["ui.background"].finish_all()
    sys.exit(0)


def _views_window():
    """A QMainWindow with a tree and a table over a small standard model: what any item-view
    program pays (the Qt namespace's enums alone take ~15 ms to create on first use)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView, QTreeView

    model = QStandardItemModel(30, 8)
    for row in range(30):
        for column in range(8):
            model.setItem(row, column, QStandardItem(f"{row}-{column}"))
    window = QMainWindow()
    splitter = QSplitter(Qt.Orientation.Horizontal)
    tree, table = QTreeView(), QTableView()
    tree.setModel(model)
    table.setModel(model)
    splitter.addWidget(tree)
    splitter.addWidget(table)
    window.setCentralWidget(splitter)
    window.resize(1200, 800)
    window._model = model
    return window


def main():
    mode = sys.argv[1]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    global T0
    if mode in ("signed_in", "floor"):
        if mode == "signed_in":
            from shequ_desktop.security import unlock
            from ui import app as ui_app, start

            path = sys.argv[2]
            key = unlock.unlock(path, sys.argv[3], sys.argv[4])
            T0 = time.perf_counter()                 # the password was accepted
            session = start.signed_in(__import__("pathlib").Path(path), sys.argv[3], key)
            window = ui_app.build_main_window(session.conn, path, user=session.user)
        else:
            T0 = time.perf_counter()
            window = _views_window()
        window.show()
        QTimer.singleShot(0, shown)
        app.exec()
        return
    if mode == "bare":
        window = QMainWindow()
        window.resize(1200, 800)
    elif mode == "views":
        window = _views_window()
    else:
        import db
        from ui.app import build_main_window

        path = sys.argv[2]
        if len(sys.argv) > 3:                   # an encrypted database and its key (hex)
            db.use_key(path, bytes.fromhex(sys.argv[3]))
        window = build_main_window(db.open_db(path), path)
    window.show()
    QTimer.singleShot(0, shown)
    app.exec()


if __name__ == "__main__":
    main()
