"""The dry run: rows of a sheet → a plan saying, row by row, what an import would do.

Each data row is normalised and validated with the form's rules (validation.clean_record),
grouped into a household (户号, else our export's 户标识, else head + address) and matched
against the database (ID number, else name + birth date + address). Nothing is written here;
`apply.apply_plan` carries the plan out in one transaction.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.driver import sqlite3
from shequ_desktop.core import codes, idnumber, phone
from shequ_desktop.core.errors import FieldError, ValidationError
from shequ_desktop.core.fields import RESIDENT_FIELDS
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.validation import clean_record, clean_value
from shequ_desktop.population.residents import EDITABLE, HEAD, HEAD_RELATIONS
from shequ_desktop.transfer.importing import headers as headers_mod
from shequ_desktop.transfer.importing import mapping as mapping_mod
from shequ_desktop.transfer.importing import normalize
from shequ_desktop.transfer.importing.bulk import with_gc_paused
from shequ_desktop.transfer.importing.reading import Table, UnreadableFile

DECISIONS = ("skip", "update", "fill")
# A flat register (no 户号, no 与户主关系): people not found in a household on record go into
# one new household per address (head: the eldest there, marked for checking) or one
# household each.
FLAT_CHOICES = ("address", "person")
FLAT_LABELS = {"address": "同一地址的人合为一户（年龄最大者为户主，待核对）",
               "person": "每人单独立户"}
CHECK_HEAD = "导入时按“同一地址年龄最大者”设为户主，请核对户主和与户主关系"
NOTE_WORDS = ("注", "说明", "备注", "填表", "制表", "审核", "填报", "负责人", "联系人", "统计人",
              "※", "*", "＊")
DECISION_LABELS = {"skip": "跳过", "update": "覆盖", "fill": "补空"}
STATUS_LABELS = {"new": "新增", "update": "更新", "unchanged": "无变化", "skip": "跳过",
                 "error": "错误"}
_LABELS = {f.name: f.label for f in RESIDENT_FIELDS}
_RESIDENT_KEYS = set(EDITABLE)
_DATE_KEYS = {f.name for f in RESIDENT_FIELDS if f.kind == "date"}
_SENSITIVE = {f.name for f in RESIDENT_FIELDS if f.sensitive}
_FIELDS = {f.name: f for f in RESIDENT_FIELDS}
_IDENTITY = ("name", "id_type", "id_number", "birth_date", "gender")   # validated together


@dataclass(slots=True)
class PlanRow:
    line: int                          # the row number Excel shows (1-based)
    cells: list | tuple                # the row as read (rows in error only, once planned)
    values: dict = field(default_factory=dict)        # cleaned resident fields
    given: frozenset = frozenset()                    # fields the row really fills
    relation: str | None = None        # GB/T 4761 code
    household_no: str | None = None
    household_key: str | None = None
    kind: str | None = None
    head_name: str | None = None
    head_id_number: str | None = None
    address: normalize.Address | None = None
    address_text: str = ""
    group: tuple | None = None
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (column, reason)
    # Most rows have none of these three: they start as one shared empty value (100,000 rows
    # would otherwise hold 300,000 empty containers) and become a list/dict on first use.
    warnings: list | tuple = ()        # (column, reason): imported anyway
    extras: dict | None = None         # column label -> text kept with the person
    unknown: list | tuple = ()         # (column, value) no code table knows
    checking: str = ""                 # why the household needs checking (flat registers)
    match_id: int | None = None        # the resident on record this row is
    match_how: str = ""                # '身份证号' or '姓名+出生日期+地址'
    existing: dict | None = None       # that resident's fields as stored
    decision: str = "skip"             # for a matched row: skip, update or fill

    @property
    def is_head(self) -> bool:
        return self.relation in HEAD_RELATIONS

    def error(self, column: int | None, reason: str) -> None:
        self.errors.append((column, reason))

    def warn(self, column: int | None, reason: str) -> None:
        self.warnings = [*self.warnings, (column, reason)]

    def keep(self, label: str, text: str) -> None:
        """Keep a cell's text with the person (extras)."""
        if self.extras is None:
            self.extras = {}
        self.extras[label] = text

    def reason(self) -> str:
        return "；".join(dict.fromkeys(r for _c, r in self.errors))

    def diff(self, decision: str | None = None) -> dict:
        """What an update (non-empty values overwrite) or fill (only empty fields) changes."""
        decision = decision or self.decision
        if self.existing is None or decision == "skip":
            return {}
        out = {}
        for key in self.given & _RESIDENT_KEYS:
            new, old = self.values.get(key), self.existing.get(key)
            if new is None or new == old:
                continue
            if decision == "update" or old in (None, ""):
                out[key] = new
        return out

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        if self.existing is None:
            return "new"
        if self.decision == "skip":
            return "unchanged" if self.diff("update") == {} else "skip"
        return "unchanged" if self.diff() == {} else "update"


@dataclass
class Group:
    """One household of the file: its rows, and the household on record it joins (if any)."""
    key: tuple
    rows: list[int] = field(default_factory=list)     # indexes into Plan.rows
    household_id: int | None = None                   # on record already
    head: int | None = None                           # index of the head row (new household)
    checking: str = ""                                # a note for the household: check it
    needs_head: bool = False                          # on record without a head: the file's
                                                      # head row becomes its head


@dataclass
class Plan:
    path: str
    sheet: str
    header_row: int                     # index into the table's rows
    headers: list[str]
    mapping: list[str | None]
    rows: list[PlanRow]
    groups: dict[tuple, Group]
    on_duplicate: str = "skip"
    encoding: str | None = None
    flat: str = FLAT_CHOICES[0]          # how rows without household structure are grouped
    is_flat: bool = False                # the sheet has no 户号/与户主关系/户标识/户主 columns
    first_row: int = 0                   # first header row (index)

    def column(self, key: str) -> int | None:
        return self.mapping.index(key) if key in self.mapping else None

    def counts(self) -> dict[str, int]:
        out = {"rows": len(self.rows), "created": 0, "updated": 0, "unchanged": 0,
               "skipped": 0, "errors": 0}
        names = {"new": "created", "update": "updated", "unchanged": "unchanged",
                 "skip": "skipped", "error": "errors"}
        for row in self.rows:
            out[names[row.status]] += 1
        return out

    def warning_rows(self) -> list[PlanRow]:
        return [r for r in self.rows if r.warnings and not r.errors]

    def kept_columns(self) -> list[str]:
        """The labels of the columns no field takes: kept with each person as extras."""
        return [label for label in _extra_labels(self.headers, self.mapping).values()]

    def ignored_columns(self) -> list[str]:
        """Columns read as nothing at all (a row number column, columns with no cell)."""
        kept = set(_extra_labels(self.headers, self.mapping))
        return [(self.headers[c] if c < len(self.headers) else "") or f"列{c + 1}"
                for c, k in enumerate(self.mapping) if k is None and c not in kept]

    def unknown_values(self) -> dict[str, dict[str, int]]:
        """Per column label, each value no code table knows and how many rows have it."""
        out: dict[str, dict[str, int]] = {}
        for row in self.rows:
            for column, value in row.unknown:
                label = self.headers[column] or f"列{column + 1}"
                per = out.setdefault(label, {})
                per[value] = per.get(value, 0) + 1
        return out

    def error_rows(self) -> list[PlanRow]:
        return [r for r in self.rows if r.errors]

    def set_decision(self, decision: str, rows: list[PlanRow] | None = None) -> None:
        if decision not in DECISIONS:
            raise ValueError(decision)
        for row in rows if rows is not None else self.rows:
            row.decision = decision
        if rows is None:
            self.on_duplicate = decision


@with_gc_paused
def build_plan(conn: sqlite3.Connection, table: Table, mapping: list[str | None] | None = None,
               *, header_row: int | None = None, headers: list[str] | None = None,
               on_duplicate: str = "skip", values: dict | None = None,
               flat: str = "address",
               progress: Progress = None, today: dt.date | None = None) -> Plan:
    """Read the rows below the header into a plan. Raises UnreadableFile when the sheet has
    no recognisable header or no name column."""
    if on_duplicate not in DECISIONS:
        raise ValueError(on_duplicate)
    if flat not in FLAT_CHOICES:
        raise ValueError(flat)
    today = today or dt.date.today()
    first_row = header_row
    if header_row is None:
        header = headers_mod.locate(table.rows, table.sheet)
        first_row, header_row, headers = header.first_row, header.row, header.labels
    elif headers is None:
        headers = [normalize.text(h) for h in table.rows[header_row]]
    _fill_merged_down(table, header_row)
    if mapping is None:
        mapping = mapping_mod.mapping_for(conn, headers)
    mapping = list(mapping) + [None] * (len(headers) - len(mapping))
    if "name" not in mapping:
        raise UnreadableFile(f"“{table.sheet}”的表头中没有“姓名”列，无法导入")
    plan = Plan(table.path, table.sheet, header_row, headers, mapping, [], {},
                on_duplicate, table.encoding, flat, first_row=first_row)
    plan.is_flat = not {"household_no", "household_key", "relation_to_head", "head_name",
                        "head_id_number"} & set(mapping)
    data = table.rows[header_row + 1:]
    total = len(data)
    plan.rows = [PlanRow(header_row + i + 2, cells, decision=on_duplicate)
                 for i, cells in enumerate(data)
                 if not mapping_mod.is_blank(cells) and not mapping_mod.is_total(cells)
                 and not _is_note(cells)]
    _read_rows(plan.rows, (mapping, today, headers, values or {}), progress, total)
    if getattr(table, "formulas", None):
        _formula_cells(plan, table.formulas)
    _check_duplicates_in_file(plan)
    _match(conn, plan, progress, total)
    _group(conn, plan)
    for row in plan.rows:
        if not row.errors:
            row.cells = ()              # only rows in error show their cells again
    report(progress, total * 2, total * 2)
    return plan


def _formula_cells(plan: Plan, formulas: dict) -> None:
    """Formula cells were read by their cached result: a warning; a name or ID number that
    is a formula is refused (=cmd|' /C calc'!A0 is no one's name)."""
    by_line = {row.line: row for row in plan.rows}
    for (r, c), cached in sorted(formulas.items()):
        row = by_line.get(r + 1)
        if row is None or c >= len(plan.mapping):
            continue
        key = plan.mapping[c]
        label = plan.headers[c] or f"第 {c + 1} 列"
        if key in ("name", "id_number"):
            row.error(c, f"{label}：单元格是公式，不能作为{label}导入，请填写文字")
        elif cached:
            row.warn(c, f"{label}：单元格是公式，已按保存的计算结果导入")
        else:
            row.warn(c, f"{label}：单元格是公式且没有保存的计算结果，该项为空")


def _is_note(cells: list) -> bool:
    """A footnote under the data: one or two filled cells, the first a 注/说明/填表人… text."""
    filled = []
    for c in cells:
        if c is not None and c != "" and str(c).strip() != "":
            filled.append(c)
            if len(filled) > 2:
                return False
    if not filled or not isinstance(filled[0], str):
        return False
    return "".join(filled[0].split()).startswith(NOTE_WORDS)


def _fill_merged_down(table: Table, header_row: int) -> None:
    """A vertically merged cell below the header (a 现住址 shared by a family) gives its
    value to every row it covers, as the sheet shows it."""
    for r1, c1, r2, c2 in getattr(table, "merged", None) or ():
        if r1 <= header_row or r2 <= r1 or r1 >= len(table.rows):
            continue
        value = table.rows[r1][c1] if c1 < len(table.rows[r1]) else ""
        for r in range(r1 + 1, min(r2, len(table.rows) - 1) + 1):
            row = table.rows[r]
            for c in range(c1, c2 + 1):
                if c < len(row) and row[c] in ("", None):
                    row[c] = value


_SKIP_EXTRA = {"序号", "序", "编号", "no", "行号", "原行号", "错误原因"}


def _extra_labels(headers: list[str], mapping: list[str | None]) -> dict[int, str]:
    """Column -> the name it is kept under (unique: a repeated label gets its column letter)."""
    out: dict[int, str] = {}
    seen: set[str] = set()
    for c, key in enumerate(mapping):
        label = (headers[c] if c < len(headers) else "") or f"列{c + 1}"
        if key is not None or mapping_mod.header_key(label) in _SKIP_EXTRA:
            continue
        if label in seen:
            label = f"{label}（第{c + 1}列）"
        seen.add(label)
        out[c] = label
    return out


_STRUCTURAL = {"household_no", "household_key", "head_name", "head_id_number", "address",
               "kind", "relation_to_head"}
_CODED = {"kind": ("household_kind", "户别"), "relation_to_head": ("relation", "与户主关系")}
_UNCACHED = {"id_number", "phone"}        # nearly every value differs: nothing to remember
CACHE_LIMIT = 50_000                      # distinct values remembered per column at most


@dataclass(slots=True)
class _Cell:
    """What one cell value gives, worked out once per distinct value of a column (never
    changed once made; not frozen: a frozen dataclass is three times slower to make, and an
    import makes one per ID number and phone number)."""
    value: Any = None                     # normalised (None when empty or wrong)
    error: str | None = None              # the cell cannot be read (message with the label)
    clean: Any = None                     # validated value, code, or Address (address column)
    invalid: Any = None                   # FieldError, or the message of an unknown code
    soft: bool = False                    # invalid, but only this field: a warning, kept as text
    unknown: bool = False                 # a value no code table knows
    keep: bool = False                    # mapped by the user to "keep as text"
    note: str | None = None               # a warning (invisible characters removed)


class _RowReader:
    """Data rows into PlanRows with the form's rules. Every field but the identity fields
    (validated together: the ID number against birth date and gender) depends on its cell
    alone, so a sheet's repeated cells (汉族, 已婚, 户主, an address, a date) are normalised
    and validated once per distinct value."""

    def __init__(self, mapping: list[str | None], today: dt.date, labels: list | None = None,
                 values: dict | None = None):
        self.today = today
        self.today_iso = today.isoformat()
        self.columns = [(c, k) for c, k in enumerate(mapping) if k is not None]
        self.column_of = {k: c for c, k in self.columns}
        self.memo: dict[str, dict] = {k: {} for _c, k in self.columns if k not in _UNCACHED}
        self.memo_columns = [(c, k, self.memo.get(k)) for c, k in self.columns]
        self.given: dict[frozenset, frozenset] = {}        # one set object per combination
        labels = list(labels or [])
        self.extra = list(_extra_labels(labels + [""] * (len(mapping) - len(labels)),
                                        mapping).items())
        self.label_of = {c: (labels[c] if c < len(labels) and labels[c] else _LABELS.get(k, k))
                         for c, k in self.columns}
        # The user's value mapping: field -> {value: code or label, '' (leave empty) or None
        # (keep as text)}; keys may be field keys or the column's label.
        self.values: dict[str, dict] = {}
        for name, table in (values or {}).items():
            key = name if name in self.column_of else next(
                (k for c, k in self.columns if self.label_of[c] == name), None)
            if key is not None and isinstance(table, dict):
                self.values[key] = {codes.normalize(v): t for v, t in table.items()}

    def _work(self, key: str, value: Any) -> _Cell:
        note = None
        if type(value) is str and normalize.INVISIBLE.search(value):
            note = f"{_LABEL_OF(key)}：已删除其中的控制字符或不可见字符"
        cell = self._work_clean(key, value)
        if note is not None and cell.error is None and cell.note is None:
            cell = _Cell(cell.value, cell.error, cell.clean, cell.invalid, cell.soft,
                         cell.unknown, cell.keep, note)
        return cell

    def _mapped(self, key: str, norm: str):
        """The user's choice for a value: (True, code-or-''-or-None) or (False, None)."""
        table = self.values.get(key)
        if table is None:
            return False, None
        found = table.get(codes.normalize(norm), _MISSING)
        return (False, None) if found is _MISSING else (True, found)

    def _work_clean(self, key: str, value: Any) -> _Cell:
        try:
            if value is None:
                norm = None
            elif key == "id_number":
                norm = normalize.id_number(value)
            elif key in _DATE_KEYS:
                norm = normalize.date(value)
            else:
                norm = normalize.text(value)
            if key in _SENSITIVE and norm and "*" in norm:
                raise ValueError(f"{_LABELS[key]}已脱敏（含 *），请导出完整号码后再导入")
        except ValueError as exc:
            month = _year_month(value) if key == "birth_date" else None
            if month is not None:
                return _Cell(month)            # completed from the ID number (read)
            if key in _DATE_KEYS and key not in _IDENTITY:   # 流入时间 2020-03: not a key
                shown = normalize.text(value)
                return _Cell(shown, invalid=f"{_LABEL_OF(key)}：“{shown}”不是完整的日期，该项留空，"
                             "原文保留在附加信息中", soft=True)
            message = exc.args[0]
            return _Cell(error=message if message.startswith(_LABELS.get(key, "\0"))
                         else f"{_LABELS[key]}：{message}")
        norm = norm or None
        if norm is not None and key != "id_number" and type(value) is str \
                and normalize.FORMULA.match(value.lstrip()):   # "'=…" is our exports' text
            message = f"{_LABEL_OF(key)}：“{norm[:30]}”是公式，不是数据"
            if key == "name":
                return _Cell(error=message)
            return _Cell(None, invalid=message, soft=True)
        code_table = _CODED[key][0] if key in _CODED else (
            _FIELDS[key].code_table if key in _FIELDS and _FIELDS[key].kind == "code" else None)
        if code_table is not None and norm is not None and key not in _IDENTITY:
            hit, choice = self._mapped(key, norm)
            if hit and choice is None:
                return _Cell(norm, keep=True)
            if hit and choice == "":
                return _Cell(norm)
            code = codes.table(code_table).code_for(str(choice if hit else norm))
            if code is None:
                title = codes.table(code_table).title
                return _Cell(norm, invalid=f"{_LABEL_OF(key)}：“{norm}”不在{title}代码表中，"
                             "该项留空，原文保留在附加信息中", soft=True, unknown=True)
            return _Cell(norm, clean=code)
        if key in _CODED:
            return _Cell()
        if key == "address":
            return _Cell(norm, clean=normalize.address(norm or ""))
        if key in _STRUCTURAL or key in _IDENTITY:
            return _Cell(norm)
        f = _FIELDS[key]
        try:
            return _Cell(norm, clean=clean_value(f, norm, self.today))
        except ValueError as exc:
            soft = f.kind != "date"          # a wrong date stays an error, as on the form
            if soft:
                return _Cell(norm, invalid=f"{f.label}：{exc}，该项留空，原文保留在附加信息中",
                             soft=True)
            return _Cell(norm, invalid=FieldError(f.name, f.label, str(exc)))

    def cell(self, key: str, value: Any) -> _Cell:
        memo = self.memo.get(key)
        if memo is None or not (value is None or type(value) is str):    # 1 == 1.0 == True
            if type(value) is str:
                if key == "id_number" and _PLAIN_ID(value):
                    return _Cell(value)             # what _work gives it, without the work
                if key == "phone" and _PLAIN_MOBILE(value) and phone.valid_cn(value):
                    return _Cell(value, clean=value)
            return self._work(key, value)
        found = memo.get(value)
        if found is None:
            found = self._work(key, value)
            if len(memo) < CACHE_LIMIT:
                memo[value] = found
        return found

    def _soft(self, row: PlanRow, column: int, found: _Cell) -> None:
        """A field that cannot be stored as written: empty, a warning, the text kept."""
        if found.invalid is not None:
            row.warn(column, str(found.invalid))
        if found.value is not None:
            row.keep(self.label_of[column], str(found.value))
        if found.unknown:
            row.unknown = [*row.unknown, (column, str(found.value))]

    def read(self, row: PlanRow) -> None:
        cells, width = row.cells, len(row.cells)
        read: dict[str, _Cell] = {}
        for column, key, memo in self.memo_columns:
            value = cells[column] if column < width else None
            if value == "":
                value = None
            found = memo.get(value) if memo is not None and (
                value is None or type(value) is str) else None   # cell()'s hit, inlined
            if found is None:
                found = self.cell(key, value)
            if found.note is not None:
                row.warn(column, found.note)
            if found.error is not None:
                row.error(column, found.error)
                read.pop(key, None)
            elif found.soft or found.keep:
                self._soft(row, column, found)
            else:
                read[key] = found
        for column, label in self.extra:
            value = cells[column] if column < width else None
            if value is not None and value != "":
                kept = normalize.text(value)
                if kept:
                    row.keep(label, kept)
        column_of = self.column_of
        for key, attr in (("kind", "kind"), ("relation_to_head", "relation")):
            found = read.pop(key, None)
            if found is not None:
                setattr(row, attr, found.clean)
        for key in ("household_no", "household_key", "head_name", "head_id_number"):
            found = read.pop(key, None)
            if found is not None:
                setattr(row, key, found.value)
        found = read.pop("address", None)
        if found is not None and found.value:
            row.address_text, row.address = found.value, found.clean
        given = frozenset(k for k, c in read.items() if c.value is not None)
        if "id_number" in given:
            given |= {"birth_date", "gender"}
        row.given = self.given.setdefault(given, given)
        identity = {k: read[k].value if k in read else None
                    for k in _IDENTITY if k in read or k == "name"}
        birth = identity.get("birth_date")
        if birth is not None and len(birth) == 7:             # 1975-02: a year and month
            number = identity.get("id_number") or ""
            if len(number) == 18 and number[6:12] == birth.replace("-", ""):
                identity["birth_date"] = None                   # the ID number gives the day
            else:
                del identity["birth_date"]
                row.error(column_of["birth_date"], f"出生日期：“{birth}”只有年月，"
                          + ("与身份证号不符" if len(number) == 18 else "且没有身份证号可补全日"))
        values = self._identity_fast(identity)
        errors: list[FieldError] = []
        if values is None:
            try:
                values = clean_record("residents", identity, existing={}, today=self.today)
            except ValidationError as exc:
                values, errors = {}, list(exc.errors)
        for key, found in read.items():
            if key in _IDENTITY:
                continue
            if found.invalid is None:
                values[key] = found.clean
            else:
                errors.append(found.invalid)
        row.values = values
        if row.relation is None and row.unknown:
            self._gendered_relation(row, values)
        for e in errors:
            message = (normalize.NUMERIC_ID if e.message.startswith("在表格中被存为数字")
                       else f"{e.label}：{e.message}")
            row.error(column_of.get(e.field, column_of.get("id_number")), message)


    def _identity_fast(self, identity: dict) -> dict | None:
        """The identity fields of the common row (a name, an 18-digit ID card number that is
        valid, birth date and gender absent or agreeing) as clean_record gives them, without
        its generic work; None for anything else (clean_record then says what is wrong)."""
        name, number = identity.get("name"), identity.get("id_number")
        if type(name) is not str or not name or len(name) > _NAME_MAX or "\n" in name \
                or type(number) is not str or len(number) != 18 \
                or identity.get("id_type") is not None:
            return None
        parsed = idnumber.fast_parse(number, self.today_iso)
        if parsed is None:
            return None
        birth, gender = identity.get("birth_date"), identity.get("gender")
        if birth is not None and birth != parsed[0]:
            return None
        if gender is not None and _GENDER.code_for(gender) != parsed[1]:
            return None
        out = {"name": name, "id_number": number, "birth_date": parsed[0],
               "gender": parsed[1]}
        if "id_type" in identity:
            out["id_type"] = None
        return out

    def _gendered_relation(self, row: PlanRow, values: dict) -> None:
        """子女 (and the like) is 子 or 女 by the person's gender."""
        column = self.column_of.get("relation_to_head")
        for i, (c, value) in enumerate(row.unknown):
            pair = _GENDERED.get(codes.normalize(value)) if c == column else None
            if pair and values.get("gender") in ("1", "2"):
                row.relation = pair[0] if values["gender"] == "1" else pair[1]
                row.unknown = [u for j, u in enumerate(row.unknown) if j != i]
                label = self.label_of[c]
                row.warnings = [w for w in row.warnings if w[0] != c]
                if row.extras and row.extras.get(label) == value:
                    del row.extras[label]
                return


def _year_month(value: Any) -> str | None:
    """'1975-02', '1975.2', '1975年2月', '197502' → '1975-02'; None for anything else."""
    s = normalize.text(value).replace(" ", "")
    m = re.fullmatch(r"(\d{4})(?:[-./年](\d{1,2})月?|(\d{2}))", s)
    if not m:
        return None
    month = int(m[2] or m[3])
    return f"{m[1]}-{month:02d}" if 1 <= month <= 12 and 1900 <= int(m[1]) <= 2100 else None


# The common ID number and mobile number cells, which normalise to themselves: an 18-digit
# ID (checked with the other identity fields) and a mainland mobile number.
_PLAIN_ID = re.compile(r"[0-9]{17}[0-9X]").fullmatch
_PLAIN_MOBILE = re.compile(r"1[0-9]{10}").fullmatch
_NAME_MAX = _FIELDS["name"].max_length
_GENDER = codes.table("gender")
_GENDERED = {"子女": ("20", "30"), "儿女": ("20", "30"), "孙子女": ("41", "42"),
             "外孙子女": ("43", "44")}
_MISSING = object()


def _LABEL_OF(key: str) -> str:                                   # noqa: N802
    return _LABELS.get(key) or mapping_mod.TARGET_LABELS.get(key, key)


# What reading a row sets on it (sent back by the second process).
_READ = ("values", "given", "relation", "kind", "household_no", "household_key", "head_name",
         "head_id_number", "address_text", "address", "errors", "warnings", "extras", "unknown")
# From this many rows on, a second process reads nearly half; None: never. Off since the
# checks cost ~20 µs a row: its start-up and the pickling of rows both ways made a
# 100,000-row plan slower in CPU (3.4 s against 2.5 s) and, on the shared 2-core machine,
# in wall time too (3.3-3.6 s against 2.5-2.8 s). Kept (and tested) for a machine and a
# sheet where it pays: set a number.
PARALLEL_ROWS: int | None = None
WORKER_CHUNK = 2000


def _read_rows(rows: list[PlanRow], setup: tuple, progress: Progress, total: int) -> None:
    """Read (normalise and validate) every row. When PARALLEL_ROWS says so, on a machine
    with a second core a big sheet's second half is read by a second process meanwhile: the same code on the same cells, so the same outcome (and should that process
    fail, this one reads the rest itself). Cancelling (progress raises Cancelled) ends it."""
    split, helper = len(rows), None
    if PARALLEL_ROWS is not None and len(rows) >= PARALLEL_ROWS \
            and (os.cpu_count() or 1) > 1 and _python_available():
        split = len(rows) * 55 // 100       # the other starts later (a fresh interpreter)
        try:
            helper = _SecondProcess(setup, [r.cells for r in rows[split:]])
        except OSError:                     # cannot start it: read everything here
            split = len(rows)
    try:
        reader = _RowReader(*setup)
        for i in range(split):
            if i % 1000 == 0:
                report(progress, i * total // split, total * 2)
            reader.read(rows[i])
        done = helper.results(lambda: report(progress, total, total * 2)) \
            if helper is not None else None
        if done is None:
            for i in range(split, len(rows)):
                if i % 1000 == 0:
                    report(progress, i, total * 2)
                reader.read(rows[i])
        else:
            for row, read in zip(rows[split:], done):
                for name, value in zip(_READ, read):
                    setattr(row, name, value)
    finally:
        if helper is not None:
            helper.close()


def _python_available() -> bool:
    """`python -m` works only where sys.executable is a Python interpreter (not in a frozen or
    embedded program, whose executable would start the application again)."""
    return not getattr(sys, "frozen", False) and \
        Path(sys.executable or "-").name.lower().startswith("python")


def read_cells(reader: _RowReader, cells: list[list]) -> list[tuple]:
    """What reading sets on each row (_READ), for rows given by their cells (the worker)."""
    out = []
    for row_cells in cells:
        row = PlanRow(0, row_cells)
        reader.read(row)
        out.append(tuple(getattr(row, name) for name in _READ))
    return out


class _SecondProcess:
    """`python -m shequ_desktop.transfer.importing.worker`, fed and read through its pipes by two
    threads, WORKER_CHUNK rows at a time (neither process holds a second copy of its half)."""

    def __init__(self, setup: tuple, cells: list[list]):
        root = str(Path(__file__).resolve().parents[3])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shequ_desktop.transfer.importing.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))     # Windows
        self.expected = len(cells)
        self.read: list[tuple] = []
        self.threads = [threading.Thread(target=self._feed, args=(setup, cells),
                                         daemon=True),
                        threading.Thread(target=self._collect, daemon=True)]
        try:
            for thread in self.threads:
                thread.start()
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def _feed(self, setup: tuple, cells: list[list]) -> None:
        out = self.process.stdin
        try:
            pickle.dump(setup, out, protocol=pickle.HIGHEST_PROTOCOL)
            for start in range(0, len(cells), WORKER_CHUNK):
                pickle.dump(cells[start:start + WORKER_CHUNK], out,
                            protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, out)
        except (OSError, ValueError):      # it died or was ended: results() says so
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                out.close()

    def _collect(self) -> None:
        try:
            while True:
                self.read.extend(pickle.load(self.process.stdout))
        except Exception:                                         # noqa: BLE001 (EOF too)
            pass

    def results(self, still_wanted) -> list[tuple] | None:
        """The rows it read, or None when it failed. While waiting, `still_wanted()` is called
        every 0.2 s and may raise (Cancelled) to give up."""
        for thread in self.threads:
            while thread.is_alive():
                thread.join(0.2)
                still_wanted()
        if self.process.wait() != 0 or len(self.read) != self.expected:
            return None
        return self.read

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for thread in self.threads:
            thread.join()
        self.process.stdout.close()


def _check_duplicates_in_file(plan: Plan) -> None:
    """The same person twice in one file: the later row is in error."""
    seen_id: dict[str, int] = {}
    seen_person: dict[tuple, int] = {}
    id_col, name_col = plan.column("id_number"), plan.column("name")
    for row in plan.rows:
        if row.errors:
            continue
        number = row.values.get("id_number")
        if number:
            if number in seen_id:
                row.error(id_col, f"身份证号与第 {seen_id[number]} 行重复")
                continue
            seen_id[number] = row.line
        elif row.values.get("birth_date"):
            key = (row.values["name"], row.values["birth_date"], _address_key(row))
            if key in seen_person:
                row.error(name_col, f"与第 {seen_person[key]} 行重复（姓名、出生日期、地址相同）")
                continue
            seen_person[key] = row.line


def _address_key(row: PlanRow) -> str:
    return row.address.key() if row.address else row.address_text


# --- matching against the database --------------------------------------------------------
_STORED = ("id", "household_id", *EDITABLE)


def _match(conn: sqlite3.Connection, plan: Plan, progress: Progress, total: int) -> None:
    if conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM residents WHERE status = '{ON_RECORD}')"
                    ).fetchone()[0]:
        return                                        # an empty database: all rows are new
    cur = conn.cursor()
    cur.row_factory = None
    numbers = [r.values["id_number"] for r in plan.rows
               if not r.errors and r.values.get("id_number")]
    by_id: dict[str, dict] = {}
    cols = ", ".join(_STORED)
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for values in cur.execute(
                f"SELECT {cols} FROM residents WHERE status = '{ON_RECORD}' AND id_number IN "
                f"({','.join('?' * len(chunk))})", chunk):
            record = dict(zip(_STORED, values))
            by_id[record["id_number"]] = record
    for i, row in enumerate(plan.rows):
        if i % 1000 == 0:
            report(progress, total + i, total * 2)
        if row.errors:
            continue
        number = row.values.get("id_number")
        if number and number in by_id:
            row.existing, row.match_how = by_id[number], "身份证号"
        elif row.values.get("birth_date"):
            for values in cur.execute(
                    f"SELECT {cols} FROM residents WHERE status = '{ON_RECORD}' AND name = ? "
                    "AND birth_date = ?", (row.values["name"], row.values["birth_date"])):
                record = dict(zip(_STORED, values))
                if number and record["id_number"] and record["id_number"] != number:
                    continue                           # a namesake with another ID
                if household_address_key(conn, record["household_id"]) == _address_key(row):
                    row.existing, row.match_how = record, "姓名+出生日期+地址"
                    break
        if row.existing is not None:
            row.match_id = row.existing["id"]


def household_address_key(conn: sqlite3.Connection, household_id: int | None) -> str:
    """The Address.key() of a household's house, as an import row would write it."""
    if household_id is None:
        return ""
    r = conn.execute("""
        SELECT ho.room_no, u.name, u.level, b.name, b.level, c.name, c.level, h.notes
        FROM households h LEFT JOIN houses ho ON ho.id = h.house_id
        LEFT JOIN grid_units u ON u.id = ho.unit_id
        LEFT JOIN grid_units b ON b.id = u.parent_id
        LEFT JOIN grid_units c ON c.id = b.parent_id WHERE h.id = ?""",
                     (household_id,)).fetchone()
    return "" if r is None else _key_of(r)


def _key_of(r) -> str:
    room, unit, level, building, b_level, compound, c_level, notes = r
    if room is None:
        return address_from_notes(notes)
    if level == "building":                    # a building without units
        unit, compound, c_level, building = "", building if b_level == "compound" else "", \
            "compound" if b_level == "compound" else None, unit
    compound = compound if c_level == "compound" else ""
    return normalize.Address(compound or "", normalize.number_of(building),
                             normalize.number_of(unit) if unit else "", room).key()


ADDRESS_NOTE = "导入地址："


def address_from_notes(notes: str | None) -> str:
    """The unparsed address an import kept in a household's notes."""
    for line in (notes or "").splitlines():
        if line.startswith(ADDRESS_NOTE):
            return line[len(ADDRESS_NOTE):]
    return ""


# --- households ----------------------------------------------------------------------------
def _group(conn: sqlite3.Connection, plan: Plan) -> None:
    """Rows into households. A household's valid members come in even when its head's row
    is wrong (the household then waits for its head: the fixed row, imported again, becomes
    it). Rows of a flat register join the household on record at their address, else follow
    plan.flat."""
    last_head: dict[str, str] = {}
    relation_col = plan.column("relation_to_head")
    by_address = _households_by_address(conn) if plan.is_flat or plan.column("head_name") \
        is not None else {}
    head_ids = _households_by_head_id(conn, [r.head_id_number for r in plan.rows
                                              if r.head_id_number])
    for index, row in enumerate(plan.rows):
        where = _address_key(row)
        if row.household_no:
            row.group = ("户号", row.household_no)
        elif row.household_key:
            row.group = ("户标识", row.household_key)
        elif row.head_id_number:
            number = row.head_id_number.upper()
            if row.values.get("id_number") == number and row.relation is None:
                row.relation = HEAD
            row.group = ("户主身份证号", number)
        elif plan.is_flat:
            if row.errors or row.existing is not None:
                continue
            if where and where in by_address:
                row.group = ("地址", where)
            elif plan.flat == "address" and where:
                row.group = ("地址", where)
            else:
                row.group = ("人", row.line)
        else:
            if row.is_head and row.values.get("name"):
                last_head[where] = row.values["name"]
                head = row.values["name"]
            else:
                head = row.head_name or last_head.get(where)
            if head is None:
                if not row.errors and row.existing is None:
                    row.error(relation_col, "没有户号，同一地址前面也没有户主，无法确定所属的户")
                continue
            row.group = ("户主+地址", head, where)
        group = plan.groups.setdefault(row.group, Group(row.group))
        group.rows.append(index)
    existing_no = _households_by_number(conn, [g.key[1] for g in plan.groups.values()
                                               if g.key[0] == "户号"])
    for group in plan.groups.values():
        rows = [plan.rows[i] for i in group.rows]
        matched = [r for r in rows if r.existing is not None and not r.errors]
        kind = group.key[0]
        if kind == "户号" and group.key[1] in existing_no:
            group.household_id = existing_no[group.key[1]]
        elif kind == "户主身份证号" and group.key[1] in head_ids:
            group.household_id = head_ids[group.key[1]]
        elif kind == "地址" and group.key[1] in by_address:
            group.household_id = by_address[group.key[1]][0]
        elif kind == "户主+地址" and (group.key[2], group.key[1]) in _heads_at(by_address):
            group.household_id = _heads_at(by_address)[(group.key[2], group.key[1])]
        elif matched:
            heads = [r for r in matched if r.is_head] or matched
            group.household_id = heads[0].existing["household_id"]
        new = [r for r in rows if r.existing is None]
        if group.household_id is not None:
            headless = _headless(conn, group.household_id)
            for r in new:
                if r.is_head and not r.errors:
                    if headless and not group.needs_head:
                        group.needs_head = True
                        group.head = next(i for i in group.rows if plan.rows[i] is r)
                    else:
                        r.error(relation_col, "该户已登记户主，导入不更换户主（请在“户”页面设为户主）")
                elif r.relation is None and not r.errors and not plan.is_flat:
                    r.error(relation_col, "与户主关系：不能为空")
            continue
        if kind in ("地址", "人"):
            _flat_head(plan, group, new)
            continue
        heads = [r for r in new if r.is_head]
        valid_heads = [r for r in heads if not r.errors]
        for extra in valid_heads[1:]:
            extra.error(relation_col, f"同一户有多个户主（第 {valid_heads[0].line} 行已是户主）")
        valid = [r for r in new if not r.errors]
        if not valid_heads:
            if heads and valid:            # the head's row is wrong: the others come in
                group.checking = (f"户主（第 {heads[0].line} 行）有错误未导入，"
                                  "修正该行后再次导入即成为本户户主")
                for r in valid:
                    r.warn(relation_col, group.checking)
                    if r.relation is None:
                        r.error(relation_col, "与户主关系：不能为空")
            elif kind == "户主身份证号" and valid:
                for r in valid:
                    r.error(plan.column("head_id_number"),
                            f"户主身份证号“{group.key[1]}”既不在本表中，也不是已登记的户主")
            else:
                for r in valid:
                    r.error(relation_col, "该户没有户主（与户主关系为“户主”的成员）")
            continue
        head = valid_heads[0]
        group.head = next(i for i in group.rows if plan.rows[i] is head)
        for r in new:
            if r is not head and r.relation is None and not r.errors:
                r.error(relation_col, "与户主关系：不能为空")


def _flat_head(plan: Plan, group: Group, new: list[PlanRow]) -> None:
    """A new household of a flat register: its head is the eldest (the first row when no
    birth date says), marked for checking when the household has more than one person."""
    valid = [r for r in new if not r.errors]
    if not valid:
        return
    head = min(valid, key=lambda r: r.values.get("birth_date") or "9999")
    group.head = next(i for i in group.rows if plan.rows[i] is head)
    head.relation = HEAD
    if len(valid) > 1:
        group.checking = CHECK_HEAD
        for r in valid:
            r.checking = CHECK_HEAD


def _headless(conn: sqlite3.Connection, household_id: int) -> bool:
    r = conn.execute("SELECT head_resident_id IS NULL FROM households WHERE id = ?",
                     (household_id,)).fetchone()
    return bool(r and r[0])


_HEADS_AT: dict[int, dict] = {}


def _heads_at(by_address: dict) -> dict[tuple, int]:
    """(address key, head name) -> household, from _households_by_address."""
    cached = _HEADS_AT.get(id(by_address))
    if cached is None:
        cached = {(where, head): hid for where, pairs in by_address.items()
                  for hid, head in pairs[1]}
        _HEADS_AT.clear()
        _HEADS_AT[id(by_address)] = cached
    return cached


def _households_by_address(conn: sqlite3.Connection) -> dict[str, tuple]:
    """Address key -> (first household there, [(household, head name), …]), households on
    record only."""
    out: dict[str, tuple] = {}
    for r in conn.execute(f"""
        SELECT h.id, ho.room_no, u.name, u.level, b.name, b.level, c.name, c.level, h.notes,
               (SELECT name FROM residents WHERE id = h.head_resident_id)
        FROM households h LEFT JOIN houses ho ON ho.id = h.house_id
        LEFT JOIN grid_units u ON u.id = ho.unit_id
        LEFT JOIN grid_units b ON b.id = u.parent_id
        LEFT JOIN grid_units c ON c.id = b.parent_id
        WHERE h.status = '{ON_RECORD}' ORDER BY h.id"""):
        where = _key_of(r[1:9])
        if not where:
            continue
        first, pairs = out.setdefault(where, (r[0], []))
        pairs.append((r[0], r[9]))
    return out


def _households_by_head_id(conn: sqlite3.Connection, numbers: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    numbers = sorted({n.upper() for n in numbers})
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for no, hid in conn.execute(
                "SELECT r.id_number, h.id FROM households h JOIN residents r "
                f"ON r.id = h.head_resident_id WHERE h.status = '{ON_RECORD}' AND r.id_number IN "
                f"({','.join('?' * len(chunk))})", chunk):
            out.setdefault(no, hid)
    return out


def _households_by_number(conn: sqlite3.Connection, numbers: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for no, hid in conn.execute(
                f"SELECT household_no, id FROM households WHERE status = '{ON_RECORD}' AND "
                f"household_no IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk):
            out.setdefault(no, hid)
    return out
