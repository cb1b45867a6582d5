"""A cancelled upload leaves nothing behind, not even until the next start (review of issue 17, point 7).

The staged file and its pool link are made in a thread (``pool.staging``), which a cancellation cannot
stop. Cancelled while that thread works, intake must wait for it before cleaning up: a clean-up run
first finds nothing yet, and the thread then creates the staged file (or the link) after it."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from pool_support import NOW, files_on_disk

import pool.staging
from pool.intake import import_files
from sandbox.sessionfiles import make_session_bytes
from storage import sessions as session_rows
from storage.db import Database

MAX = 1024 * 1024
pytestmark = pytest.mark.usefixtures("private_tmp")


async def test_an_upload_cancelled_while_its_file_is_staged_leaves_nothing(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real_write, real_discard = pool.staging._write_new, pool.staging.StagedFile.discard

    def slow_write(path: Path, data: bytes) -> None:
        """The staging thread, held before it creates the file (a slow disk)."""
        started.set()
        try:
            release.wait(1.0)  # let go by the clean-up (see below), or after a moment when none comes
            real_write(path, data)
        finally:
            finished.set()

    def discard(self: pool.staging.StagedFile) -> None:
        real_discard(self)
        release.set()  # a clean-up that does not wait for the thread: the thread goes on after it

    monkeypatch.setattr(pool.staging, "_write_new", slow_write)
    monkeypatch.setattr(pool.staging.StagedFile, "discard", discard)
    upload = asyncio.ensure_future(
        import_files(db, sdir, [("a.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    )
    await asyncio.to_thread(started.wait, 60)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    await asyncio.to_thread(finished.wait, 60)  # the staging thread's work is over either way
    assert not os.listdir(sdir / pool.staging.STAGING)
    assert files_on_disk(sdir) == []
    async with db.read() as conn:
        assert await session_rows.list_all(conn) == []
    # the writer is free again: the next upload goes through
    [again] = await import_files(db, sdir, [("b.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    assert again.accepted
