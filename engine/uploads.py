"""A media post's upload, apart from its sends: ``AccountPort.prepare_media`` before the first send of a
session, outside any send's intent and ``send_timeout``.

Why apart: a send without an answer after ``send_timeout`` is 'in doubt' and never retried in its cycle
(at most one post per campaign, cycle and group). A first send of a 20 MB video, or of an album of ten
large files, through a slow proxy takes minutes of uploading: inside the send, every group would time out
'in doubt' though nothing was sent. So a session's worker uploads the post's files first (``prepare``),
under a timeout of its own scaled to their size (``upload_timeout``: ``send_timeout`` plus
``[engine] upload_timeout_per_mb`` per MB, at most ``upload_timeout_max``), and only then records a send's
intent and sends, naming the uploaded files (a request as quick as a text).

What an upload can come to (the worker's ``_prepared``): done (the account remembers it for this post's
files, ``Account.prepared``); a flood wait on an upload method, held as the session's 'upload' class
(``core.waits``) like any other wait, recorded by ``Accounts.guarded`` (no send is attempted, no group is
in doubt: they wait for it or are left 'waiting'); a timeout (``UploadTimeout``: nothing was sent, the
session's groups are left 'skipped' with ``upload_timeout`` and tried again next cycle, the files already
uploaded kept); a network failure (retried like any request before a send); a file gone from the disk
(MEDIA_EMPTY: the post is invalid, the campaign stops).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.clock import DeadlineExceeded, wait_with_timeout
from core.config import EngineSettings
from core.ports import MediaItem
from engine.accounts import Account, Accounts

__all__ = ["MB", "UploadTimeout", "is_prepared", "prepare", "upload_timeout"]

MB = 1024 * 1024


class UploadTimeout(Exception):
    """The post's files were not uploaded within ``upload_timeout``: nothing was sent. Not a TimeoutError
    (TRANSIENT, retried at once): the same upload through the same link would time out again; its groups
    are tried again next cycle, the files already uploaded kept."""


def upload_timeout(config: EngineSettings, items: Sequence[MediaItem]) -> float:
    """How long uploading ``items`` may take: ``send_timeout`` plus ``upload_timeout_per_mb`` per MB of
    them, at most ``upload_timeout_max`` (and never less than ``send_timeout``)."""
    megabytes = sum(max(0, item.size) for item in items) / MB
    scaled = config.send_timeout + config.upload_timeout_per_mb * megabytes
    return max(config.send_timeout, min(scaled, config.upload_timeout_max))


def is_prepared(account: Account, items: Sequence[MediaItem]) -> bool:
    """Whether this account (this connection of the session) uploaded every file of ``items`` already."""
    return all(item.sha256 in account.prepared for item in items)


async def prepare(accounts: Accounts, account: Account, items: Sequence[MediaItem], config: EngineSettings) -> int:
    """Upload the files of ``items`` the session has not uploaded (class 'upload': inside its wait
    ``WaitPending`` is raised and nothing is sent; a FloodWait met is recorded as the class's wait and
    raised); returns how many files went up. Raises ``UploadTimeout`` past ``upload_timeout``."""
    seconds = upload_timeout(config, items)
    try:
        made = await accounts.guarded(
            account.session_id, "upload",
            lambda: wait_with_timeout(accounts.clock, account.port.prepare_media(items), seconds),
        )
    except DeadlineExceeded:
        raise UploadTimeout(f"uploading {len(items)} file(s) took more than {seconds:.0f} s") from None
    account.prepared.update(item.sha256 for item in items)
    return made
