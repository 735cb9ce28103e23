"""Where the program's own files are (code tables, export templates, translations).

They live in the top-level `resources/` folder of the source tree. The wheel and the bundle
carry that folder, unmoved, as the package `shequ_resources` (setup.cfg `package_dir`), found
through importlib.resources. A source checkout that was never installed reads the folder
beside the package directly.
"""
from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

PACKAGE = "shequ_resources"


@cache
def root() -> Path:
    beside = Path(__file__).resolve().parents[2] / "resources"
    if (beside / "codes" / "gender.json").is_file():      # a source checkout (editable too)
        return beside
    return Path(str(resources.files(PACKAGE)))             # installed: wheel or bundle


def resource_path(*parts: str) -> Path:
    return root().joinpath(*parts)
