"""The program's log file: <data dir>/logs/shequ.log, rotated at 1 MB, 5 kept."""
from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from shequ_desktop.paths import data_dir


def log_path() -> Path:
    return data_dir() / "logs" / "shequ.log"


def setup_logging() -> Path:
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
