"""Telegram Desktop ``tdata`` folders inside an uploaded zip: found from the central directory's names
alone, and only the few files the reader needs are decompressed, each under a small cap.

A seller's tdata is often the whole folder: thousands of media cache files, ``user_data``, emoji packs.
``pool.archive.expand_zip`` (at most 200 entries, everything read) refuses that, so a zip holding a tdata
root takes this path instead (``pool.intake._expand`` asks here first). Nothing but the 39 possible
key/data/config files per root (``pool.forms.tdata.needed_paths``) is decompressed: a zip-bomb member
elsewhere is never read, and a needed member that declares or inflates beyond ``MEMBER_CAP`` refuses its
folder. Beside the roots, only files named ``.session``, ``.json`` or ``.txt`` are read, by the ordinary
archive rules (``expand_zip`` with ``keep``): a sidecar for a tdata account, or other sessions. The rest
(the program, its updater, a readme) is passed over. Names are only lookup keys: nothing is written to
disk, and an absolute name, a ``..`` or a symbolic link anywhere refuses the archive (as ``pool.archive``).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import InvalidUpload
from core.session_forms import Extracted
from core.texts import tdata as texts
from pool.archive import Member, check_name, expand_zip, name_parts
from pool.forms.tdata import KEY_FILE, SUFFIXES, PasscodeRequired, needed_paths, open_local_key, read_tdata
from pool.forms.tdata_crypto import open_tdf
from pool.names import base_name

MAX_NAMES = 20_000
"""Entries a tdata zip may list (a full tdata with its caches has a few thousand)."""
MAX_ROOTS = 20
MEMBER_CAP = 64 * 1024
"""The largest needed file read (real ones are under 2 KiB; a config a few KiB)."""
_KEY_NAMES = frozenset(KEY_FILE + s for s in SUFFIXES)
_SKIPPED_DIRS = ("__MACOSX",)
_BESIDE_SUFFIXES = (".session", ".json", ".txt")

_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)
"""What ``zipfile`` raises on a damaged or unsupported archive (a CRC mismatch, encryption, an unknown
compression method or "zip file version"; ``UnicodeDecodeError`` is a ValueError)."""

Item = tuple[str, Extracted | InvalidUpload]


@dataclass(frozen=True)
class TDataAccount:
    shown: str  # relative to the archive: "seller/tdata account 2", or the root ("tdata") for its refusal
    result: Extracted | InvalidUpload
    stem: str = ""  # pairs it with a sidecar of that stem: set for a root holding one account (or refused)


@dataclass(frozen=True)
class TDataArchive:
    accounts: list[TDataAccount]
    beside: list[Member]  # .session/.json/.txt files outside the roots, read as any archive's members


def find_roots(names: Iterable[str]) -> list[str]:
    """The tdata roots among archive names: every folder holding a ``key_data{s,0,1}`` file ("" for the
    archive's top), in first-seen order."""
    roots: dict[str, None] = {}
    for name in names:
        parts = name_parts(name)
        if not parts or parts[-1] not in _KEY_NAMES or any(p in _SKIPPED_DIRS for p in parts):
            continue
        roots.setdefault("/".join(parts[:-1]), None)
    return list(roots)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & 0x1:
        raise InvalidUpload(texts.member_unreadable("encrypted"))
    if info.file_size > MEMBER_CAP:
        raise InvalidUpload(texts.member_too_big(MEMBER_CAP))
    try:
        with zf.open(info) as fh:
            data = fh.read(MEMBER_CAP + 1)  # bounded whatever the header claims
    except _ZIP_ERRORS as exc:
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


def _root_stem(root: str, archive_name: str) -> str:
    """The stem a sidecar names a tdata by: the folder holding ``tdata`` (``+1555/tdata`` -> ``+1555``), a
    root folder of another name itself, or for a ``tdata`` at the archive's top the archive's own stem."""
    parts = root.split("/") if root else []
    if parts and parts[-1].lower() != "tdata":
        return parts[-1][:200]
    if len(parts) > 1:
        return parts[-2][:200]
    stem = base_name(archive_name)
    return stem[:-4][:200] if stem.lower().endswith(".zip") else ""


def _open(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo], list[str]] | None:
    """The archive, its names (normalised) and its tdata roots; None when it holds no tdata root."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return None  # not a zip we can read: the ordinary archive path says why
    try:
        infos = zf.infolist()
        index: dict[str, zipfile.ZipInfo] = {}
        for info in infos[: MAX_NAMES + 1]:
            index.setdefault("/".join(name_parts(info.filename)), info)
        roots = find_roots(index)
        if not roots:
            zf.close()
            return None
        if len(infos) > MAX_NAMES:
            raise InvalidUpload(texts.too_many_names(len(infos), MAX_NAMES))
        if len(roots) > MAX_ROOTS:
            raise InvalidUpload(texts.too_many_roots(len(roots), MAX_ROOTS))
        for info in infos:
            check_name(info)
    except BaseException:
        zf.close()
        raise
    return zf, index, roots


def _is_beside(name: str, roots: list[str]) -> bool:
    parts = name_parts(name)
    path = "/".join(parts)
    return (
        "" not in roots
        and not any(path.startswith(f"{root}/") for root in roots)
        and base_name(name).lower().endswith(_BESIDE_SUFFIXES)
        and not any(p in _SKIPPED_DIRS for p in parts)
    )


def tdata_archive(
    data: bytes, passcode: str | None = None, *, name: str = "", max_member_bytes: int = MEMBER_CAP
) -> TDataArchive | None:
    """None when the zip holds no tdata root (the caller treats it as an ordinary archive). Else the
    accounts of each root (one refusal for a root that cannot be opened: ``PasscodeRequired``,
    ``WrongPasscode`` among them) and the ``.session``/``.json``/``.txt`` files beside the roots
    (``expand_zip`` rules, ``max_member_bytes``). ``name``: the archive's name (a root at its top pairs
    with a sidecar of the archive's stem). Raises InvalidUpload for the whole archive. Blocking: run it in
    a thread (a passcode derivation may take a second or two)."""
    opened = _open(data)
    if opened is None:
        return None
    zf, index, roots = opened
    accounts: list[TDataAccount] = []
    with zf:
        for root in roots:
            shown = root or "tdata"
            try:
                found = read_tdata(_root_files(zf, index, root), passcode)
            except InvalidUpload as exc:  # the folder's sidecar (if any) is told why, via the stem
                accounts.append(TDataAccount(shown, exc, _root_stem(root, name)))
                continue
            stem = _root_stem(root, name) if len(found) == 1 else ""
            for account_index, result in found:
                accounts.append(TDataAccount(texts.account_shown(shown, account_index), result, stem))
    beside = expand_zip(data, max_member_bytes=max_member_bytes, keep=lambda n: _is_beside(n, roots))
    return TDataArchive(accounts, beside)


def tdata_accounts(data: bytes, passcode: str | None = None) -> list[Item] | None:
    """The accounts alone, as (shown, session or refusal); None when the zip holds no tdata root."""
    found = tdata_archive(data, passcode)
    return None if found is None else [(a.shown, a.result) for a in found.accounts]


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

