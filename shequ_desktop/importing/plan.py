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
from db.driver import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shequ_desktop import codes
from shequ_desktop.errors import FieldError, ValidationError
from shequ_desktop.fields import RESIDENT_FIELDS
from shequ_desktop.importing import headers as headers_mod
from shequ_desktop.importing import mapping as mapping_mod
from shequ_desktop.importing import normalize
from shequ_desktop.importing.reading import Table, UnreadableFile
from shequ_desktop.progress import Progress, report
from shequ_desktop.residents import EDITABLE, HEAD_RELATIONS
from shequ_desktop.validation import clean_record, clean_value

DECISIONS = ("skip", "update", "fill")
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
    match_id: int | None = None        # the resident on record this row is
    match_how: str = ""                # '身份证号' or '姓名+出生日期+地址'
    existing: dict | None = None       # that resident's fields as stored
    decision: str = "skip"             # for a matched row: skip, update or fill

    @property
    def is_head(self) -> bool:
        return self.relation in HEAD_RELATIONS

    def error(self, column: int | None, reason: str) -> None:
        self.errors.append((column, reason))

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

    def error_rows(self) -> list[PlanRow]:
        return [r for r in self.rows if r.errors]

    def set_decision(self, decision: str, rows: list[PlanRow] | None = None) -> None:
        if decision not in DECISIONS:
            raise ValueError(decision)
        for row in rows if rows is not None else self.rows:
            row.decision = decision
        if rows is None:
            self.on_duplicate = decision


def build_plan(conn: sqlite3.Connection, table: Table, mapping: list[str | None] | None = None,
               *, header_row: int | None = None, headers: list[str] | None = None,
               on_duplicate: str = "skip",
               progress: Progress = None, today: dt.date | None = None) -> Plan:
    """Read the rows below the header into a plan. Raises UnreadableFile when the sheet has
    no recognisable header or no name column."""
    if on_duplicate not in DECISIONS:
        raise ValueError(on_duplicate)
    today = today or dt.date.today()
    if header_row is None:
        header = headers_mod.locate(table.rows, table.sheet)
        header_row, headers = header.row, header.labels
    elif headers is None:
        headers = [normalize.text(h) for h in table.rows[header_row]]
    if mapping is None:
        mapping = mapping_mod.mapping_for(conn, headers)
    mapping = list(mapping) + [None] * (len(headers) - len(mapping))
    if "name" not in mapping:
        raise UnreadableFile(f"“{table.sheet}”的表头中没有“姓名”列，无法导入")
    plan = Plan(table.path, table.sheet, header_row, headers, mapping, [], {},
                on_duplicate, table.encoding)
    data = table.rows[header_row + 1:]
    total = len(data)
    plan.rows = [PlanRow(header_row + i + 2, cells, decision=on_duplicate)
                 for i, cells in enumerate(data)
                 if not mapping_mod.is_blank(cells) and not mapping_mod.is_total(cells)]
    _read_rows(plan.rows, mapping, today, progress, total)
    _check_duplicates_in_file(plan)
    _match(conn, plan, progress, total)
    _group(conn, plan)
    for row in plan.rows:
        if not row.errors:
            row.cells = ()              # only rows in error show their cells again
    report(progress, total * 2, total * 2)
    return plan


_STRUCTURAL = {"household_no", "household_key", "head_name", "head_id_number", "address",
               "kind", "relation_to_head"}
_CODED = {"kind": ("household_kind", "户别"), "relation_to_head": ("relation", "与户主关系")}
_UNCACHED = {"id_number", "phone"}        # nearly every value differs: nothing to remember
CACHE_LIMIT = 50_000                      # distinct values remembered per column at most


@dataclass(slots=True, frozen=True)
class _Cell:
    """What one cell value gives, worked out once per distinct value of a column."""
    value: Any = None                     # normalised (None when empty or wrong)
    error: str | None = None              # the cell cannot be read (message with the label)
    clean: Any = None                     # validated value, code, or Address (address column)
    invalid: Any = None                   # FieldError, or the message of an unknown code


class _RowReader:
    """Data rows into PlanRows with the form's rules. Every field but the identity fields
    (validated together: the ID number against birth date and gender) depends on its cell
    alone, so a sheet's repeated cells (汉族, 已婚, 户主, an address, a date) are normalised
    and validated once per distinct value."""

    def __init__(self, mapping: list[str | None], today: dt.date):
        self.today = today
        self.columns = [(c, k) for c, k in enumerate(mapping) if k is not None]
        self.column_of = {k: c for c, k in self.columns}
        self.memo: dict[str, dict] = {k: {} for _c, k in self.columns if k not in _UNCACHED}
        self.given: dict[frozenset, frozenset] = {}        # one set object per combination

    def _work(self, key: str, value: Any) -> _Cell:
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
            message = exc.args[0]
            return _Cell(error=message if message.startswith(_LABELS.get(key, "\0"))
                         else f"{_LABELS[key]}：{message}")
        norm = norm or None
        if key in _CODED:
            if norm is None:
                return _Cell()
            table, label = _CODED[key]
            code = codes.table(table).code_for(norm)
            return _Cell(norm, clean=code, invalid=None if code else
                         f"{label}：“{norm}”不在{label}代码表中")
        if key == "address":
            return _Cell(norm, clean=normalize.address(norm or ""))
        if key in _STRUCTURAL or key in _IDENTITY:
            return _Cell(norm)
        f = _FIELDS[key]
        try:
            return _Cell(norm, clean=clean_value(f, norm, self.today))
        except ValueError as exc:
            return _Cell(norm, invalid=FieldError(f.name, f.label, str(exc)))

    def cell(self, key: str, value: Any) -> _Cell:
        memo = self.memo.get(key)
        if memo is None or not (value is None or type(value) is str):    # 1 == 1.0 == True
            return self._work(key, value)
        found = memo.get(value)
        if found is None:
            found = self._work(key, value)
            if len(memo) < CACHE_LIMIT:
                memo[value] = found
        return found

    def read(self, row: PlanRow) -> None:
        cells, width = row.cells, len(row.cells)
        read: dict[str, _Cell] = {}
        for column, key in self.columns:
            value = cells[column] if column < width else None
            found = self.cell(key, None if value == "" else value)
            if found.error is not None:
                row.error(column, found.error)
                read.pop(key, None)
            else:
                read[key] = found
        column_of = self.column_of
        for key, attr in (("kind", "kind"), ("relation_to_head", "relation")):
            found = read.pop(key, None)
            if found is not None:
                setattr(row, attr, found.clean)
                if found.invalid:
                    row.error(column_of[key], found.invalid)
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
        try:
            values = clean_record("residents", identity, existing={}, today=self.today)
            errors: list[FieldError] = []
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
        for e in errors:
            message = (normalize.NUMERIC_ID if e.message.startswith("在表格中被存为数字")
                       else f"{e.label}：{e.message}")
            row.error(column_of.get(e.field, column_of.get("id_number")), message)


# What reading a row sets on it (sent back by the second process).
_READ = ("values", "given", "relation", "kind", "household_no", "household_key", "head_name",
         "head_id_number", "address_text", "address", "errors")
PARALLEL_ROWS = 20_000      # from this many rows on, a second process reads nearly half
WORKER_CHUNK = 2000


def _read_rows(rows: list[PlanRow], mapping: list, today: dt.date, progress: Progress,
               total: int) -> None:
    """Read (normalise and validate) every row. Validation is most of an import's time, so
    on a machine with a second core a big sheet's second half is read by a second process
    meanwhile: the same code on the same cells, so the same outcome (and should that process
    fail, this one reads the rest itself). Cancelling (progress raises Cancelled) ends it."""
    split, helper = len(rows), None
    if len(rows) >= PARALLEL_ROWS and (os.cpu_count() or 1) > 1 and _python_available():
        split = len(rows) * 55 // 100       # the other starts later (a fresh interpreter)
        try:
            helper = _SecondProcess(mapping, today, [r.cells for r in rows[split:]])
        except OSError:                     # cannot start it: read everything here
            split = len(rows)
    try:
        reader = _RowReader(mapping, today)
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
    """`python -m shequ_desktop.importing.worker`, fed and read through its pipes by two
    threads, WORKER_CHUNK rows at a time (neither process holds a second copy of its half)."""

    def __init__(self, mapping: list, today: dt.date, cells: list[list]):
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shequ_desktop.importing.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))     # Windows
        self.expected = len(cells)
        self.read: list[tuple] = []
        self.threads = [threading.Thread(target=self._feed, args=(mapping, today, cells),
                                         daemon=True),
                        threading.Thread(target=self._collect, daemon=True)]
        try:
            for thread in self.threads:
                thread.start()
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def _feed(self, mapping: list, today: dt.date, cells: list[list]) -> None:
        out = self.process.stdin
        try:
            pickle.dump((mapping, today), out, protocol=pickle.HIGHEST_PROTOCOL)
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
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM residents WHERE status = '在册')"
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
                f"SELECT {cols} FROM residents WHERE status = '在册' AND id_number IN "
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
                    f"SELECT {cols} FROM residents WHERE status = '在册' AND name = ? "
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
    if r is None:
        return ""
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
    """Rows into households; one head per new household; members need their relation."""
    last_head: dict[str, str] = {}
    relation_col = plan.column("relation_to_head")
    for index, row in enumerate(plan.rows):
        if row.household_no:
            row.group = ("户号", row.household_no)
        elif row.household_key:
            row.group = ("户标识", row.household_key)
        else:
            where = _address_key(row)
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
        if group.key[0] == "户号" and group.key[1] in existing_no:
            group.household_id = existing_no[group.key[1]]
        elif matched:
            heads = [r for r in matched if r.is_head] or matched
            group.household_id = heads[0].existing["household_id"]
        new = [r for r in rows if r.existing is None]
        if group.household_id is not None:
            for r in new:
                if r.is_head and not r.errors:
                    r.error(relation_col, "该户已登记户主，导入不更换户主（请在“户”页面设为户主）")
                elif r.relation is None and not r.errors:
                    r.error(relation_col, "与户主关系：不能为空")
            continue
        heads = [r for r in new if r.is_head]
        for extra in heads[1:]:
            if not extra.errors:
                extra.error(relation_col, f"同一户有多个户主（第 {heads[0].line} 行已是户主）")
        if not heads:
            for r in new:
                if not r.errors:
                    r.error(relation_col, "该户没有户主（与户主关系为“户主”的成员）")
            continue
        head = heads[0]
        group.head = next(i for i in group.rows if plan.rows[i] is head)
        for r in new:
            if r is head:
                continue
            if head.errors and not r.errors:
                r.error(relation_col, f"本户户主（第 {head.line} 行）有错误，整户未导入")
            elif r.relation is None and not r.errors:
                r.error(relation_col, "与户主关系：不能为空")


def _households_by_number(conn: sqlite3.Connection, numbers: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for no, hid in conn.execute(
                "SELECT household_no, id FROM households WHERE status = '在册' AND "
                f"household_no IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk):
            out.setdefault(no, hid)
    return out

