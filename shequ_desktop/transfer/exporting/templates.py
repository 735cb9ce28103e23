"""Export templates: JSON files under resources/export_templates/, one per template.

    {"title": "…", "what": "residents", "description": "…",
     "sheets": [{"name": "实有人口", "source": "residents",
                 "columns": [{"header": "公民身份号码", "field": "id_number"}, …]}]}

`what` is what the export lists (residents, households, focus, visits, events, volunteers);
each sheet takes its rows from a source in exporting/sources.py and its columns, in order,
from the template. A new template is a new file: no code.

A column entry {"registry": true, "skip": [...]} stands for every registry field of the source
not named elsewhere in the sheet, in registry order: a new field reaches such a template
without an edit. Codings (issue 16): "coding": "code" (template, sheet or column) writes
code-table values as codes, as does a header asking for 代码/编码; "dates": "YYYYMMDD" writes
dates as text in that form; a sheet's "only": {"residence_type": ["2"]} lists only the
records whose field has one of the codes; "for_upload": true marks a template whose file goes to a platform
(full numbers, after confirmation).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.fields import fields as registry_fields
from shequ_desktop.core.resources import resource_path
from shequ_desktop.population import focus_groups
from shequ_desktop.transfer.exporting import coding as codings
from shequ_desktop.transfer.exporting.sources import (
    SOURCES,
    Column,
    Source,
    registry_column,
)

TEMPLATES_DIR = resource_path("export_templates")
WHAT = {"residents": "居民", "households": "户和成员", "focus": "重点人群", "visits": "走访记录",
        "events": "事件", "volunteers": "志愿者和服务时长"}
DEFAULTS = {"residents": "district_residents", "households": "households",
            "focus": "focus_groups", "visits": "visits", "events": "events",
            "volunteers": "volunteers"}


@dataclass(frozen=True)
class Sheet:
    name: str
    source: Source
    columns: tuple[tuple[str, Column], ...]      # (header, source column)
    only: tuple[tuple[str, tuple], ...] = ()     # rows whose field has one of these values


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    what: str
    description: str
    sheets: tuple[Sheet, ...]
    for_upload: bool = False


@cache
def load(name: str) -> Template:
    path = TEMPLATES_DIR / f"{name}.json"
    if not path.is_file():
        raise DomainError(f"没有名为“{name}”的导出模板（有：{'、'.join(names())}）")
    return parse(name, json.loads(path.read_text(encoding="utf-8")), path)


def parse(name: str, data: dict, path: Path | None = None) -> Template:
    where = f"导出模板“{path.name if path else name}”"
    try:
        what = data["what"]
        if what not in WHAT:
            raise DomainError(f"{where}的 what 应为 {'、'.join(WHAT)} 之一")
        sheets = []
        for s in data["sheets"]:
            source = SOURCES.get(s["source"])
            if source is None:
                raise DomainError(f"{where}：没有名为“{s['source']}”的数据来源")
            columns = []
            named = {c["field"] for c in s["columns"] if "field" in c}
            for c in s["columns"]:
                if c.get("registry"):
                    columns += [(column.label, _coded(column, column.label, (data, s)))
                                for column in _registry(source, named | set(c.get("skip", ())))]
                    continue
                try:
                    column = source.column(c["field"])
                except KeyError:
                    raise DomainError(f"{where}：工作表“{s['name']}”的列“{c.get('field')}”"
                                      f"不是{source.title}的字段") from None
                header = c.get("header") or column.label
                columns.append((header, _coded(column, header, (data, s, c))))
            only = tuple((k, tuple(str(v) for v in vs)) for k, vs in s.get("only", {}).items())
            sheets.append(Sheet(s["name"], source, tuple(columns), only))
    except (KeyError, TypeError) as exc:
        raise DomainError(f"{where}格式不对（缺少 {exc}）") from None
    return Template(name, data.get("title", name), what, data.get("description", ""),
                    tuple(sheets), bool(data.get("for_upload")))


def _registry(source: Source, skip: set[str]) -> list[Column]:
    if source.entity is None:
        raise KeyError("registry")
    return [registry_column(f) for f in registry_fields(source.entity) if f.name not in skip]


def _coded(column: Column, header: str, levels: tuple[dict, ...]) -> Column:
    """The column with the coding and date format the innermost level (column, sheet,
    template) or the header asks for."""
    coding = "code" if codings.asks_code(header) else None
    dates = codings.header_dates(header)
    for level in levels:
        coding = level.get("coding", coding)
        dates = level.get("dates", dates)
    return codings.apply(column, coding=coding, dates=dates)


def names(what: str | None = None) -> list[str]:
    """Template names, those for `what` only when given."""
    out = []
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        if what is None or load(path.stem).what == what:
            out.append(path.stem)
    return out


def for_what(what: str, name: str | None = None) -> Template:
    if what not in WHAT:
        raise DomainError(f"不能导出“{what}”（可导出：{'、'.join(WHAT)}）")
    template = load(name or DEFAULTS[what])
    if template.what != what:
        raise DomainError(f"导出模板“{template.name}”用于导出{WHAT[template.what]}，"
                          f"不能用于{WHAT[what]}")
    return template


def focus_group_template(conn: sqlite3.Connection, tag_id: int):
    """The focus export of one group: the default focus template's columns, only this
    group's members, and the group's extra fields as columns after them."""
    tag = conn.execute("SELECT name FROM tags WHERE id = ?", (tag_id,)).fetchone()
    if tag is None:
        raise DomainError(f"找不到重点人群类别（编号 {tag_id}）")
    base = for_what("focus")
    sheet = base.sheets[0]
    extra = tuple((label, Column("extra:" + label, label)) for label in focus_groups.fields_of(conn, tag_id))
    sheet = replace(sheet, name=tag["name"][:31], columns=sheet.columns + extra,
                    only=(("tag", (tag["name"],)),))
    return replace(base, name=f"{base.name}:{tag['name']}", title=f"{tag['name']}名单",
                   sheets=(sheet,))
