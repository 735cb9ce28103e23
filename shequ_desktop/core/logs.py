"""The program's log file: <data dir>/logs/shequ.log, rotated at 1 MB, 5 kept.

`logging` is imported on first use (it costs ~6 ms of start-up, and a healthy session logs
nothing).
"""
from __future__ import annotations

from pathlib import Path

from shequ_desktop.core.paths import data_dir


def log_path() -> Path:
    return data_dir() / "logs" / "shequ.log"


def setup_logging() -> Path:
    import logging
    from logging.handlers import RotatingFileHandler

    path = log_path()
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def log_error(message: str) -> None:
    """Write an error to the log file (and to any other handler, e.g. in tests)."""
    import logging

    try:
        setup_logging()
    except OSError:            # no writable data folder: the message still reaches handlers
        pass
    logging.getLogger("shequ").error(message)
