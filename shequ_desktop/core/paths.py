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


def use_private_temp() -> Path:
    """Temporary files of this process (xlsxwriter's rows of an export, report previews,
    printing) go to a folder of its own under the data folder, readable by the user only
    (not the shared system temp): removed when the process ends, and — when it was killed —
    at the next start of the program or of any `shequ` command. Returns the folder."""
    import atexit
    import secrets
    import shutil
    import tempfile

    root = data_dir() / "tmp"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(root)
    for left in root.iterdir():
        if left.is_dir() and not _still_running(left.name):
            shutil.rmtree(left, ignore_errors=True)
    mine = root / f"{os.getpid()}-{secrets.token_hex(4)}"
    mine.mkdir(mode=0o700)
    _owner_only(mine)
    tempfile.tempdir = str(mine)
    atexit.register(shutil.rmtree, mine, ignore_errors=True)
    return mine


def _owner_only(folder: Path) -> None:
    try:
        folder.chmod(0o700)
    except OSError:                       # a file system without permissions (FAT stick)
        pass


def _still_running(name: str) -> bool:
    """Whether the process whose temporary folder this is still runs (POSIX asks the OS;
    on Windows a running process's open files survive the removal attempt anyway)."""
    pid = name.split("-", 1)[0]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    if os.name == "nt":
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
