"""Unpacking an uploaded ``.zip`` of sessions and sidecars in memory, treating it as hostile.

Nothing is ever extracted to disk under a name from the archive. The whole archive is refused when any
entry is suspicious (absolute path, ``..``, symlink, encrypted, nested archive) or when it would
unpack beyond the caps; the declared sizes are checked first and the real ones are counted while
decompressing, because headers can lie.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import InvalidUpload
from core.texts import intake as texts
from pool.names import base_name, display_name

MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 50 * 1024 * 1024
_CHUNK = 64 * 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SKIPPED_DIRS = {"__MACOSX"}


@dataclass(frozen=True)
class Member:
    path: str  # the entry's name inside the archive, '/'-separated (display and stem only)
    data: bytes
    hidden: bool = False  # a dotfile: never read, reported as skipped in the upload's answer


def name_parts(name: str) -> list[str]:
    """An entry's name as its folders and file ('\\' read as '/', empty and '.' parts dropped)."""
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def check_name(info: zipfile.ZipInfo) -> None:
    """The rules on an entry's name that refuse the whole archive (nothing is decompressed for them):
    absolute, outside the archive (``..``), a symbolic link. Also the tdata path's (``pool.forms.tdata_zip``)."""
    name = info.filename
    shown = display_name(base_name(name))
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        raise InvalidUpload(texts.entry_absolute(shown))
    if ".." in name_parts(name):
        raise InvalidUpload(texts.entry_outside(shown))
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidUpload(texts.entry_symlink(shown))


def _check_entry(info: zipfile.ZipInfo, max_member_bytes: int) -> None:
    check_name(info)
    name = info.filename
    shown = display_name(base_name(name))
    if info.flag_bits & 0x1:
        raise InvalidUpload(texts.entry_encrypted(shown))
    if not info.is_dir() and name.lower().endswith((".zip", ".7z", ".rar", ".tar", ".gz")):
        raise InvalidUpload(texts.entry_nested(shown))
    if info.file_size > max_member_bytes:
        raise InvalidUpload(texts.entry_too_big(shown, max_member_bytes))


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, max_member_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            if size > budget:
                raise InvalidUpload(texts.archive_too_big(MAX_TOTAL_BYTES // (1024 * 1024)))
            if size > max_member_bytes:
                raise InvalidUpload(texts.entry_unpacks_too_big(max_member_bytes))
            chunks.append(chunk)
    data = b"".join(chunks)
    if data.startswith(_ZIP_MAGICS):
        raise InvalidUpload(texts.NESTED_ARCHIVE())
    return data


def expand_zip(data: bytes, *, max_member_bytes: int, keep: Callable[[str], bool] | None = None) -> list[Member]:
    """The files in an archive (directories and macOS metadata skipped; dotfiles listed unread, ``hidden``,
    so the admin is told); raises InvalidUpload. ``keep``: only entries whose name it accepts are looked
    at (checked, counted, read): the files beside a tdata folder (``pool.forms.tdata_zip``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [info for info in zf.infolist() if keep is None or keep(info.filename)]
            if len(infos) > MAX_MEMBERS:
                raise InvalidUpload(texts.too_many_entries(len(infos), MAX_MEMBERS))
            declared = 0
            for info in infos:
                _check_entry(info, max_member_bytes)
                declared += info.file_size
            if declared > MAX_TOTAL_BYTES:
                raise InvalidUpload(texts.archive_too_big(MAX_TOTAL_BYTES // (1024 * 1024)))
            members: list[Member] = []
            budget = MAX_TOTAL_BYTES
            for info in infos:
                parts = name_parts(info.filename)
                if info.is_dir() or not parts or _SKIPPED_DIRS & set(parts):
                    continue
                if parts[-1].startswith("."):
                    members.append(Member("/".join(parts), b"", hidden=True))
                    continue
                content = _read(zf, info, budget, max_member_bytes)
                budget -= len(content)
                members.append(Member("/".join(parts), content))
            return members
    except InvalidUpload:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        # BadZipFile covers CRC mismatches; RuntimeError/NotImplementedError: encryption or an
        # unsupported compression method.
        raise InvalidUpload(texts.not_a_zip(type(exc).__name__)) from None
