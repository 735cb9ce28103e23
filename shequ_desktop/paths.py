"""Where the program keeps its files (platformdirs: %APPDATA% on Windows, XDG on Linux)."""
from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "shequ_desktop"
APP_AUTHOR = "shequ"


def data_dir() -> Path:
    override = os.environ.get("SHEQU_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir
    return Path(user_data_dir(APP_NAME, APP_AUTHOR))


def default_db_path() -> Path:
    """The built-in default database; its folder is created on first use."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "shequ.db"
