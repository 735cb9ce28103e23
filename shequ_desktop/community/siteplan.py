"""以图管房 (issue 21): a compound's own plan — a scanned or photographed site plan (an image,
or the first page of a PDF rendered to an image) with its buildings placed on it as rectangles or polygons (drawn, or imported from GeoJSON footprints),
coloured by a measure the user picks, with a legend and counts. Offline, no map tiles.

Rectangles are stored in fractions of the plan (x, y, w, h in 0..1 from the top left), so they
do not depend on the image's resolution. A compound without a plan, or buildings not placed
yet, get a generated layout (a grid in the buildings' natural order), so the page is never
empty. The image bytes sit beside the plan record (site_plan_images), like meeting
attachments: the record goes through Context and the audit log carries the hash.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.casework import visits
from shequ_desktop.community import media
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.statuses import ON_RECORD, RENTED, VACANT

MEASURES = {"focus": "重点人员", "overdue": "逾期未访", "events": "未办结事件",
            "vacant": "空置房", "rented": "出租房"}
MAX_IMAGE = 30 * 1024 * 1024
PDF_DPI = 150
MIN_SIZE = 0.005
NAME_KEYS = ("name", "楼栋", "building", "名称")
# colours of the classes, from none to most (RGB 0..1)
PALETTE = ((0.86, 0.93, 0.86), (1.00, 0.93, 0.60), (0.99, 0.70, 0.38), (0.89, 0.29, 0.20))


def _compound(ctx_or_conn, unit_id: int) -> dict:
    conn = getattr(ctx_or_conn, "conn", ctx_or_conn)
    row = conn.execute("SELECT * FROM grid_units WHERE id = ?", (unit_id,)).fetchone()
    if row is None or row["level"] != "compound":
        raise DomainError("平面图按小区管理，请选择一个小区")
    return dict(row)


def _image_bytes(name: str, data: bytes) -> tuple[bytes, int, int]:
    """PNG/JPEG bytes of the plan and their size; a PDF's first page is rendered."""
    from reportlab.lib.utils import ImageReader

    if data[:5] == b"%PDF-":
        import pypdfium2 as pdfium
        try:
            page = pdfium.PdfDocument(data)[0]
            image = page.render(scale=PDF_DPI / 72).to_pil()
        except Exception as exc:          # a damaged PDF: say so, do not crash
            raise DomainError(f"“{name}”无法作为 PDF 打开：{exc}") from None
        out = io.BytesIO()
        image.save(out, "PNG")
        data = out.getvalue()
    try:
        width, height = ImageReader(io.BytesIO(data)).getSize()
    except Exception:
        raise DomainError(f"“{name}”不是可识别的图片（请用 PNG、JPEG 或 PDF）") from None
    return data, int(width), int(height)


def set_image(ctx: Context, unit_id: int, path) -> Result:
    """Load (or replace) the compound's plan from an image or PDF file; the placed buildings
    keep their places."""
    name, raw = media.read_upload(path, limit=MAX_IMAGE, what="平面图")
    data, width, height = _image_bytes(name, raw)
    with ctx.transaction():
        _compound(ctx, unit_id)
        values = {"name": name, "width": width, "height": height,
                  "sha256": media.digest(data)}
        plan = ctx.conn.execute("SELECT * FROM site_plans WHERE unit_id = ?",
                                (unit_id,)).fetchone()
        if plan is None:
            plan_id, changes = ctx.insert("site_plans", {"unit_id": unit_id, **values})
        else:
            plan_id, changes = plan["id"], ctx.update("site_plans", plan["id"], values,
                                                      dict(plan))
        media.put_data(ctx.conn, "site_plans", plan_id, data)
    return Result(plan_id, changes)


def image(conn: sqlite3.Connection, unit_id: int) -> bytes | None:
    row = conn.execute("SELECT i.data FROM site_plans p JOIN site_plan_images i"
                       " ON i.plan_id = p.id WHERE p.unit_id = ?", (unit_id,)).fetchone()
    return bytes(row[0]) if row else None


def place_building(ctx: Context, unit_id: int, building_id: int, x: float, y: float,
                   w: float, h: float) -> Result:
    """Put (or move) a building's rectangle on the compound's plan (fractions 0..1)."""
    try:
        x, y, w, h = (float(v) for v in (x, y, w, h))
    except (TypeError, ValueError):
        raise ValidationError([FieldError("x", "位置", "位置和大小应为数字")]) from None
    w, h = min(max(w, MIN_SIZE), 1.0), min(max(h, MIN_SIZE), 1.0)
    x, y = min(max(x, 0.0), 1.0 - w), min(max(y, 0.0), 1.0 - h)
    return _place(ctx, unit_id, building_id, {"x": round(x, 4), "y": round(y, 4),
                                              "w": round(w, 4), "h": round(h, 4),
                                              "points": None})


def place_polygon(ctx: Context, unit_id: int, building_id: int, points) -> Result:
    """Draw a building as a polygon on the plan: [(x, y), …] fractions 0..1 (at least three
    corners; kept inside the plan); its rectangle becomes the polygon's bounding box."""
    try:
        corners = [(min(max(float(px), 0.0), 1.0), min(max(float(py), 0.0), 1.0))
                   for px, py in points]
    except (TypeError, ValueError):
        raise ValidationError([FieldError("points", "轮廓", "每个角点应为两个数字")]) from None
    if len({(round(px, 4), round(py, 4)) for px, py in corners}) < 3:
        raise ValidationError([FieldError("points", "轮廓", "多边形至少要有三个不同的角点")])
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    w, h = max(max(xs) - min(xs), MIN_SIZE), max(max(ys) - min(ys), MIN_SIZE)
    return _place(ctx, unit_id, building_id, {
        "x": round(min(min(xs), 1.0 - w), 4), "y": round(min(min(ys), 1.0 - h), 4),
        "w": round(w, 4), "h": round(h, 4),
        "points": json.dumps([[round(px, 4), round(py, 4)] for px, py in corners])})


def _place(ctx: Context, unit_id: int, building_id: int, values: dict) -> Result:
    with ctx.transaction():
        _compound(ctx, unit_id)
        building = ctx.get("grid_units", building_id)
        if building["level"] != "building" or building["parent_id"] != unit_id:
            raise DomainError(f"“{building['name']}”不是这个小区的楼栋")
        plan = ctx.conn.execute("SELECT id FROM site_plans WHERE unit_id = ?",
                                (unit_id,)).fetchone()
        changes = []
        if plan is None:
            plan_id, changes = ctx.insert("site_plans", {"unit_id": unit_id})
        else:
            plan_id = plan[0]
        placed = ctx.conn.execute("SELECT * FROM site_plan_buildings WHERE building_id = ?",
                                  (building_id,)).fetchone()
        if placed is None:
            new_id, more = ctx.insert("site_plan_buildings", {
                "plan_id": plan_id, "building_id": building_id, **values})
        else:
            new_id, more = placed["id"], ctx.update("site_plan_buildings", placed["id"],
                                                    values, dict(placed))
    return Result(new_id, changes + more)


def import_geojson(ctx: Context, unit_id: int, path, name_keys=NAME_KEYS) -> dict:
    """Place the compound's buildings from GeoJSON footprints: a FeatureCollection of Polygon
    (or MultiPolygon: its largest part) features, each naming its building in a property
    (`name_keys`, the first present). The footprints are fitted together, keeping their shape
    and relative places, into the plan's canvas; longitude/latitude are corrected for the
    latitude. Returns {"placed": [building names], "unmatched": [what was left and why]};
    all placed in one transaction, or none when the file is refused."""
    shown = Path(path).name
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise DomainError(f"无法读取“{path}”：{exc.strerror or exc}") from None
    except ValueError as exc:
        raise DomainError(f"“{shown}”不是 GeoJSON 文件（JSON 格式错误：{exc}）") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise DomainError(f"“{shown}”不是 GeoJSON 要素集合（FeatureCollection）")
    buildings = {r["name"]: r["id"] for r in ctx.conn.execute(
        "SELECT id, name FROM grid_units WHERE parent_id = ? AND level = 'building'",
        (unit_id,))}
    found, unmatched = [], []
    for i, feature in enumerate(doc["features"], 1):
        props = (feature or {}).get("properties") or {}
        name = next((str(props[k]).strip() for k in name_keys if props.get(k)), "")
        ring = _outer_ring((feature or {}).get("geometry"))
        label = f"第 {i} 个要素" + (f"“{name}”" if name else "")
        if ring is None:
            unmatched.append(f"{label}：不是多边形（Polygon），未导入")
        elif not name:
            unmatched.append(f"{label}：没有楼栋名称（属性 {'、'.join(name_keys)}），未导入")
        elif _match(name, buildings) is None:
            unmatched.append(f"{label}：小区里没有这个楼栋，未导入")
        else:
            found.append((_match(name, buildings), name, ring))
    if not found:
        return {"placed": [], "unmatched": unmatched}
    plan = layout(ctx.conn, unit_id)
    fitted = _fit([ring for _b, _n, ring in found], plan["width"], plan["height"])
    with ctx.transaction():
        for (building, _name, _ring), corners in zip(found, fitted):
            place_polygon(ctx, unit_id, building, corners)
    return {"placed": [name for _b, name, _r in found], "unmatched": unmatched}


def _outer_ring(geometry) -> list[tuple[float, float]] | None:
    if not isinstance(geometry, dict):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    try:
        if kind == "Polygon":
            ring = coords[0]
        elif kind == "MultiPolygon":
            ring = max((part[0] for part in coords), key=len)
        else:
            return None
        ring = [(float(p[0]), float(p[1])) for p in ring]
    except (TypeError, ValueError, IndexError):
        return None
    if ring and ring[0] == ring[-1]:
        ring = ring[:-1]
    return ring if len(ring) >= 3 else None


def _match(name: str, buildings: dict[str, int]) -> int | None:
    """The building named so; else the only one with the same number ("3栋" for "3号楼")."""
    if name in buildings:
        return buildings[name]
    import re

    number = re.findall(r"\d+", name)
    same = [b for n, b in buildings.items() if number and re.findall(r"\d+", n)[:1] == number[:1]]
    return same[0] if len(same) == 1 else None


def _fit(rings: list, width: int, height: int, margin: float = 0.05) -> list[list]:
    """The rings in fractions of a width × height canvas: shapes kept (one scale for x and
    y; y flipped, as maps go up and images down), centred, within `margin`."""
    xs = [x for ring in rings for x, _y in ring]
    ys = [y for ring in rings for _x, y in ring]
    stretch = 1.0
    if all(-180 <= x <= 180 for x in xs) and all(-90 <= y <= 90 for y in ys):
        stretch = math.cos(math.radians((min(ys) + max(ys)) / 2))   # degrees of longitude
    dx, dy = max((max(xs) - min(xs)) * stretch, 1e-12), max(max(ys) - min(ys), 1e-12)
    scale = min(width * (1 - 2 * margin) / dx, height * (1 - 2 * margin) / dy)
    off_x = (width - dx * scale) / 2
    off_y = (height - dy * scale) / 2
    return [[((off_x + (x - min(xs)) * stretch * scale) / width,
              (off_y + (max(ys) - y) * scale) / height) for x, y in ring] for ring in rings]


def _natural(text: str) -> tuple:
    import re
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or "") if p)


def layout(conn: sqlite3.Connection, unit_id: int) -> dict:
    """The plan of a compound: {name, has_image, width, height, buildings: [{id, name, x, y,
    w, h, placed}]}; buildings not placed get the generated layout's place."""
    compound = _compound(conn, unit_id)
    plan = conn.execute("SELECT p.*, (SELECT 1 FROM site_plan_images i WHERE i.plan_id = p.id)"
                        " AS has_image FROM site_plans p WHERE p.unit_id = ?",
                        (unit_id,)).fetchone()
    placed = {r["building_id"]: dict(r) for r in conn.execute(
        "SELECT * FROM site_plan_buildings WHERE plan_id = ?", (plan["id"],))} if plan else {}
    buildings = sorted((dict(r) for r in conn.execute(
        "SELECT id, name FROM grid_units WHERE parent_id = ? AND level = 'building'",
        (unit_id,))), key=lambda b: _natural(b["name"]))
    n = max(len(buildings), 1)
    cols = math.ceil(math.sqrt(n * 1.5))
    rows = math.ceil(n / cols)
    out = []
    for i, b in enumerate(buildings):
        if b["id"] in placed:
            p = placed[b["id"]]
            out.append({**b, "x": p["x"], "y": p["y"], "w": p["w"], "h": p["h"], "placed": True,
                        "points": json.loads(p["points"]) if p["points"] else None})
        else:
            col, row = i % cols, i // cols
            out.append({**b, "x": (col + 0.2) / cols, "y": (row + 0.25) / rows,
                        "w": 0.6 / cols, "h": 0.5 / rows, "placed": False, "points": None})
    return {"name": compound["name"], "has_image": bool(plan and plan["has_image"]),
            "width": plan["width"] if plan and plan["width"] else 1600,
            "height": plan["height"] if plan and plan["height"] else 1000, "buildings": out}


def measure(conn: sqlite3.Connection, unit_id: int, what: str,
            on: dt.date | None = None) -> dict[int, int]:
    """building id -> the measure `what` (MEASURES) for the compound's buildings, now."""
    if what not in MEASURES:
        raise DomainError(f"没有“{what}”这种着色方式（可选：{'、'.join(MEASURES)}）")
    buildings = [r[0] for r in conn.execute(
        "SELECT id FROM grid_units WHERE parent_id = ? AND level = 'building'", (unit_id,))]
    counts = {b: 0 for b in buildings}
    # a house hangs on its building or on a unit of it
    building_of = ("CASE WHEN u.level = 'building' THEN u.id ELSE u.parent_id END")
    if what in ("vacant", "rented"):
        usage = VACANT if what == "vacant" else RENTED
        sql = f"""SELECT {building_of}, count(*) FROM houses ho JOIN grid_units u
                  ON u.id = ho.unit_id WHERE ho.usage = ? GROUP BY 1"""
        rows = conn.execute(sql, (usage,))
    elif what == "focus":
        rows = conn.execute(f"""
            SELECT {building_of}, count(DISTINCT r.id) FROM residents r
            JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
            JOIN grid_units u ON u.id = ho.unit_id
            WHERE r.status = '{ON_RECORD}' AND EXISTS (SELECT 1 FROM resident_tags rt
                WHERE rt.resident_id = r.id AND rt.until IS NULL) GROUP BY 1""")
    elif what == "events":
        rows = conn.execute(f"""
            SELECT CASE WHEN u.level = 'building' THEN u.id ELSE u.parent_id END, count(*)
            FROM events e JOIN grid_units u ON u.id = e.unit_id
            WHERE e.status IN ('上报', '受理', '处置中') AND u.level IN ('building', 'unit')
            GROUP BY 1""")
    else:                                                       # overdue visits

        late = visits.due(conn, on, unit_id, within_days=-1)
        households = [r["household_id"] for r in late]
        rows = []
        if households:
            found = dict(conn.execute(f"""
                SELECT h.id, {building_of} FROM households h JOIN houses ho ON ho.id = h.house_id
                JOIN grid_units u ON u.id = ho.unit_id
                WHERE h.id IN ({','.join('?' * len(households))})""", households).fetchall())
            tally: dict[int, int] = {}
            for hid in households:
                b = found.get(hid)
                tally[b] = tally.get(b, 0) + 1
            rows = tally.items()
    for building, n in rows:
        if building in counts:
            counts[building] = n
    return counts


def classes(values: list[int]) -> list[tuple[int, int]]:
    """The legend's classes as (low, high) ranges: 0, then up to three ranges over the
    positive values (by thirds of the largest)."""
    top = max(values, default=0)
    if top <= 0:
        return [(0, 0)]
    if top <= 3:
        return [(0, 0)] + [(v, v) for v in range(1, top + 1)]
    a, b = max(1, round(top / 3)), max(2, round(2 * top / 3))
    return [(0, 0), (1, a), (a + 1, b), (b + 1, top)]


def class_of(value: int, ranges: list[tuple[int, int]]) -> int:
    for i, (low, high) in enumerate(ranges):
        if low <= value <= high:
            return i
    return len(ranges) - 1


def colour(index: int, count: int) -> tuple[float, float, float]:
    """The colour of class `index` of `count` (class 0 is always the 'none' colour)."""
    if index == 0:
        return PALETTE[0]
    step = (len(PALETTE) - 1) / max(count - 1, 1)
    return PALETTE[min(len(PALETTE) - 1, max(1, round(index * step)))]
