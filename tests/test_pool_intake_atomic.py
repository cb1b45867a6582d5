"""Uploads are atomic (issue 17 point 5): a full disk is one file's result, and a crash at any step of
storing a file leaves nothing that start-up does not settle (``pool.staging``)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from pool_support import NOW, assert_pool_consistent, files_on_disk

import pool.intake
import pool.staging
from core.errors import StorageBusy
from core.texts import admin as admin_texts
from core.texts import intake as texts
from pool.intake import import_files
from pool.reconcile import reconcile
from sandbox.sessionfiles import make_session_bytes, make_sidecar
from storage import sessions as session_rows
from storage.db import Database

MAX = 1024 * 1024
pytestmark = pytest.mark.usefixtures("private_tmp")


class SimulatedCrash(BaseException):
    """Stands for the process dying (SIGKILL): not an Exception, and no clean-up runs for it."""


async def _rows(db: Database) -> list[session_rows.SessionRow]:
    async with db.read() as conn:
        return await session_rows.list_all(conn)


def _fail_nth_write(monkeypatch: pytest.MonkeyPatch, nth: int, code: int) -> list[int]:
    """The staging writer writes half of the ``nth`` file's bytes, then fails with ``code`` (as a disk
    filling up mid-file does); returns the sizes of the calls seen (one call per file of this size)."""
    real = os.write
    calls: list[int] = []

    def write(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        if len(calls) == nth:
            real(fd, bytes(data[: len(data) // 2]))
            raise OSError(code, os.strerror(code))
        return real(fd, data)

    monkeypatch.setattr(pool.staging, "_write", write)
    return calls


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
async def test_disk_full_on_the_second_of_three_files(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch, private_tmp: Path, code: int
) -> None:
    calls = _fail_nth_write(monkeypatch, 2, code)
    files = [(f"f{i}.session", make_session_bytes()) for i in range(3)]
    results = await import_files(db, sdir, files, max_bytes=MAX, now=NOW)
    assert len(calls) == 3  # the third file was still written after the failure
    assert [r.accepted for r in results] == [True, False, True]
    assert results[1].reason == texts.DISK_FULL()
    assert "disk is full" in texts.DISK_FULL() and "not added" in texts.DISK_FULL()
    rows = await _rows(db)
    assert sorted(r.id for r in rows) == sorted(r.session_id for r in results if r.accepted)
    assert sorted(r.source_name or "" for r in rows) == ["f0", "f2"]
    assert sorted(files_on_disk(sdir)) == sorted(("unused", r.file_name) for r in rows)
    assert not os.listdir(sdir / pool.staging.STAGING)
    assert not os.listdir(private_tmp)
    await assert_pool_consistent(db, sdir)


async def test_other_write_error_is_could_not_be_saved_and_the_sidecar_follows(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_nth_write(monkeypatch, 1, errno.EIO)
    side = make_sidecar(api_id=777001)
    files = [("a.session", make_session_bytes()), ("a.json", json.dumps(side).encode()),
             ("b.session", make_session_bytes())]
    results = {r.filename: r for r in await import_files(db, sdir, files, max_bytes=MAX, now=NOW)}
    assert results["a.session"].reason == texts.not_saved(os.strerror(errno.EIO))
    assert "could not be saved" in (results["a.session"].reason or "")
    assert results["a.json"].reason == texts.session_rejected("a.session")
    assert results["b.session"].accepted
    assert [r.source_name for r in await _rows(db)] == ["b"]
    await assert_pool_consistent(db, sdir)


async def test_busy_database_is_one_files_result(db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pool.intake.identity.for_new_session
    seen = 0

    async def busy_once(*args: object, **kwargs: object) -> object:
        nonlocal seen
        seen += 1
        if seen == 1:
            raise StorageBusy
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pool.intake.identity, "for_new_session", busy_once)
    files = [("a.session", make_session_bytes()), ("b.session", make_session_bytes())]
    results = await import_files(db, sdir, files, max_bytes=MAX, now=NOW)
    assert [(r.accepted, r.reason) for r in results] == [(False, texts.DATABASE_BUSY()), (True, None)]
    assert [r.source_name for r in await _rows(db)] == ["b"]
    await assert_pool_consistent(db, sdir)


def _crash_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """The process dies right after ``step`` of the protocol (see pool.staging): nothing cleans up."""
    cls = pool.staging.StagedFile
    monkeypatch.setattr(cls, "discard", lambda self: None)
    real = {"write": cls.write, "link": cls.link, "finish": cls.finish}
    if step == "partial":
        def partial(self: pool.staging.StagedFile, data: bytes) -> None:
            self.staged.write_bytes(data[: len(data) // 3])
            raise SimulatedCrash
        monkeypatch.setattr(cls, "write", partial)
        return
    if step == "committed":
        def crash_finish(self: pool.staging.StagedFile) -> None:
            raise SimulatedCrash
        monkeypatch.setattr(cls, "finish", crash_finish)
        return

    def crash_after(self: pool.staging.StagedFile, *args: bytes) -> None:
        real[step](self, *args)
        raise SimulatedCrash
    monkeypatch.setattr(cls, step, crash_after)


@pytest.mark.parametrize(
    ("step", "completed"),
    [("partial", False), ("write", False), ("link", False), ("committed", True)],
)
async def test_startup_settles_a_crash_at_every_step(
    tmp_path: Path, sdir: Path, monkeypatch: pytest.MonkeyPatch, step: str, completed: bool
) -> None:
    path = tmp_path / "data" / "adbot.sqlite3"
    db = await Database.open(path)
    try:
        ok = await import_files(db, sdir, [("ok.session", make_session_bytes())], max_bytes=MAX, now=NOW)
        assert ok[0].accepted
        with monkeypatch.context() as patch:
            _crash_at(patch, step)
            with pytest.raises(SimulatedCrash):
                await import_files(db, sdir, [("x.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    finally:
        await db.close()
    staged = os.listdir(sdir / pool.staging.STAGING)
    assert len(staged) == 1  # the crash left its staged file
    db = await Database.open(path)  # the restart
    try:
        report = await reconcile(db, sdir)
        rows = await _rows(db)
        assert [r.source_name for r in rows] == (["ok", "x"] if completed else ["ok"])
        assert (report.staged_completed, report.staged_removed) == ((1, 0) if completed else (0, 1))
        assert report.unknown == [] and report.missing == []
        assert admin_texts.interrupted_uploads(report.staged_completed, report.staged_removed) in report.lines()
        assert not os.listdir(sdir / pool.staging.STAGING)
        assert (sdir / "unused" / staged[0]).exists() == completed
        await assert_pool_consistent(db, sdir)
    finally:
        await db.close()


async def test_startup_completes_a_committed_row_whose_file_is_only_staged(db: Database, sdir: Path) -> None:
    [result] = await import_files(db, sdir, [("a.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    [row] = await _rows(db)
    assert result.session_id == row.id
    (sdir / "unused" / row.file_name).rename(sdir / pool.staging.STAGING / row.file_name)
    report = await reconcile(db, sdir)
    assert (report.staged_completed, report.staged_removed, report.missing) == (1, 0, [])
    assert (sdir / "unused" / row.file_name).is_file()
    assert not os.listdir(sdir / pool.staging.STAGING)
    await assert_pool_consistent(db, sdir)


async def test_startup_removes_a_staged_file_without_row_and_its_uncommitted_link(db: Database, sdir: Path) -> None:
    await import_files(db, sdir, [("a.session", make_session_bytes())], max_bytes=MAX, now=NOW)
    staged = sdir / pool.staging.STAGING / "s00112233deadbeef.session"
    staged.write_bytes(make_session_bytes())
    os.link(staged, sdir / "unused" / staged.name)
    foreign = sdir / "unused" / "someone-elses.session"  # not the staged file: reported, never deleted
    foreign.write_bytes(b"x")
    (sdir / pool.staging.STAGING / "sub").mkdir()  # nothing intake makes: reported, left alone
    report = await reconcile(db, sdir)
    assert (report.staged_completed, report.staged_removed) == (0, 1)
    assert not (sdir / "unused" / staged.name).exists()
    assert os.listdir(sdir / pool.staging.STAGING) == ["sub"]
    assert report.unknown == ["staging/sub/", "unused/someone-elses.session"]
    assert foreign.exists()
