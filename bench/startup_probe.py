"""Started as a fresh process by bench/run.py: show a main window, print when it is on screen.

`bare`: a bare PySide6 QMainWindow (the floor). `app DB`: the application's main window on DB,
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
    else:
        import db
        from ui.app import build_main_window

        path = sys.argv[2]
        window = build_main_window(db.open_db(path), path)
    window.show()
    QTimer.singleShot(0, shown)
    app.exec()


if __name__ == "__main__":
    main()
