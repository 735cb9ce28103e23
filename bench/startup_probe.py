"""Started as a fresh process by bench/run.py: show a main window, print when it is on screen.

`bare`: a bare PySide6 QMainWindow (the floor). `views`: a QMainWindow with a tree and a
table over a small standard model (what any item-view program pays: the Qt namespace's enums
alone take ~15 ms to create on first use). `app DB`: the application's main window on DB,
built the way ui.app.main builds it.
"""
import sys
import time

T0 = time.perf_counter()


def shown():
    print(f"shown {time.perf_counter() - T0:.4f}", flush=True)
    if "ui.background" in sys.modules:
        sys.modules["ui.background"].finish_all()
    sys.exit(0)


def main():
    mode = sys.argv[1]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    if mode == "bare":
        window = QMainWindow()
        window.resize(1200, 800)
    elif mode == "views":
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QStandardItem, QStandardItemModel
        from PySide6.QtWidgets import QSplitter, QTableView, QTreeView

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
