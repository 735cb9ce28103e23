"""Files kept in the database beside a record (issue 21): meeting attachments (photos, signed
sheets), check-up photos and a compound's plan image. The database is encrypted, so they are
too. The record (name, size, SHA-256) goes through Context, so the audit log and change lists
carry the hash, never the file; the bytes sit in a table of their own keyed by the record's id.

The same bytes travel in data packages: a package carries, beside its records, the contents
they name by hash (`blobs`, each content once however many records name it), and a merge
stores them for the records it holds (exchange.py, merging.py).
"""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError

# record table -> (table of the bytes, its column naming the record)
MEDIA = {"meeting_attachments": ("meeting_attachment_data", "attachment_id"),
         "checkup_photos": ("checkup_photo_data", "photo_id"),
         "site_plans": ("site_plan_images", "plan_id")}
MAX_FILE = 20 * 1024 * 1024
# What one package carries of file contents (before base64): a USB stick copies it in a
# minute and a merge holds it in memory. Contents left out are asked for by the receiver's
# next package (`want`) and come with the sender's next package to it.
PACKAGE_BLOBS = 100 * 1024 * 1024
IMAGE_TYPES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG"}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_upload(path=None, *, name: str | None = None, data: bytes | None = None,
                limit: int = MAX_FILE, what: str = "附件") -> tuple[str, bytes]:
    """(name, bytes) of a file to keep, from a path or given bytes; refused with a message
    naming the file when it cannot be read, is empty or is larger than `limit`."""
    if path is not None:
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise DomainError(f"无法读取“{path}”：{exc.strerror or exc}") from None
        if size > limit:
            raise DomainError(f"“{path.name}”有 {size / 1048576:.1f} MB，{what}不能超过 "
                              f"{limit // 1048576} MB")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DomainError(f"无法读取“{path}”：{exc.strerror or exc}") from None
        name = name or path.name
    if not data or not name:
        raise DomainError(f"{what}要有文件名和内容")
    if len(data) > limit:
        raise DomainError(f"{what}不能超过 {limit // 1048576} MB")
    return name[:120], data


def attach(ctx: Context, table: str, values: dict, name: str, data: bytes) -> Result:
    """A record of `table` (values + name, size, sha256) with its bytes beside it."""
    with ctx.transaction():
        new_id, changes = ctx.insert(table, {**values, "name": name, "size": len(data),
                                             "sha256": digest(data)})
        put_data(ctx.conn, table, new_id, data)
    return Result(new_id, changes)


def put_data(conn: sqlite3.Connection, table: str, record_id: int, data: bytes) -> None:
    data_table, key = MEDIA[table]
    conn.execute(f"INSERT OR REPLACE INTO {data_table} ({key}, data) VALUES (?, ?)",
                 (record_id, data))


def drop_data(conn: sqlite3.Connection, table: str, record_id: int) -> None:
    """The bytes of a record about to be deleted (they refer to it)."""
    if table in MEDIA:
        data_table, key = MEDIA[table]
        conn.execute(f"DELETE FROM {data_table} WHERE {key} = ?", (record_id,))


def remove(ctx: Context, table: str, record_id: int) -> Result:
    """Delete a record and its bytes (NotPermitted outside the user's scope)."""
    with ctx.transaction():
        ctx.get(table, record_id)
        drop_data(ctx.conn, table, record_id)
        return Result(record_id, ctx.delete(table, record_id))


def fetch(conn: sqlite3.Connection, table: str, record_id: int,
          what: str = "附件") -> tuple[str, bytes]:
    """(name, bytes) of a record's file."""
    data_table, key = MEDIA[table]
    row = conn.execute(f"SELECT r.name, d.data FROM {table} r JOIN {data_table} d"
                       f" ON d.{key} = r.id WHERE r.id = ?", (record_id,)).fetchone()
    if row is None:
        raise DomainError(f"找不到{what}（编号 {record_id}），或它的内容还没有随数据包传来")
    return row[0], bytes(row[1])


def image_kind(data: bytes) -> str | None:
    """'PNG' or 'JPEG' when the bytes are such an image (what a PDF can show), else None."""
    return next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), None)


# --- travelling in data packages ----------------------------------------------------------

def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def missing(conn: sqlite3.Connection) -> list[str]:
    """Hashes of records held here without their bytes (a package that left them out for
    size): the next package to a peer asks for them."""
    out: set[str] = set()
    for table, (data_table, key) in MEDIA.items():
        out.update(h for (h,) in conn.execute(
            f"SELECT r.sha256 FROM {table} r WHERE r.sha256 IS NOT NULL AND NOT EXISTS"
            f" (SELECT 1 FROM {data_table} d WHERE d.{key} = r.id)"))
    return sorted(out)


def _by_hash(conn: sqlite3.Connection, hashes: list[str]) -> dict[str, bytes]:
    """{hash: bytes} of the given hashes held here (whichever record holds them)."""
    found: dict[str, bytes] = {}
    for table, (data_table, key) in MEDIA.items():
        wanted = [h for h in hashes if h not in found]
        for chunk in _chunks(wanted):
            for h, data in conn.execute(
                    f"SELECT r.sha256, d.data FROM {table} r JOIN {data_table} d"
                    f" ON d.{key} = r.id WHERE r.sha256 IN ({','.join('?' * len(chunk))})",
                    chunk):
                data = bytes(data)
                if h not in found and digest(data) == h:
                    found[h] = data
    return found


def pack(conn: sqlite3.Connection, records: dict,
         wanted: list[str] = ()) -> tuple[dict[str, str], int]:
    """The contents a package carries for its records (`records`: {table: (columns, rows)} in
    travelling form) and those a peer asked for: {sha256: base64}, each content once, in the
    records' order up to PACKAGE_BLOBS bytes; and how many were left out for size."""
    hashes: list[str] = []
    for table in MEDIA:
        if table in records:
            cols, rows = records[table]
            h = cols.index("sha256")
            hashes.extend(r[h] for r in rows if r[h])
    hashes.extend(wanted)
    order = list(dict.fromkeys(hashes))
    found = _by_hash(conn, order)
    out: dict[str, str] = {}
    used = left = 0
    for h in order:
        data = found.get(h)
        if data is None:
            continue
        if used + len(data) > PACKAGE_BLOBS:
            left += 1
            continue
        used += len(data)
        out[h] = base64.b64encode(data).decode("ascii")
    return out, left


def unpack(conn: sqlite3.Connection, tables: dict, blobs: dict[str, str]) -> int:
    """Store the bytes of media records held here without them (or with other bytes than
    their hash names: a plan image replaced) — the package's records and any record here
    naming one of the package's contents (asked for earlier) — from the package's blobs or
    from another record here holding the same content. Returns how many were stored. A
    blob whose content does not match its hash is ignored."""
    stored = 0
    decoded: dict[str, bytes] = {}
    hashes = list(blobs)
    for table, (data_table, key) in MEDIA.items():
        part = tables.get(table) or {"columns": ["uuid"], "rows": []}
        u = part["columns"].index("uuid")
        select = (f"SELECT r.id, r.sha256, d.data FROM {table} r LEFT JOIN {data_table} d"
                  f" ON d.{key} = r.id WHERE r.")
        rows = {}
        for column, values in (("uuid", [r[u] for r in part["rows"]]), ("sha256", hashes)):
            for chunk in _chunks(values):
                rows.update((r[0], r) for r in conn.execute(
                    select + f"{column} IN ({','.join('?' * len(chunk))})", chunk))
        for record_id, h, held in rows.values():
            if not h or (held is not None and digest(bytes(held)) == h):
                continue
            if h not in decoded:
                data = None
                if isinstance(blobs.get(h), str):
                    try:
                        data = base64.b64decode(blobs[h], validate=True)
                    except ValueError:
                        data = None
                if data is None or digest(data) != h:
                    data = _by_hash(conn, [h]).get(h)
                if data is None:
                    continue
                decoded[h] = data
            put_data(conn, table, record_id, decoded[h])
            stored += 1
    return stored
