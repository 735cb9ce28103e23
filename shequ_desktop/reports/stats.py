"""Figures for the home dashboard and the monthly report, all by SQL, for a grid unit's subtree
(None: the whole database) at a day or for a month. The dashboard and the report call the same
functions, so they always agree.

Who counts at a day: a resident whose house lies in the unit's subtree and who was on record
that day: 在册 now, or moved out / died after that day, and moved in by then. A household
counts when someone of it counts. Ages are whole years on that day.

Lazy imports, for start-up: the dashboard imports this module when the window is built, and the
visit and event rules (with validation, code tables and the holiday calendar behind them) load
only when the figures are computed, off the GUI thread after the first paint.
"""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import json
import os
import re

import db
from db.driver import sqlite3
from shequ_desktop.core.access import Access, NotPermitted
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.core.tree import SUBTREE_SQL

REGISTERED, FLOATING, OVERSEAS = "1", "2", "3"       # residence_type codes
MALE, FEMALE = "1", "2"                              # GB/T 2261.1
# (label, lowest age, highest age or None)
AGE_GROUPS = (("0–6岁", 0, 6), ("7–17岁", 7, 17), ("18–59岁", 18, 59), ("60–79岁", 60, 79),
              ("80岁及以上", 80, None))
BAND = 5
TOP_BAND = 100                                      # the pyramid's last band: 100岁及以上

# The households and residents of the scope, reached through houses (their indexes).
_HOUSEHOLDS_IN_UNIT = ("subtree s CROSS JOIN houses ho ON ho.unit_id = s.id"
                       " CROSS JOIN households h ON h.house_id = ho.id")
_IN_UNIT = (_HOUSEHOLDS_IN_UNIT + " CROSS JOIN residents r INDEXED BY residents_figures"
            " ON r.household_id = h.id")    # the figures without the residents' rows
# On record on :on. moved_in_at may be empty for people added in the program: their first
# 迁入 in the history stands in (coalesce only looks when it is empty).
_PRESENT = f"""(r.status = '{ON_RECORD}' OR (r.status = '{MOVED_OUT}' AND r.moved_out_at > :on)
               OR (r.status = '{DECEASED}' AND r.death_date > :on))"""
_MOVED_IN_BY = """ AND coalesce(r.moved_in_at, (SELECT min(e.date) FROM resident_events e
                   WHERE e.resident_id = r.id AND e.kind = '迁入'), '') <= :on"""
# Not on record on :on (today or later), as a test of rt.resident_id: status is 在册, 迁出 or
# 死亡 (a CHECK), so only the few moved out or dead are looked at (residents_status index).
_ABSENT_NOW = f"""rt.resident_id NOT IN (SELECT r.id FROM residents r INDEXED BY residents_status
                  WHERE r.status IN ('{MOVED_OUT}', '{DECEASED}') AND NOT {_PRESENT})"""
_AGE = ("CAST(substr(:on, 1, 4) AS INTEGER) - CAST(substr(r.birth_date, 1, 4) AS INTEGER)"
        " - (substr(r.birth_date, 6, 5) > substr(:on, 6, 5))")
_NO_AGE = 999
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _iso(day) -> str:
    if day is None:
        return dt.date.today().isoformat()
    return day.isoformat() if isinstance(day, dt.date) else str(day)


def _scope(unit_id: int | None) -> tuple[str, str, dict]:
    """(WITH clause, FROM clause giving `r`, parameters) for the residents of the scope."""
    if unit_id is None:
        return "", "residents r", {}
    return SUBTREE_SQL.replace("SELECT ? UNION ALL", "SELECT :unit UNION ALL", 1), _IN_UNIT, \
        {"unit": unit_id}


def _tally(conn: sqlite3.Connection, sql: str, params: dict) -> dict[int, int]:
    """{integer: how many times} over the list the query's one value holds (group_concat of
    integers). Many rows packed into one value and counted in Python: fetching 200,000 rows
    one by one, or a GROUP BY (SQLite sorts them all), costs more than the query's scan."""
    text = conn.execute(sql, params).fetchone()[0]
    if not text:
        return {}
    return {int(k): n for k, n in collections.Counter(text.split(",")).items()}


def _present(on: str) -> str:
    """The on-record condition; the moved-in test only matters for a day in the past."""
    return _PRESENT + (_MOVED_IN_BY if on < dt.date.today().isoformat() else "")


# --- population --------------------------------------------------------------------------------

def population(conn: sqlite3.Connection, unit_id: int | None = None, on=None) -> dict:
    """Households and residents on record on `on` (today), with their make-up.

    households, residents, registered (户籍), floating (流动), overseas (境外), separated
    (人户分离), age_groups [(label, n)], pyramid [(band label, men, women)] youngest first,
    unknown_age (no birth date).
    """
    on = _iso(on)
    head, source, params = _scope(unit_id)
    params = {**params, "on": on}
    where = _present(on)
    # One packed integer a resident (age, gender, type, 人户分离), counted in Python: a GROUP
    # BY makes SQLite sort 200,000 rows, which costs more than the scan.
    packed = _tally(conn, f"""{head}
        SELECT group_concat(coalesce(nullif(max({_AGE}, -1), -1), {_NO_AGE}) * 1000
               + CASE r.gender WHEN '1' THEN 100 WHEN '2' THEN 200 ELSE 0 END
               + coalesce(CAST(r.residence_type AS INTEGER) % 10, 0) * 10 + r.separated)
        FROM {source} WHERE {where}""", params)
    rows = [(k // 1000, (k // 100) % 10, (k // 10) % 10, k % 10, n) for k, n in packed.items()]
    if on >= dt.date.today().isoformat():      # households on record now
        households = conn.execute(f"""{head}
            SELECT count(*) FROM {"households h" if unit_id is None else _HOUSEHOLDS_IN_UNIT}
            WHERE h.status = '{ON_RECORD}'""", params).fetchone()[0]
    else:                                       # those with someone on record then
        households = conn.execute(f"""{head}
            SELECT count(DISTINCT r.household_id) FROM {source} WHERE {where}""",
                                  params).fetchone()[0]
    out = {"on": on, "households": households, "residents": 0, "registered": 0,
           "floating": 0, "overseas": 0, "separated": 0, "unknown_age": 0}
    groups = [0] * len(AGE_GROUPS)
    bands = [[0, 0] for _ in range(TOP_BAND // BAND + 1)]
    kinds = {REGISTERED: "registered", FLOATING: "floating", OVERSEAS: "overseas"}
    for age, gender, residence, separated, n in rows:
        out["residents"] += n
        if str(residence) in kinds:
            out[kinds[str(residence)]] += n
        out["separated"] += n if separated else 0
        if age == _NO_AGE:
            out["unknown_age"] += n
            continue
        for i, (_label, low, high) in enumerate(AGE_GROUPS):
            if age >= low and (high is None or age <= high):
                groups[i] += n
        if gender in (1, 2):
            bands[min(age, TOP_BAND) // BAND][gender == 2] += n
    out["age_groups"] = [(label, n) for (label, _l, _h), n in zip(AGE_GROUPS, groups)]
    out["pyramid"] = [(band_label(i), m, f) for i, (m, f) in enumerate(bands)]
    return out


def band_label(i: int) -> str:
    low = i * BAND
    return f"{low}岁及以上" if low >= TOP_BAND else f"{low}–{low + BAND - 1}"


def focus_groups(conn: sqlite3.Connection, unit_id: int | None = None, on=None) -> dict:
    """Members of each focus group on `on` (today) among the residents on record then.

    groups: [(tag_id, name, n)] for every active tag in tag order (zeros included);
    members: how many people are in at least one group.
    """
    on = _iso(on)
    head, source, params = _scope(unit_id)
    scope = "" if unit_id is None else \
        f"AND r.household_id IN (SELECT h.id FROM {_HOUSEHOLDS_IN_UNIT})"
    if unit_id is None and on >= dt.date.today().isoformat():
        # Everyone on record now but the few moved out or dead: those are left out, and the
        # tags are read from their index alone (no residents' rows).
        join, where = "", _ABSENT_NOW
    else:
        # In resident order (the resident_tags_current index), so the residents' rows are
        # read in order too: a third of the time of looking them up at random.
        join, where = "CROSS JOIN residents r ON r.id = rt.resident_id", _present(on)
    active = {r[0] for r in conn.execute("SELECT id FROM tags WHERE active = 1")}
    # Each (resident, tag) packed into one integer, all in one JSON array (see _tally).
    width = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM tags").fetchone()[0]
    pairs = set(json.loads(conn.execute(f"""{head}
            SELECT json_group_array(rt.resident_id * :width + rt.tag_id)
            FROM resident_tags rt INDEXED BY resident_tags_current {join}
            WHERE rt.since <= :on AND (rt.until IS NULL OR rt.until >= :on)
              AND {where} {scope}""", {**params, "on": on, "width": width}).fetchone()[0]))
    counts = collections.Counter(k % width for k in pairs)
    members = {k // width for k in pairs if k % width in active}
    groups = [(t_id, name, counts.get(t_id, 0)) for t_id, name in conn.execute(
        "SELECT id, name FROM tags WHERE active = 1 ORDER BY sort, id")]
    return {"groups": groups, "members": len(members)}


# --- visits, events, volunteers ----------------------------------------------------------------

def visits_due(conn: sqlite3.Connection, unit_id: int | None = None, on=None) -> dict:
    """As the visits page counts them (shequ_desktop.casework.visits' rule): due this week (overdue,
    or due by Sunday), of which overdue, and never visited (visits.due_counts)."""
    from shequ_desktop.casework import visits    # lazy, for start-up (see the module's note)

    day = dt.date.fromisoformat(_iso(on))
    return visits.due_counts(conn, day, unit_id, within_days=6 - day.weekday())


def open_events(conn: sqlite3.Connection, unit_id: int | None = None, on=None) -> dict:
    """Events not yet closed (上报/受理/处置中), and of those overdue on `on`."""
    from shequ_desktop.casework import events    # lazy, for start-up (see the module's note)

    on = _iso(on)
    scope, params = "", {"on": on}
    head = ""
    if unit_id is not None:
        head, _source, more = _scope(unit_id)
        scope = "AND unit_id IN (SELECT id FROM subtree)"
        params.update(more)
    marks = ", ".join(f"'{s}'" for s in events.OPEN_STATUSES)
    open_, overdue = conn.execute(f"""{head}
        SELECT count(*), coalesce(sum(deadline < :on), 0) FROM events
        WHERE status IN ({marks}) {scope}""", params).fetchone()
    return {"open": open_, "overdue": overdue}


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def volunteer_figures(conn: sqlite3.Connection, first: str, last: str,
                      unit_id: int | None = None) -> dict:
    """Service hours, volunteers who served, and activities held from `first` to `last`
    (activities by the day they started, in the unit's subtree)."""
    out = {"hours": 0.0, "active_volunteers": 0, "activities": 0}
    if not _has_table(conn, "service_records"):
        return out
    head, scope, params = "", "", {"first": first, "last": last + " 99"}
    if unit_id is not None:
        head, _source, more = _scope(unit_id)
        scope = "AND a.unit_id IN (SELECT id FROM subtree)"
        params.update(more)
    hours, people = conn.execute(f"""{head}
        SELECT coalesce(sum(sr.hours), 0), count(DISTINCT sr.volunteer_id)
        FROM activities a JOIN service_records sr ON sr.activity_id = a.id
        WHERE a.starts_at >= :first AND a.starts_at < :last {scope}""", params).fetchone()
    held = conn.execute(f"""{head}
        SELECT count(*) FROM activities a
        WHERE a.starts_at >= :first AND a.starts_at < :last {scope}""", params).fetchone()[0]
    return {"hours": round(float(hours), 1), "active_volunteers": people, "activities": held}


# --- visits per grid -----------------------------------------------------------------------

def _grids(conn: sqlite3.Connection, unit_id: int | None
           ) -> tuple[list[tuple[int, str, int, str]], dict[int, int]]:
    """The grids shown for the scope in tree order, as (id, name, parent id, parent name),
    and {unit id: its grid id} for every unit at or below a grid."""
    units = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, parent_id, level, name, sort FROM grid_units")}
    grid_of: dict[int, int | None] = {}

    def find(uid: int) -> int | None:          # at most six levels up
        if uid not in grid_of:
            parent, level = units[uid][0], units[uid][1]
            grid_of[uid] = uid if level == "grid" else (
                find(parent) if parent in units else None)
        return grid_of[uid]

    for uid in units:
        find(uid)
    if unit_id is None:
        wanted = [g for g in units if units[g][1] == "grid"]
    elif grid_of.get(unit_id) is not None:
        wanted = [grid_of[unit_id]]
    else:
        below = {r[0] for r in conn.execute(SUBTREE_SQL + "SELECT id FROM subtree", (unit_id,))}
        wanted = [g for g in below if units.get(g, (None, None))[1] == "grid"]

    def order(g: int) -> tuple:
        parent = units[g][0]
        return (units[parent][3] if parent in units else 0, parent or 0, units[g][3], g)

    names = {g: units[g][2] for g in wanted}
    # Grid names repeat across communities: name the community too when there are several.
    communities = {units[g][0] for g in wanted}
    if len(communities) > 1:
        names = {g: f"{units[units[g][0]][2]} {units[g][2]}" if units[g][0] in units
                 else units[g][2] for g in wanted}
    parent_name = {g: units[units[g][0]][2] if units[g][0] in units else "" for g in wanted}
    return [(g, names[g], units[g][0], parent_name[g]) for g in sorted(wanted, key=order)], \
        grid_of


def month_range(month: str) -> tuple[str, str]:
    """'2026-03' → ('2026-03-01', '2026-03-31'); DomainError for anything else."""
    found = _MONTH.match(str(month).strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise DomainError(f"月份“{month}”不对，应写成 YYYY-MM，如 2026-03")
    import calendar  # not at start-up (the home page imports us)

    year, mon = int(found.group(1)), int(found.group(2))
    last = calendar.monthrange(year, mon)[1]
    return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"


def shift_month(month: str, by: int) -> str:
    first, _ = month_range(month)
    year, mon = int(first[:4]), int(first[5:7]) - 1 + by
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def visits_by_grid(conn: sqlite3.Connection, unit_id: int | None = None,
                   last_month: str | None = None, months: int = 12) -> dict:
    """Visits made per grid in each of `months` months ending with `last_month` (this month).

    months: ['YYYY-MM', …] oldest first; grids: [(grid id, name, [n per month])] in tree
    order; communities: the same summed per community (the grids' parent). A visit counts for the grid of the house the resident lives in; only visits to
    residents in the unit's subtree count.
    """
    last_month = last_month or dt.date.today().strftime("%Y-%m")
    labels = [shift_month(last_month, i - months + 1) for i in range(months)]
    first, _ = month_range(labels[0])
    _, last = month_range(labels[-1])
    head, source, params = _scope(unit_id)
    if unit_id is None:       # through the houses, which the visits' residents live in
        source = ("visits v INDEXED BY visits_resident"   # residents read in order: 5× faster
                  " CROSS JOIN residents r ON r.id = v.resident_id"
                  " CROSS JOIN households h ON h.id = r.household_id"
                  " CROSS JOIN houses ho ON ho.id = h.house_id")
    else:
        source += " CROSS JOIN visits v ON v.resident_id = r.id"
    # (house's unit, month's column) packed into one integer a visit (see _tally).
    column = " ".join(f"WHEN :m{i} THEN {i}" for i in range(months))
    packed = _tally(conn, f"""{head}
        SELECT group_concat(ho.unit_id * {months} + CASE substr(v.visited_on, 1, 7) {column} END)
        FROM {source} WHERE v.visited_on BETWEEN :first AND :last""",
                    {**params, "first": first, "last": last,
                     **{f"m{i}": m for i, m in enumerate(labels)}})
    grids, grid_of = _grids(conn, unit_id)
    counts = {g[0]: [0] * months for g in grids}
    for k, n in packed.items():
        unit, i = divmod(k, months)
        g = grid_of.get(unit)
        if g in counts:
            counts[g][i] += n
    above: dict[int, tuple[str, list[int]]] = {}
    for g, _name, parent, parent_name in grids:
        summed = above.setdefault(parent, (parent_name, [0] * months))[1]
        summed[:] = [a + b for a, b in zip(summed, counts[g])]
    return {"months": labels,
            "grids": [(g, name, counts[g]) for g, name, _p, _pn in grids],
            "communities": [(p, name, summed) for p, (name, summed) in above.items()]}


# --- the dashboard -----------------------------------------------------------------------------

# The figures worked out on a second connection in a second thread while this one works out
# the rest: SQLite lets go of the GIL while a query runs, so on two cores the page waits for
# the longer half only (150 ms instead of 260 for a street of 200,000).
_ASIDE = ("population", "focus")


def _whole(conn: sqlite3.Connection, unit_id: int | None) -> tuple[bool, bool, bool]:
    """Whether the unit's (residents, events, activities) are all of them: its subtree is the
    whole grid tree (a street's own database) and none of that kind lies outside the tree
    (a resident without a household or a house, an activity with no unit; an event always
    has a unit). Those figures then take the faster whole-database queries."""
    if unit_id is None:
        return True, True, True
    whole, people, activities = conn.execute(SUBTREE_SQL + """
        SELECT (SELECT count(*) FROM subtree s JOIN grid_units g ON g.id = s.id)
               = (SELECT count(*) FROM grid_units),
           NOT EXISTS (SELECT 1 FROM households WHERE house_id IS NULL)
           AND NOT EXISTS (SELECT 1 FROM residents WHERE household_id IS NULL),
           NOT EXISTS (SELECT 1 FROM activities WHERE unit_id IS NULL)""",
                                             (unit_id,)).fetchone()
    return bool(whole and people), bool(whole), bool(whole and activities)


def _helper_path(conn: sqlite3.Connection) -> str | None:
    """The file a second connection can read the same figures from; None when it cannot (a
    database in memory, one core, or changes not yet committed on `conn`)."""
    if conn.in_transaction or (os.cpu_count() or 1) < 2:
        return None
    return db.db_path(conn) or None


def dashboard(conn: sqlite3.Connection, unit_id: int | None = None, on=None,
              progress: Progress = None, access: Access | None = None) -> dict:
    """Every figure of the home page for the unit on `on` (today). `progress(done, total)`
    may cancel (Cancelled). With a 网格员's `access`, no unit means their own units (the
    figures of each, added up) and a unit outside them is NotPermitted."""
    if access is not None and access.restricted:
        if unit_id is not None:
            access.check_read_unit(unit_id)
        else:
            parts = [dashboard(conn, root, on, progress) for root in access.roots(conn)]
            if not parts:
                raise NotPermitted("还没有给您分配网格，请联系管理员")
            return {**functools.reduce(_add, parts), "unit_id": None}
    on = _iso(on)
    month = on[:7]
    first, _ = month_range(month)
    people, events, activities = (None if whole else unit_id for whole in _whole(conn, unit_id))
    steps = {"population": lambda c: population(c, people, on),
             "focus": lambda c: focus_groups(c, people, on),
             "visits": lambda c: visits_due(c, people, on),
             "events": lambda c: open_events(c, events, on),
             "volunteers": lambda c: volunteer_figures(c, first, on, activities),
             "visits_by_grid": lambda c: visits_by_grid(c, people, month)}
    total = len(steps)
    figures: dict = {}
    path = _helper_path(conn)
    if path is None:
        for i, (key, fn) in enumerate(steps.items()):
            report(progress, i, total)
            figures[key] = fn(conn)
    else:
        helper: list[sqlite3.Connection] = []

        def aside() -> dict:
            other = db.open_db(path)
            helper.append(other)
            try:
                return {key: steps[key](other) for key in _ASIDE}
            finally:
                other.close()

        import concurrent.futures

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        pending = pool.submit(aside)
        try:
            here = [key for key in steps if key not in _ASIDE]
            for i, key in enumerate(here):
                report(progress, i, total)
                figures[key] = steps[key](conn)
            report(progress, len(here), total)
            try:
                figures.update(pending.result())
            except (sqlite3.Error, db.StorageError):    # no second connection to be had
                figures.update({key: steps[key](conn) for key in _ASIDE})
        except BaseException:
            for other in helper:                # stop the other half (Cancelled, an error)
                with contextlib.suppress(sqlite3.Error):
                    other.interrupt()
            raise
        finally:
            pool.shutdown(wait=True)
    report(progress, total, total)
    return {"on": on, "month": month, "unit_id": unit_id, **{k: figures[k] for k in steps}}


def _add(a, b):
    """Two dashboards of disjoint units added up: numbers summed, lists of (key, …) rows
    merged by key (the grids of both, a focus group's count summed), labels kept."""
    if isinstance(a, dict):
        return {k: _add(a[k], b[k]) for k in a}
    if isinstance(a, bool) or isinstance(a, str) or a is None:
        return a
    if isinstance(a, (int, float)):
        return round(a + b, 1) if isinstance(a, float) or isinstance(b, float) else a + b
    if isinstance(a, list) and any(isinstance(x, tuple) for x in (*a, *b)):
        rows = {row[0]: row for row in a}
        for row in b:
            rows[row[0]] = (row[0], *_add(list(rows[row[0]][1:]), list(row[1:]))) \
                if row[0] in rows else row
        return list(rows.values())
    if isinstance(a, list):
        return [_add(x, y) for x, y in zip(a, b)]
    return a


# --- the monthly report ------------------------------------------------------------------------

def changes(conn: sqlite3.Connection, first: str, last: str,
            unit_id: int | None = None) -> dict:
    """Moves during first..last from the residents' history (resident_events).

    moved_in: 迁入 into a household of the scope, and 户间迁移 into it from outside; a 迁入 in
    the month someone was born is their birth registration and counts as born instead.
    moved_out: 迁出 from the scope, and 户间迁移 out of it. died: 死亡 in the scope.
    born: residents of the scope born in the period.
    """
    head, source, params = _scope(unit_id)
    params = {**params, "first": first, "last": last}
    inside = "1" if unit_id is None else f"({{col}} IN (SELECT h.id FROM {_HOUSEHOLDS_IN_UNIT}))"
    to_in = inside.format(col="e.household_id")
    from_in = inside.format(col="e.from_household_id")
    row = conn.execute(f"""{head}
        SELECT
          coalesce(sum(e.kind = '迁入' AND {to_in}
                       AND substr(coalesce(r.birth_date, ''), 1, 7) <> substr(e.date, 1, 7)), 0)
          + coalesce(sum(e.kind = '户间迁移' AND {to_in} AND NOT {from_in}), 0),
          coalesce(sum(e.kind = '{MOVED_OUT}' AND {from_in}), 0)
          + coalesce(sum(e.kind = '户间迁移' AND {from_in} AND NOT {to_in}), 0),
          coalesce(sum(e.kind = '{DECEASED}' AND {to_in}), 0)
        FROM resident_events e JOIN residents r ON r.id = e.resident_id
        WHERE e.date BETWEEN :first AND :last""", params).fetchone()
    born = conn.execute(f"""{head}
        SELECT count(*) FROM {source} WHERE r.birth_date BETWEEN :first AND :last""",
                        params).fetchone()[0]
    return {"moved_in": row[0], "moved_out": row[1], "died": row[2], "born": born}


def month_figures(conn: sqlite3.Connection, month: str, unit_id: int | None = None,
                  today: dt.date | None = None) -> dict:
    """The monthly report's figures for one month: population at its end (or today, for the
    month under way), the changes during it, focus groups, visits, events, volunteers."""
    from shequ_desktop.casework import events, visits    # lazy, for start-up

    first, last = month_range(month)
    today_iso = (today or dt.date.today()).isoformat()
    if first > today_iso:
        raise DomainError(f"{month} 还没有到，不能出月报")
    end = min(last, today_iso)
    year, mon = int(first[:4]), int(first[5:7])
    return {"month": month, "first": first, "last": last, "end": end,
            "population": population(conn, unit_id, end),
            "changes": changes(conn, first, last, unit_id),
            "focus": focus_groups(conn, unit_id, end),
            "visits": visits.month_figures(conn, year, mon, unit_id),
            "events": events.figures(conn, first, last, unit_id, today=today),
            "volunteers": volunteer_figures(conn, first, last, unit_id)}


def monthly_report(conn: sqlite3.Connection, month: str, unit_id: int | None = None,
                   today: dt.date | None = None) -> dict:
    """{"this": month_figures(month), "last": month_figures(the month before),
    "visits_by_grid": visits per grid in the month}."""
    this = month_figures(conn, month, unit_id, today)
    last = month_figures(conn, shift_month(month, -1), unit_id, today)
    return {"this": this, "last": last,
            "visits_by_grid": visits_by_grid(conn, unit_id, month, months=1)}
