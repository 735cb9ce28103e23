"""National and application code tables (民族、学历、与户主关系 ...) loaded from JSON."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Iterator

from shequ_desktop.core.resources import resource_path

CODES_DIR = resource_path("codes")


def normalize(text: str) -> str:
    """NFKC-normalise and drop all whitespace, so "　男 " matches "男"."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


@dataclass(frozen=True)
class CodeItem:
    code: str
    label: str
    aliases: tuple[str, ...] = ()


class CodeTable:
    """One code table: code <-> label, with aliases accepted on input."""

    def __init__(self, name: str, title: str, standard: str, items: tuple[CodeItem, ...]):
        self.name, self.title, self.standard, self.items = name, title, standard, items
        self._labels = {item.code: item.label for item in items}
        self._lookup: dict[str, str] = {}
        for item in items:
            for key in {normalize(k) for k in (item.code, item.label, *item.aliases)}:
                if key in self._lookup:
                    raise ValueError(f"code table {name!r}: {key!r} is ambiguous")
                self._lookup[key] = item.code
        if len(self._labels) != len(items):
            raise ValueError(f"code table {name!r}: duplicate codes")

    def label(self, code: str) -> str | None:
        """The label for a code, or None if the code is unknown."""
        return self._labels.get(code)

    def code_for(self, text: str | None) -> str | None:
        """The code for a code, label or alias; None if nothing matches."""
        if text is None:
            return None
        key = normalize(text)
        found = self._lookup.get(key)
        if found is None and key.isascii() and key.isdigit():
            found = self._lookup.get(key.zfill(2))  # "1" from a sheet that lost "01"
        return found

    def codes(self) -> list[str]:
        return [item.code for item in self.items]

    def __contains__(self, code: object) -> bool:
        return code in self._labels

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[CodeItem]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"CodeTable({self.name!r}, {len(self)} items)"


@cache
def table(name: str) -> CodeTable:
    """Load resources/codes/{name}.json (once)."""
    path = CODES_DIR / f"{name}.json"
    if not name.isidentifier() or not path.is_file():
        raise KeyError(f"unknown code table {name!r}; known: {', '.join(table_names())}")
    data = json.loads(path.read_text(encoding="utf-8"))
    items = tuple(
        CodeItem(str(i["code"]), i["label"], tuple(i.get("aliases", ()))) for i in data["items"]
    )
    return CodeTable(data["name"], data["title"], data["standard"], items)


def table_names() -> list[str]:
    """Names of all code tables shipped in resources/codes."""
    return sorted(p.stem for p in CODES_DIR.glob("*.json"))
