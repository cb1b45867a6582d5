"""Session files an older version stored as uploaded: rewritten fresh, once, at start-up.

Before issue 17 intake stored the uploaded bytes themselves, so a stored file can still carry SQLite
triggers (which Telethon's own ``UPDATE``/``INSERT`` on every save would run: freeze the loop, fail
every connect, rewrite the server address), views or extra tables. ``pool.reconcile`` (every start and
``adbot pool reconcile``) calls ``sanitize`` for every session file found where its row says: each is
opened read-only without running anything of its own (``storage.sessionfile.foreign_objects``: one read
of ``sqlite_master``, cheap for 10,000 files), and one that carries any object a file we write lacks
is rewritten from its DC id and auth key with the DC table's address (``fresh_image``), exactly as
intake writes a new one: the test DC table for a test-server session (its row's ``test_mode``: the file's
own address is never trusted for that). Telethon's ``entities`` cache is lost by that; the access hashes
the engine needs live in our ``memberships`` table.

The rewrite is atomic: the new bytes go to ``<name>.tmp`` beside the file (0600, fsync), the old file's
SQLite side files are removed (a stale journal must never be "rolled back" onto the new file), then
``os.replace`` and an fsync of the folder. A crash before the replace leaves the old file as it was
(rewritten at the next start); a ``.tmp`` found beside a row's file is that leftover and is removed.
Whatever is at ``<name>.tmp`` when a rewrite starts is unlinked first and the new one is created with
``O_EXCL | O_NOFOLLOW``: a symlink planted there is removed, never followed (following it would truncate
and fill its target, and the replace would leave the session's file a symlink). Only one adbot runs per
data dir (``storage.instance_lock``), so no live client has a file open while it is replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core import dcs
from core.errors import InvalidUpload
from core.private_files import fsync_dir, write_private_file
from core.session_forms import Extracted, Form
from core.texts import intake as texts
from pool.layout import SIDE_SUFFIXES
from storage.sessionfile import foreign_objects, fresh_image, validate_session
from storage.sessions import Placement

logger = logging.getLogger(__name__)

TMP_SUFFIX = ".tmp"


@dataclass
class SanitizeReport:
    rewritten: list[tuple[int, list[str]]] = field(default_factory=list)  # (session id, kinds it carried)
    unreadable: list[int] = field(default_factory=list)  # session ids whose file could not be read: left as is
    leftovers: list[str] = field(default_factory=list)  # '<folder>/<name>.tmp' of an interrupted rewrite, removed


def sanitize(root: Path, files: Iterable[Placement], report: SanitizeReport, *, ipv6: bool = False) -> None:
    """Check each session's file under ``root``; rewrite those carrying objects Telethon's schema lacks;
    what was done goes into ``report``. Blocking (start-up). ``ipv6``: ``[pool] ipv6``, the family of the
    DC address written."""
    for session_id, name, folder, test_mode in files:
        path = root / folder / name
        kinds = foreign_objects(path)
        if kinds is None:
            report.unreadable.append(session_id)
            logger.warning("session #%d: its file could not be read to check it; left as is", session_id)
            continue
        if not kinds:
            continue
        try:
            _rewrite(path, ipv6=ipv6, test=test_mode)
        except InvalidUpload as exc:
            report.unreadable.append(session_id)
            logger.warning("session #%d: its file carries %s but is no longer valid (%s); left as is",
                           session_id, ", ".join(kinds), exc.reason)
            continue
        report.rewritten.append((session_id, kinds))
        logger.warning("session #%d: its file carried %s; rewritten fresh", session_id, ", ".join(kinds))


def remove_leftover(root: Path, rel: str) -> None:
    """Remove ``<folder>/<name>.tmp``, an interrupted rewrite of a row's file (the file is intact)."""
    (root / rel).unlink(missing_ok=True)


def _rewrite(path: Path, *, ipv6: bool, test: bool) -> None:
    info = validate_session(path.read_bytes())  # in memory, every intake check; nothing of it runs
    if test and info.dc_id not in dcs.TEST_DC_IDS:
        raise InvalidUpload(texts.BAD_TEST_DC_ID())
    keep = Extracted(form=Form.TELETHON_FILE, dc_id=info.dc_id, auth_key=info.auth_key, test_mode=test)
    data = fresh_image(keep, ipv6=ipv6)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.unlink(missing_ok=True)  # a crashed attempt's leftover, or a planted symlink: removed, never followed
    write_private_file(tmp, data)
    for suffix in SIDE_SUFFIXES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    fsync_dir(path.parent)
