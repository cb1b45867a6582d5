"""Folders mirror the database: crashes between a file move and COMMIT, then reconcile at start-up."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pool_support import NOW, add_customer, add_pair, assert_pool_consistent, files_on_disk, seed_sessions

import pool.moves
from pool import lifecycle
from pool.assign import assign, ensure_plan, revoke
from pool.layout import ensure_layout
from pool.reconcile import reconcile
from pool.startup import prepare_pool
from storage import sessions as session_rows
from storage.db import Database

REPO = Path(__file__).resolve().parents[1]


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so no clean-up code runs for it."""


def _crash_after_moves(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    real = pool.moves._rename
    done = 0

    def rename_then_crash(src: Path, dst: Path) -> None:
        nonlocal done
        real(src, dst)
        done += 1
        if done >= after:
            raise SimulatedCrash

    monkeypatch.setattr(pool.moves, "_rename", rename_then_crash)


async def _states(db: Database) -> dict[int, tuple[str, int | None]]:
    async with db.read() as conn:
        return {r.id: (r.state, r.owner_id) for r in await session_rows.list_all(conn)}


async def _pool(db: Database, sdir: Path) -> list[int]:
    ensure_layout(sdir)
    await add_customer(db, 10, plan=3)
    await add_pair(db, 1001)
    return await seed_sessions(db, sdir, 5)


Operation = Callable[[Database, Path], Awaitable[object]]

OPERATIONS: dict[str, Operation] = {
    "assign": lambda db, sdir: assign(db, sdir, 10, 3, NOW),
    "revoke": lambda db, sdir: revoke(db, sdir, 10, NOW),
    "mark_dead": lambda db, sdir: lifecycle.mark_dead(db, sdir, 1, "dead", NOW),
    "mark_limited": lambda db, sdir: lifecycle.mark_limited(db, sdir, 1, "limited", NOW),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
@pytest.mark.parametrize("after", [1, 2])
async def test_crash_between_move_and_commit_then_reconcile(
    db: Database, sdir: Path, monkeypatch: pytest.MonkeyPatch, name: str, after: int
) -> None:
    await _pool(db, sdir)
    if name != "assign":
        await ensure_plan(db, sdir, 10, NOW)  # sessions 1..3 owned, so there is something to move
    before = await _states(db)
    _crash_after_moves(monkeypatch, after)
    with pytest.raises(SimulatedCrash):
        await OPERATIONS[name](db, sdir)
    monkeypatch.undo()
    assert await _states(db) == before  # nothing committed
    report = await reconcile(db, sdir)
    assert report.moved and not report.missing and not report.unknown and not report.conflicts
    await assert_pool_consistent(db, sdir)
    # and the pool works normally afterwards
    await OPERATIONS[name](db, sdir)
    await assert_pool_consistent(db, sdir)


@pytest.mark.process
async def test_real_process_crash_then_reconcile(tmp_path: Path, sdir: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    db = await Database.open(path)
    try:
        await _pool(db, sdir)
    finally:
        await db.close()
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        from pathlib import Path
        import pool.moves
        from pool.assign import assign
        from storage.db import Database

        real = pool.moves._rename

        def rename_then_die(src, dst):
            real(src, dst)
            os._exit(17)  # the process dies right after the first move, before COMMIT

        pool.moves._rename = rename_then_die

        async def main():
            db = await Database.open(Path(sys.argv[1]))
            await assign(db, Path(sys.argv[2]), 10, 3, 1.8e9)

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(sdir)], env=env, cwd=REPO, capture_output=True, timeout=60
    )
    assert done.returncode == 17, done.stderr.decode()
    assert len([f for f, _ in files_on_disk(sdir) if f.startswith("assigned")]) == 1  # moved, never committed
    db = await Database.open(path)
    try:
        assert all(state == ("unused", None) for state in (await _states(db)).values())
        report = await reconcile(db, sdir)
        assert len(report.moved) == 1 and report.moved[0][1:] == ("assigned/10", "unused")
        await assert_pool_consistent(db, sdir)
    finally:
        await db.close()


async def test_failed_move_undoes_the_earlier_ones(db: Database, sdir: Path) -> None:
    ids = await _pool(db, sdir)
    async with db.read() as conn:
        second = await session_rows.get(conn, ids[1])
    assert second is not None
    blocker = sdir / "assigned" / "10" / second.file_name
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"someone else's file")
    with pytest.raises(FileExistsError):
        await assign(db, sdir, 10, 3, NOW)
    assert all(state == ("unused", None) for state in (await _states(db)).values())
    assert blocker.read_bytes() == b"someone else's file"  # never overwritten
    blocker.unlink()
    await assert_pool_consistent(db, sdir)


async def test_reconcile_reports_unknown_and_missing_and_never_deletes(db: Database, sdir: Path) -> None:
    ids = await _pool(db, sdir)
    (sdir / "unused" / "stranger.session").write_bytes(b"x")
    (sdir / "banned" / "notes.txt").write_bytes(b"y")
    async with db.read() as conn:
        gone = await session_rows.get(conn, ids[0])
    assert gone is not None
    (sdir / "unused" / gone.file_name).unlink()
    report = await reconcile(db, sdir)
    assert report.unknown == ["banned/notes.txt", "unused/stranger.session"]
    assert report.missing == [(ids[0], "unused")]
    assert (sdir / "unused" / "stranger.session").exists() and (sdir / "banned" / "notes.txt").exists()
    assert any("stranger.session" in line for line in report.lines())


async def test_reconcile_moves_side_files_and_fixes_modes(db: Database, sdir: Path) -> None:
    ids = await _pool(db, sdir)
    await assign(db, sdir, 10, 1, NOW)
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
    assert row is not None and row.folder == "assigned/10"
    # as if a crash put it back in unused/ with its journal, and someone loosened the permissions
    os.rename(sdir / row.folder / row.file_name, sdir / "unused" / row.file_name)
    (sdir / "unused" / f"{row.file_name}-journal").write_bytes(b"journal")
    (sdir / "unused" / row.file_name).chmod(0o644)
    (sdir / "banned").chmod(0o755)
    report = await reconcile(db, sdir)
    assert (row.file_name, "unused", "assigned/10") in report.moved
    assert (sdir / "assigned" / "10" / f"{row.file_name}-journal").read_bytes() == b"journal"
    assert stat.S_IMODE((sdir / "assigned" / "10" / row.file_name).stat().st_mode) == 0o600
    assert stat.S_IMODE((sdir / "banned").stat().st_mode) == 0o700
    assert report.unknown == []


async def test_moves_take_the_journal_along(db: Database, sdir: Path) -> None:
    ids = await _pool(db, sdir)
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
    assert row is not None
    (sdir / "unused" / f"{row.file_name}-journal").write_bytes(b"j")
    await assign(db, sdir, 10, 1, NOW)
    assert (sdir / "assigned" / "10" / f"{row.file_name}-journal").exists()
    assert not (sdir / "unused" / f"{row.file_name}-journal").exists()


async def test_reconcile_leaves_a_file_found_twice_alone(db: Database, sdir: Path) -> None:
    ids = await _pool(db, sdir)
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
    assert row is not None
    (sdir / "banned").mkdir(exist_ok=True)
    (sdir / "banned" / row.file_name).write_bytes((sdir / "unused" / row.file_name).read_bytes())
    report = await reconcile(db, sdir)
    assert [sid for sid, _ in report.conflicts] == [ids[0]]
    assert (sdir / "banned" / row.file_name).exists() and (sdir / "unused" / row.file_name).exists()


async def test_prepare_pool_on_a_fresh_directory(db: Database, sdir: Path) -> None:
    await add_pair(db, 1001, capacity=3)
    report = await prepare_pool(db, sdir, max_sessions_per_pair=7)
    assert report.clean
    for name in ("", "unused", "assigned", "limited", "banned"):
        assert stat.S_IMODE((sdir / name).stat().st_mode) == 0o700
    async with db.read() as conn:
        from storage import pairs as pair_rows

        assert [p.capacity for p in await pair_rows.list_all(conn)] == [7]


async def test_reconcile_and_start_up_report_a_session_file_in_a_sub_folder_and_go_on(
    db: Database, sdir: Path
) -> None:
    """Issue 17 point 7: a row's file inside a sub-folder (and foreign files and folders) crashed
    reconcile with "not a session folder"; now they are reported as odd, never moved, and the rest goes on."""
    ids = await _pool(db, sdir)
    async with db.read() as conn:
        row = await session_rows.get(conn, ids[0])
    assert row is not None
    (sdir / "unused" / "sub").mkdir()
    os.rename(sdir / "unused" / row.file_name, sdir / "unused" / "sub" / row.file_name)
    (sdir / "unused" / "sub" / f"{row.file_name}-journal").write_bytes(b"j")
    (sdir / "foreign").mkdir()
    (sdir / "foreign" / "notes.txt").write_bytes(b"n")
    (sdir / "stray.session").write_bytes(b"s")
    report = await reconcile(db, sdir)
    assert report.missing == [(ids[0], "unused")]
    assert report.unknown == sorted(
        [
            "foreign/notes.txt",
            "stray.session",
            f"unused/sub/{row.file_name}",
            f"unused/sub/{row.file_name}-journal",
        ]
    )
    assert (sdir / "unused" / "sub" / row.file_name).exists()
    assert any(f"unused/sub/{row.file_name}" in line for line in report.lines())
    start = await prepare_pool(db, sdir, max_sessions_per_pair=7)
    assert not start.clean
