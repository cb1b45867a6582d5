"""Telegram Desktop ``tdata`` folders inside an uploaded zip: found from the central directory's names
alone, and only the few files the reader needs are decompressed, each under a small cap.

A seller's tdata is often the whole folder: thousands of media cache files, ``user_data``, emoji packs.
``pool.archive.expand_zip`` (at most 200 entries, everything read) refuses that, so a zip holding a tdata
root takes this path instead (``pool.intake._expand`` asks here first). Nothing but the 39 possible
key/data/config files per root (``pool.forms.tdata.needed_paths``) is ever opened: a zip-bomb member
elsewhere is never decompressed, and a needed member that declares or inflates beyond ``MEMBER_CAP``
refuses its folder. Names are only lookup keys here: nothing is ever written to disk.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterable

from core.errors import InvalidUpload
from core.session_forms import Extracted
from core.texts import tdata as texts
from pool.forms.tdata import KEY_FILE, SUFFIXES, PasscodeRequired, needed_paths, open_local_key, read_tdata
from pool.forms.tdata_crypto import TDF_MAGIC, open_tdf
from pool.names import kind_of

MAX_NAMES = 20_000
"""Entries a tdata zip may list (a full tdata with its caches has a few thousand)."""
MAX_ROOTS = 20
MEMBER_CAP = 64 * 1024
"""The largest needed file read (real ones are under 2 KiB; a config a few KiB)."""
_KEY_NAMES = frozenset(KEY_FILE + s for s in SUFFIXES)
_SKIPPED_DIRS = ("__MACOSX",)

Item = tuple[str, Extracted | InvalidUpload]


def is_lone_tdf(data: bytes) -> bool:
    """A single Telegram Desktop data file sent on its own (``TDF$`` magic): useless without its folder."""
    return data.startswith(TDF_MAGIC)


def _parts(name: str) -> list[str]:
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def find_roots(names: Iterable[str]) -> list[str]:
    """The tdata roots among archive names: every folder holding a ``key_data{s,0,1}`` file ("" for the
    archive's top), in first-seen order."""
    roots: dict[str, None] = {}
    for name in names:
        parts = _parts(name)
        if len(parts) < 1 or parts[-1] not in _KEY_NAMES or any(p in _SKIPPED_DIRS for p in parts):
            continue
        roots.setdefault("/".join(parts[:-1]), None)
    return list(roots)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & 0x1:
        raise InvalidUpload(texts.member_unreadable("encrypted"))
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidUpload(texts.member_unreadable("a symbolic link"))
    if info.file_size > MEMBER_CAP:
        raise InvalidUpload(texts.member_too_big(MEMBER_CAP))
    try:
        with zf.open(info) as fh:
            data = fh.read(MEMBER_CAP + 1)  # bounded whatever the header claims
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise InvalidUpload(texts.member_unreadable(type(exc).__name__)) from None
    if len(data) > MEMBER_CAP:
        raise InvalidUpload(texts.member_too_big(MEMBER_CAP))
    return data


def _root_files(zf: zipfile.ZipFile, index: dict[str, zipfile.ZipInfo], root: str) -> dict[str, bytes]:
    prefix = f"{root}/" if root else ""
    files: dict[str, bytes] = {}
    for path in needed_paths():
        info = index.get(prefix + path)
        if info is not None and not info.is_dir():
            files[path] = _read_member(zf, info)
    return files


def _root_shown(root: str) -> str:
    return root or "tdata"


def _open(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo], list[str]] | None:
    """The archive, its names (normalised) and its tdata roots; None when it holds no tdata root."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # not a zip: the ordinary archive path says why
    infos = zf.infolist()
    index: dict[str, zipfile.ZipInfo] = {}
    for info in infos[: MAX_NAMES + 1]:
        index.setdefault("/".join(_parts(info.filename)), info)
    roots = find_roots(index)
    if not roots:
        zf.close()
        return None
    if len(infos) > MAX_NAMES:
        zf.close()
        raise InvalidUpload(texts.too_many_names(len(infos), MAX_NAMES))
    if len(roots) > MAX_ROOTS:
        zf.close()
        raise InvalidUpload(texts.too_many_roots(len(roots), MAX_ROOTS))
    return zf, index, roots


def _sessions_outside(index: dict[str, zipfile.ZipInfo], roots: list[str]) -> list[str]:
    """Session-like files of a tdata zip outside every tdata root: not read, and said so (the program,
    readme and other files a seller packs beside a tdata are passed over in silence)."""
    if "" in roots:
        return []
    prefixes = tuple(f"{root}/" for root in roots)
    return [
        name for name, info in index.items()
        if not info.is_dir() and not name.startswith(prefixes) and kind_of(name) != "other"
        and not any(p in _SKIPPED_DIRS or p.startswith(".") for p in name.split("/"))
    ]


def tdata_accounts(data: bytes, passcode: str | None = None, *, allow_test_servers: bool = False) -> list[Item] | None:
    """None when the zip holds no tdata root (the caller treats it as an ordinary archive); else one
    (shown, session or refusal) per account of each root, or one refusal for a root that cannot be opened
    (``PasscodeRequired`` / ``WrongPasscode`` among them), after one refusal per ``.session``/``.json``/
    ``.zip`` file lying outside the roots (not read). ``shown`` is relative to the archive
    (``tdata account 1``, ``seller/tdata``, ``+1555.session``). Raises InvalidUpload for the whole archive
    (too many names or roots). Blocking: run it in a thread."""
    opened = _open(data)
    if opened is None:
        return None
    zf, index, roots = opened
    items: list[Item] = [(name, InvalidUpload(texts.OUTSIDE_TDATA)) for name in _sessions_outside(index, roots)]
    with zf:
        for root in roots:
            shown = _root_shown(root)
            try:
                accounts = read_tdata(_root_files(zf, index, root), passcode)
            except InvalidUpload as exc:
                items.append((shown, exc))
                continue
            for account_index, result in accounts:
                if isinstance(result, Extracted) and result.test_mode and not allow_test_servers:
                    result = InvalidUpload(texts.TEST_SERVER)
                items.append((texts.account_shown(shown, account_index), result))
    return items


def needs_passcode(data: bytes) -> bool:
    """Whether a tdata root of this zip is locked by a passcode (only the key files are read; no
    passcode derivation runs). For the bot, to ask for the passcode of the document that needs one."""
    try:
        opened = _open(data)
    except InvalidUpload:
        return False
    if opened is None:
        return False
    zf, index, roots = opened
    with zf:
        for root in roots:
            prefix = f"{root}/" if root else ""
            for suffix in SUFFIXES:
                info = index.get(prefix + KEY_FILE + suffix)
                if info is None:
                    continue
                try:
                    payload = open_tdf(_read_member(zf, info))
                    if payload is None:
                        continue  # a damaged copy: tdesktop tries the next one
                    open_local_key(payload, None)
                except PasscodeRequired:
                    return True
                except InvalidUpload:
                    pass
                break
    return False
