"""The data package file (数据交换包) that carries records between PCs on a USB stick.

    header  = MAGIC (8 bytes) | format (1) | log2 n, r, p of scrypt (3) | salt (16) | nonce (12)
    body    = AES-256-GCM( zlib( JSON {"manifest": …, "data": …} ) ), the header as associated data

The key is scrypt(passphrase, salt) as in keys.py. GCM authenticates every byte, so a wrong
passphrase, a truncated file or one flipped byte are all refused by the tag before anything is
read; the manifest's counts and the SHA-256 of the data are checked after that as well.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from shequ_desktop.core.errors import DomainError

MAGIC = b"SHEQUPKG"
FORMAT = 1
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
_HEAD = struct.Struct("!8sBBBB16s12s")
SUFFIX = ".sqpkg"
# Decompression bounds (_inflate): JSON records compress 5–10 times; a zip bomb a thousand.
EXPAND_RATIO = 40
EXPAND_FLOOR = 48 * 2 ** 20
EXPAND_MAX = 2 ** 30


class PackageError(DomainError):
    """The file is not a package we can read: refused before anything is applied."""


def _key(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    import hashlib
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=2 ** log_n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def data_digest(data: dict) -> str:
    import hashlib
    return hashlib.sha256(_canonical(data)).hexdigest()


def _canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def counts(data: dict) -> dict[str, int]:
    out = {table: len(part["rows"]) for table, part in data["tables"].items()}
    out["tombstones"] = len(data["tombstones"])
    if data.get("gone"):
        out["gone"] = len(data["gone"])
    if data.get("blobs"):
        out["blobs"] = len(data["blobs"])
    return out


def records(counts_: dict[str, int]) -> int:
    """How many records (and deletions) a package's counts stand for: its file contents
    ("blobs") are not records."""
    return sum(n for key, n in counts_.items() if key != "blobs")


def seal(passphrase: str, body: bytes) -> tuple[bytes, bytes]:
    """(header, AES-GCM sealed body) of a compressed body."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    header = _HEAD.pack(MAGIC, FORMAT, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, salt, nonce)
    return header, AESGCM(_key(passphrase, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)).encrypt(
        nonce, body, header)


def write(path: str | os.PathLike, passphrase: str, manifest: dict, data: dict) -> int:
    """Write the package (to a temporary name, then renamed); returns its size in bytes."""
    import zlib

    if not passphrase:
        raise PackageError("请输入数据包口令")
    manifest = {**manifest, "format": FORMAT, "counts": counts(data),
                "sha256": data_digest(data)}
    body = zlib.compress(_canonical({"manifest": manifest, "data": data}), 6)
    header, sealed = seal(passphrase, body)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as f:
            f.write(header + sealed)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except OSError as exc:               # a full or pulled-out USB stick, a folder gone
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise PackageError(f"无法写入数据包“{os.fspath(path)}”：{exc.strerror or exc}"
                           "（请检查文件夹和 U 盘是否可写、空间是否足够）") from None
    return len(header) + len(sealed)


def read(path: str | os.PathLike, passphrase: str) -> tuple[dict, dict]:
    """(manifest, data), or PackageError saying why the file is refused."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    shown = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PackageError(f"无法读取数据包“{shown}”：{exc.strerror or exc}") from None
    if len(raw) < _HEAD.size or not raw.startswith(MAGIC):
        raise PackageError(f"“{shown}”不是社区网格工作台的数据交换包（或文件已被截断），未作任何修改")
    magic, fmt, log_n, r, p, salt, nonce = _HEAD.unpack_from(raw)
    if fmt != FORMAT:
        raise PackageError(f"数据包“{shown}”的格式版本为 {fmt}，本程序只能读取版本 {FORMAT}，"
                           "请升级程序后再合并")
    if not (10 <= log_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        raise PackageError(f"数据包“{shown}”已损坏（文件头不正确），未作任何修改")
    if not passphrase:
        raise PackageError("请输入数据包口令")
    try:
        body = AESGCM(_key(passphrase, salt, log_n, r, p)).decrypt(
            nonce, raw[_HEAD.size:], raw[:_HEAD.size])
    except (InvalidTag, ValueError):
        raise PackageError(f"无法打开数据包“{shown}”：口令不正确，或文件已损坏、被截断或被改动。"
                           "未作任何修改") from None
    plain = _inflate(body, shown)
    try:
        payload = json.loads(plain)
        manifest, data = payload["manifest"], payload["data"]
        data["tables"], data["tombstones"], data["seen"], data["have"]
    except (ValueError, KeyError, TypeError):
        raise PackageError(f"数据包“{shown}”的内容不完整，未作任何修改") from None
    if not _well_formed(manifest, data):
        raise PackageError(f"数据包“{shown}”的内容格式不正确，未作任何修改")
    if manifest.get("sha256") != data_digest(data):
        raise PackageError(f"数据包“{shown}”的校验值与内容不符（内容被改动），未作任何修改")
    if manifest.get("counts") != counts(data):
        raise PackageError(f"数据包“{shown}”的记录数与清单不符，未作任何修改")
    return manifest, data


def _inflate(body: bytes, shown: str) -> bytes:
    """The decompressed body, refused once it grows past a bound (a package that expands a
    thousandfold is a zip bomb, not records): the bound is EXPAND_RATIO times the compressed
    size, at least EXPAND_FLOOR and at most EXPAND_MAX bytes. Memory stays under the bound."""
    import zlib

    limit = min(EXPAND_MAX, max(EXPAND_FLOOR, EXPAND_RATIO * len(body)))
    inflater = zlib.decompressobj()
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise PackageError(f"数据包“{shown}”的内容不完整，未作任何修改") from None
    if not inflater.eof and len(plain) <= limit:
        raise PackageError(f"数据包“{shown}”的内容不完整，未作任何修改")
    if len(plain) > limit or inflater.unconsumed_tail:
        raise PackageError(f"数据包“{shown}”解压后超过 {limit // 2 ** 20} MB，"
                           "不像是正常的数据包（可能是恶意构造的文件），未作任何修改")
    return plain


def _hash(value) -> bool:
    return (isinstance(value, str) and len(value) == 64
            and all(c in "0123456789abcdef" for c in value))


def _well_formed(manifest, data) -> bool:
    """The shapes the merge relies on (a package rewritten by hand, or by another version, is
    refused here rather than failing half-way through the merge)."""
    def text(value) -> bool:
        return isinstance(value, str) and bool(value)

    if not (isinstance(manifest, dict) and text(manifest.get("source_site"))
            and text(manifest.get("package")) and isinstance(manifest.get("seq"), int)
            and not isinstance(manifest.get("seq"), bool)):
        return False
    tables, stones = data["tables"], data["tombstones"]
    if not (isinstance(tables, dict) and isinstance(stones, list)
            and all(isinstance(data.get(k, {}), dict)
                    for k in ("seen", "have", "deleted_seen"))
            and isinstance(data.get("gone", []), list)):
        return False
    blobs, want = data.get("blobs", {}), data.get("want", [])
    if not (isinstance(blobs, dict) and all(_hash(h) and isinstance(b, str)
                                            for h, b in blobs.items())
            and isinstance(want, list) and all(_hash(h) for h in want)):
        return False
    for part in tables.values():
        if not isinstance(part, dict):
            return False
        columns, rows = part.get("columns"), part.get("rows")
        if not (isinstance(columns, list) and "uuid" in columns and isinstance(rows, list)
                and all(isinstance(c, str) for c in columns)
                and all(isinstance(r, list) and len(r) == len(columns) for r in rows)):
            return False
    return (all(isinstance(s, list) and len(s) == 4 and all(text(x) for x in s[:2])
                for s in stones)
            and all(isinstance(g, list) and len(g) == 2 for g in data.get("gone", [])))
