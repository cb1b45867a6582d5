"""Intake: adding uploaded sessions, in every form sellers ship them (``pool.forms``: Telethon and
Pyrogram / Kurigram ``.session`` files, text files of session strings, zipped Telegram Desktop ``tdata``
folders, ``.zip`` archives of them), with optional ``.json`` sidecars, to the pool. Used by the control
bot (documents an admin sends) and ``adbot pool import``. The form is told from the content, never the
name; each session gets one result (a text file of strings: one per line, ``keys.txt line 3``; a tdata
folder: one per account, ``x.zip/tdata account 2``), and one refused does not stop the rest. A tdata
locked by a local passcode is opened with the ``passcode`` given for the call (never kept); without it,
or with a wrong one, its result says so (``IntakeResult.needs_passcode``: the bot asks the admin for it).

Every upload is hostile until proven otherwise (``storage.sessionfile``, ``pool.sidecar``,
``pool.archive``). Each file gets one result: accepted with its session id, or rejected with the
precise reason; a rejected file leaves nothing behind (no row, no file, no temporary copy).

Sidecars pair with sessions by stem across the whole batch (``x.session`` + ``x.json``, wherever they
sit in the batch or its archives; ``x.txt`` + ``x.json`` only when the text holds one session string).
A sidecar sent alone attaches to the pool session that was imported from a file with the same stem
(``sessions.source_name``).

A sidecar's proxy is stored with the row (the session's proxy for life) and checked once the row is in:
an unreachable proxy is kept and flagged (``IntakeResult.note``, /health), not a reason to refuse the
session, whose account was made behind it. A sidecar sent later gives its proxy only to a session that
has none (a proxy changes only when an admin changes it).

Identity (``pool.identity``): the API id and device profile are chosen here, once, and stored with the
row; a session no pair has room for is accepted but waits for an API pair (``IntakeResult.waiting``).
A sidecar's app wins; else the app id the file names (Pyrogram; Telegram Desktop's for tdata) when it is
an official app's whose hash is public (``core.official_apps``; Telegram Desktop's sessions get a desktop
device, ``devices.tdesktop_profile``); any other app id cannot be used without its hash (the note says so).

Test-server sessions (``Extracted.test_mode``) are refused unless ``[pool] allow_test_servers``; then
they are stored with their flag and the test DC table's address.

What is stored is never the upload: a fresh file holding its DC id and auth key, with the DC table's
address (``storage.sessionfile.fresh_image``, ``core.dcs``), so the upload's triggers, views, extra
tables and server address go nowhere; a foreign address is named in ``IntakeResult.note``.

Storing: the row is inserted and the file written (0600, a server-made name) in one transaction, the
file staged inside ``sessions_dir`` and linked into ``unused/`` just before COMMIT (``pool.staging``:
every crash window is settled at start-up, no orphan file is possible). Storing one file may fail (a
full disk: ENOSPC, EDQUOT, EFBIG; another OS error; a busy or failing database): that is the file's
result with its reason, its row and file are rolled back, and the rest of the batch is still tried.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidUpload
from core.official_apps import OFFICIAL_APPS, TELEGRAM_DESKTOP
from core.session_forms import Extracted
from core.texts import intake as texts
from core.texts import proxy as proxy_texts
from pool import devices, forms, identity
from pool.archive import expand_zip
from pool.layout import SESSION_SUFFIX, UNUSED
from pool.names import display_name, kind_of, stem_of
from pool.proxies import ProxyChecker, check_proxy, check_stored
from pool.sidecar import Sidecar, parse_sidecar
from pool.staging import StagedFile
from storage import proxies as proxy_rows
from storage import sessions as session_rows
from storage.db import Database, StorageFailure, failure_kind
from storage.pyrogram_file import read_session_file
from storage.sessionfile import fresh_image

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeResult:
    filename: str  # as uploaded (sanitised for display); 'archive.zip/inner.session' for archive entries
    accepted: bool
    session_id: int | None = None
    reason: str | None = None  # why it was rejected
    note: str | None = None  # beside an accepted one: its sidecar's proxy (masked) and how its check went
    waiting: bool = False  # accepted without an API pair (none had room): unused until an admin adds one
    needs_passcode: bool = False  # refused: a tdata locked by a local passcode, none given or a wrong one


@dataclass
class _Item:
    slot: int  # index of its result
    shown: str
    stem: str
    data: bytes  # a session file, read when it is imported; b"" for an item read already (``found``)
    found: Extracted | InvalidUpload | None = None  # a session string, read (or refused) with its file
    in_file: int = 1  # sessions its file holds (a text file of strings: several; a sidecar pairs with one)


class _Duplicate(Exception):
    def __init__(self, session_id: int) -> None:
        super().__init__(session_id)
        self.session_id = session_id


def new_file_name() -> str:
    return f"s{secrets.token_hex(8)}{SESSION_SUFFIX}"


def _own_app(found: Extracted, sidecar: Sidecar | None) -> tuple[tuple[int, str] | None, dict[str, str], str | None]:
    """The app the session keeps (None: a pool pair), its device as given, and a note for the admin.
    A sidecar's app wins; else the official app the file names; an app id without its hash is unusable."""
    device = dict(sidecar.device) if sidecar else {}
    if sidecar is not None and sidecar.api_id is not None and sidecar.api_hash:
        return (sidecar.api_id, sidecar.api_hash), device, None
    if found.api_id is None:
        return None, device, None
    app = OFFICIAL_APPS.get(found.api_id)
    if app is None:
        return None, device, texts.app_id_without_hash(found.api_id)
    if app is TELEGRAM_DESKTOP:  # a desktop device, not a phone (a tdata account, or a file made by it)
        device = {**devices.tdesktop_profile(found.auth_key_sha), **device}
    if app.lang_pack:
        device.setdefault("lang_pack", app.lang_pack)
    return (app.api_id, app.api_hash), device, texts.official_app(app.name, app.api_id)


async def _store(
    db: Database, sessions_dir: Path, data: bytes, info: Extracted, sidecar: Sidecar | None, stem: str, now: float
) -> tuple[int, bool, str | None]:
    """Insert the row and put ``data`` into ``unused/`` atomically (``pool.staging`` has the protocol and
    why each crash window is safe): staged and linked into place under the write lock, before COMMIT.
    Returns the session id, whether it waits for an API pair, and a note on its app (``_own_app``)."""
    name = new_file_name()
    staged = StagedFile(sessions_dir, name)
    body_done = False
    try:
        async with db.tx() as conn:
            existing = await session_rows.get_by_key_sha(conn, info.auth_key_sha)
            if existing is not None:
                raise _Duplicate(existing.id)
            own_app, device, app_note = _own_app(info, sidecar)
            chosen = await identity.for_new_session(
                conn, auth_key_sha=info.auth_key_sha, own_app=own_app, device=device
            )
            session_id = await session_rows.insert(
                conn,
                file_name=name,
                auth_key_sha=info.auth_key_sha,
                dc_id=info.dc_id,
                folder=UNUSED,
                now=now,
                pair_id=chosen.pair_id,
                own_api_id=chosen.own_api_id,
                own_api_hash=chosen.own_api_hash,
                device=chosen.device,
                phone=sidecar.phone if sidecar else None,
                source_name=stem or None,
                test_mode=info.test_mode,
            )
            if sidecar is not None and sidecar.proxy is not None:
                await proxy_rows.put(conn, session_id, sidecar.proxy, set_by=proxy_rows.SIDECAR, now=now)
            await identity.note_if_full(conn, now, pair_id=chosen.pair_id, api_id=chosen.own_api_id)
            await staged.place(data)  # cancelled meanwhile: returns only once its thread is done
            body_done = True
    except Exception:
        staged.discard()  # an ordinary error: the transaction surely rolled back
        raise
    except BaseException:
        # Cancellation or exit: during COMMIT it may have gone through; start-up settles the files then.
        if not body_done:
            staged.discard()
        raise
    staged.finish()
    return session_id, chosen.pair_id is None and chosen.own_api_id is None, app_note


def _not_saved(exc: BaseException) -> str | None:
    """Why storing a file failed, as that file's result; None when ``exc`` is no storage failure. What a
    failure is comes from ``storage.db.failure_kind``, the classifier the engine uses too."""
    kind = failure_kind(exc)
    if kind is StorageFailure.DISK_FULL:
        logger.warning("upload not stored: the disk is full (%s)", type(exc).__name__)
        return texts.DISK_FULL()
    if kind is StorageFailure.BUSY:
        logger.warning("upload not stored: the database stayed busy")
        return texts.DATABASE_BUSY()
    if isinstance(exc, OSError):  # staging the file failed otherwise (no storage failure to the engine)
        logger.error("upload not stored: %s (errno %s)", exc.strerror, exc.errno)
        return texts.not_saved(exc.strerror)
    if kind is not None:
        logger.error("upload not stored: database error", exc_info=exc)
        return texts.DATABASE_FAILED()
    return None


async def _attach(db: Database, sidecar: Sidecar, stem: str, now: float) -> tuple[int, bool]:
    """The sidecar's app and device go to the pool session of that stem (only while it never connected:
    ``pool.identity``); its proxy too when the session has none. Returns the session id and whether a
    proxy was stored."""
    if not stem:
        raise InvalidUpload(texts.SIDECAR_NO_STEM())
    async with db.tx() as conn:
        rows = [r for r in await session_rows.list_by_source(conn, stem) if r.state != "dead"]
        if not rows:
            raise InvalidUpload(texts.no_session_named(stem))
        if len(rows) > 1:
            raise InvalidUpload(texts.several_sessions_named(len(rows), stem))
        [row] = rows
        if row.identity_used_at is not None and (sidecar.has_app or sidecar.device):
            # it already connected as itself: another app or device now would be a visible change
            raise InvalidUpload(texts.identity_fixed(row.id))
        if sidecar.api_id is not None:
            await identity.check_app_room(conn, sidecar.api_id, session_id=row.id)
        await session_rows.set_own_app(
            conn,
            row.id,
            api_id=sidecar.api_id,
            api_hash=sidecar.api_hash,
            device=devices.complete(sidecar.device, row.auth_key_sha) if sidecar.device else {},
            phone=sidecar.phone,
        )
        if sidecar.api_id is not None:
            await identity.note_if_full(conn, now, api_id=sidecar.api_id)
        proxy_added = False
        if sidecar.proxy is not None and await proxy_rows.get(conn, row.id) is None:
            await proxy_rows.put(conn, row.id, sidecar.proxy, set_by=proxy_rows.SIDECAR, now=now)
            proxy_added = True
        return row.id, proxy_added


async def _proxy_note(
    db: Database, session_id: int, sidecar: Sidecar, now: float, check: ProxyChecker, ipv6: bool
) -> str:
    assert sidecar.proxy is not None
    error = await check_stored(db, session_id, now, check, ipv6=ipv6)
    return proxy_texts.intake_note(sidecar.proxy.masked(), error)


class _Batch:
    def __init__(self) -> None:
        self.results: list[IntakeResult | None] = []
        self.sessions: dict[str, list[_Item]] = defaultdict(list)
        self.sidecars: dict[str, list[_Item]] = defaultdict(list)

    def slot(self) -> int:
        self.results.append(None)
        return len(self.results) - 1

    def reject(self, shown: str, reason: str, slot: int | None = None, needs_passcode: bool = False) -> None:
        result = IntakeResult(shown, False, None, reason, needs_passcode=needs_passcode)
        if slot is None:
            self.results.append(result)
        else:
            self.results[slot] = result

    def accept(self, item: _Item, session_id: int, note: str | None = None, waiting: bool = False) -> None:
        self.results[item.slot] = IntakeResult(item.shown, True, session_id, None, note=note, waiting=waiting)

    def add(self, name: str, shown: str, data: bytes) -> None:
        """One file of the upload (or of an archive in it), told by its content (``pool.forms``)."""
        kind = forms.kind_of_content(data)
        stem = stem_of(name)
        if kind is forms.Kind.SQLITE:
            self.sessions[stem].append(_Item(self.slot(), shown, stem, data))
        elif kind_of(name) == "sidecar" and kind in (forms.Kind.STRINGS, forms.Kind.OTHER):
            self.sidecars[stem].append(_Item(self.slot(), shown, stem, data))
        elif kind is forms.Kind.STRINGS:
            try:
                lines = forms.read_strings(shown, data)
            except InvalidUpload as exc:
                lines = [(shown, exc)]
            self.add_found(stem, lines)
        else:
            # Refused as it is, but still its stem's session: a sidecar of that stem is told why.
            why = InvalidUpload(forms.refusal(kind) or texts.UNSUPPORTED_TYPE())
            self.sessions[stem].append(_Item(self.slot(), shown, stem, b"", why))

    def add_found(self, stem: str, found: Sequence[tuple[str, Extracted | InvalidUpload]]) -> None:
        """Sessions one file held, read already (a text file's strings; a tdata zip's accounts): each is
        one result, named ``shown``; a sidecar of ``stem`` pairs only when the file held one."""
        for shown, one in found:
            self.sessions[stem].append(_Item(self.slot(), shown, stem, b"", one, in_file=len(found)))


async def _expand(
    batch: _Batch, files: Sequence[tuple[str, bytes]], max_bytes: int, passcode: str | None
) -> None:
    for name, data in files:
        shown = display_name(name)
        if len(data) > max_bytes:
            batch.reject(shown, texts.file_too_large(len(data), max_bytes))
        elif forms.kind_of_content(data) is forms.Kind.ZIP:
            try:
                # Its tdata folders first: only their few needed files are read (``pool.forms.tdata_zip``),
                # and the members beside them; any other zip is unpacked the ordinary way.
                found = await asyncio.to_thread(
                    forms.tdata_archive, data, passcode, name=name, max_member_bytes=max_bytes
                )
                members = (
                    found.beside if found is not None
                    else await asyncio.to_thread(expand_zip, data, max_member_bytes=max_bytes)
                )
            except InvalidUpload as exc:
                batch.reject(shown, exc.reason)
                continue
            for account in found.accounts if found is not None else []:
                batch.add_found(account.stem, [(display_name(f"{name}/{account.shown}"), account.result)])
            if not members and found is None:  # only folders and macOS metadata (a dotfile is listed)
                batch.reject(shown, texts.ARCHIVE_EMPTY())
            for member in members:
                if member.hidden:
                    batch.reject(display_name(f"{name}/{member.path}"), texts.HIDDEN_SKIPPED())
                    continue
                batch.add(member.path, display_name(f"{name}/{member.path}"), member.data)
        else:
            batch.add(name, shown, data)


async def _read(item: _Item, allow_test_servers: bool) -> Extracted:
    """The session an item holds (a file is read now, in a thread); raises InvalidUpload."""
    if isinstance(item.found, InvalidUpload):
        raise InvalidUpload(item.found.reason)
    found = item.found if item.found is not None else await asyncio.to_thread(read_session_file, item.data)
    if found.test_mode and not allow_test_servers:
        raise InvalidUpload(texts.TEST_SERVER())
    return found


async def _import_session(
    db: Database,
    sessions_dir: Path,
    batch: _Batch,
    item: _Item,
    sidecar_items: list[_Item],
    now: float,
    check: ProxyChecker,
    ipv6: bool,
    allow_test_servers: bool,
) -> None:
    side = sidecar_items[0] if sidecar_items else None
    sidecar = None
    if side is not None:
        try:
            sidecar = parse_sidecar(side.data)
        except InvalidUpload as exc:
            batch.reject(side.shown, exc.reason, side.slot)
            batch.reject(item.shown, texts.sidecar_rejected(side.shown, exc.reason), item.slot)
            return
    try:
        info = await _read(item, allow_test_servers)
        fresh = fresh_image(info, ipv6=ipv6)  # never the upload's bytes: its triggers and address go nowhere
        session_id, waiting, app_note = await _store(db, sessions_dir, fresh, info, sidecar, item.stem, now)
    except _Duplicate as dup:
        batch.reject(item.shown, texts.duplicate(dup.session_id), item.slot)
        if side:
            batch.reject(side.shown, texts.session_duplicate(item.shown), side.slot)
        return
    except Exception as exc:
        # A bad file, or storing it failed (full disk, busy database): this file's result, and the
        # rest of the batch is still tried. Anything else is our bug and propagates.
        reason = exc.reason if isinstance(exc, InvalidUpload) else _not_saved(exc)
        if reason is None:
            raise
        batch.reject(item.shown, reason, item.slot, needs_passcode=isinstance(item.found, forms.PasscodeNeeded))
        if side:
            batch.reject(side.shown, texts.session_rejected(item.shown), side.slot)
        return
    note = None
    if sidecar is not None and sidecar.proxy is not None:
        note = await _proxy_note(db, session_id, sidecar, now, check, ipv6)
    if info.foreign_address:
        note = texts.join_notes(texts.address_ignored(info.address, info.port, info.dc_id), note)
    note = texts.join_notes(app_note, note)
    batch.accept(item, session_id, note, waiting)
    if side:
        batch.accept(side, session_id, note)
    logger.info("session #%d added to the pool (%s; own app: %s, waits for an API pair: %s)", session_id,
                info.form, bool(sidecar and sidecar.has_app), waiting)


async def import_files(
    db: Database,
    sessions_dir: Path,
    files: Sequence[tuple[str, bytes]],
    *,
    max_bytes: int,
    now: float,
    check: ProxyChecker = check_proxy,
    ipv6: bool = False,
    allow_test_servers: bool = False,
    passcode: str | None = None,
) -> list[IntakeResult]:
    """Import uploaded files (name as sent, content); one result per session (per archive entry for zips,
    per line for a text file of session strings, per account for tdata folders). ``check``: how a
    sidecar's proxy is checked (tests pass a local one); ``ipv6``: ``[pool] ipv6``, the address family of
    the DC address written into each stored file; ``allow_test_servers``: ``[pool] allow_test_servers``;
    ``passcode``: a Telegram Desktop local passcode for passcode-locked tdata (used, never kept)."""
    batch = _Batch()
    await _expand(batch, files, max_bytes, passcode)
    for stem, items in batch.sessions.items():
        sidecar_items = batch.sidecars.pop(stem, [])
        if len(sidecar_items) > 1 or (sidecar_items and len(items) > 1):
            one_text = len(sidecar_items) == 1 and len(items) == items[0].in_file > 1
            why = (texts.strings_ambiguous(len(items), stem) if one_text
                   else texts.files_ambiguous(len(items), len(sidecar_items), stem))
            for item in items + sidecar_items:
                batch.reject(item.shown, why, item.slot)
            continue
        for item in items:
            await _import_session(db, sessions_dir, batch, item, sidecar_items, now, check, ipv6, allow_test_servers)
    for stem, sidecar_items in batch.sidecars.items():
        for side in sidecar_items:
            try:
                if len(sidecar_items) > 1:
                    raise InvalidUpload(texts.sidecars_ambiguous(len(sidecar_items), stem))
                sidecar = parse_sidecar(side.data)
                session_id, proxy_added = await _attach(db, sidecar, stem, now)
            except Exception as exc:
                reason = exc.reason if isinstance(exc, InvalidUpload) else _not_saved(exc)
                if reason is None:
                    raise
                batch.reject(side.shown, reason, side.slot)
            else:
                note = await _proxy_note(db, session_id, sidecar, now, check, ipv6) if proxy_added else None
                batch.accept(side, session_id, note)
                logger.info("sidecar attached to session #%d", session_id)
    results = [r for r in batch.results if r is not None]
    assert len(results) == len(batch.results)
    return results
