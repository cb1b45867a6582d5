"""/export's file (``control_bot.services.export``): every attempt of the period exactly once, in time order,
across pages (keyset pagination, rows sharing a time included); the customer's own rows only; 0600 files
in a 0700 folder; compressed with gzip past the document limit, refused past it even compressed."""

from __future__ import annotations

import csv
import gzip
import io
import stat
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from control_bot.services import export
from core.periods import Period
from core.states import SendOutcome
from storage import customers, ledger
from storage.db import Database
from storage.export import ExportRow, export_page
from tests.engine_support import CID as ENGINE_CID
from tests.engine_support import make_setup

CID = 5151
OTHER = 5252
NOW = 1_800_000_000.0
UTC_ZONE = ZoneInfo("UTC")


async def _fill(db: Database, rows: list[tuple[int, int, str, str, float, int | None]]) -> None:
    """(customer, cycle, group, outcome, finished_at, message id) ledger rows, session #3."""
    async with db.tx() as conn:
        for cid in (CID, OTHER):
            await customers.grant(conn, cid, 1, 400, NOW - 86_400 * 100, 300)
        await conn.executemany(
            "INSERT INTO sends (customer_id, cycle_no, group_ref, session_id, outcome, message_id, random_id,"
            " started_at, finished_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            [(c, n, g, o, m, n * 1000 + i, t - 1, t) for i, (c, n, g, o, t, m) in enumerate(rows)],
        )


def _read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


async def test_every_attempt_once_in_time_order_across_pages(db: Database, tmp_path: Path) -> None:
    rows: list[tuple[int, int, str, str, float, int | None]] = []
    outcomes = ["sent", "failed", "in_doubt", "waiting", "skipped", "sent", "sent"]
    for cycle in range(1, 8):
        for g in range(3):  # three groups finish at the very same time: the keyset must not lose one
            outcome = outcomes[(cycle + g) % len(outcomes)]
            rows.append((CID, cycle, f"@g{g}", outcome, NOW - 86_400 * 2 + cycle * 60, cycle * 10 + g))
    rows.append((CID, 99, "@g0", "sent", NOW - 86_400 * 60, 5))  # outside 30 days
    rows.append((CID, 100, "-1001234567890", "sent", NOW - 30, 77))  # a private group: no link
    rows.append((OTHER, 1, "@g0", "sent", NOW - 10, 9))  # another customer's
    await _fill(db, rows)
    made = await export.export_csv(db, CID, Period.MONTH, NOW, UTC_ZONE, tmp_path / "exports", page_rows=2)
    assert made.path is not None and not made.compressed
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "exports").stat().st_mode) == 0o700
    got = _read(made.path)
    mine = sorted((r for r in rows if r[0] == CID and r[4] >= NOW - 86_400 * 29 - 86_400), key=lambda r: r[4])
    assert made.rows == len(got) == len(mine) == 22
    assert list(got[0]) == list(export.HEADER)
    assert [r["time_utc"] for r in got] == sorted(r["time_utc"] for r in got)
    assert sorted((r["group"], r["time_utc"]) for r in got) == sorted(
        (g, _iso(t)) for _c, _n, g, _o, t, _m in mine)
    delivered = [r for r in got if r["outcome"] == "delivered"]
    assert made.delivered == len(delivered) == sum(1 for r in mine if r[3] == "sent")
    assert {r["message_link"] for r in delivered} == {
        f"https://t.me/{g[1:]}/{m}" for _c, _n, g, o, _t, m in mine if o == "sent" and g.startswith("@")} | {""}
    assert all(r["message_link"] == "" for r in got if r["outcome"] != "delivered")
    assert {r["outcome"] for r in got} == {"delivered", "failed", "in_doubt", "waiting", "skipped"}
    made.remove()
    assert list((tmp_path / "exports").iterdir()) == []


def _iso(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


async def test_a_file_over_the_limit_is_compressed_and_one_too_large_even_so_refused(
    db: Database, tmp_path: Path
) -> None:
    rows: list[tuple[int, int, str, str, float, int | None]] = [
        (CID, n, f"@group_number_{n % 50}", "sent", NOW - 3600 + n, n) for n in range(1, 3001)
    ]
    await _fill(db, rows)
    plain = await export.export_csv(db, CID, Period.TODAY, NOW, UTC_ZONE, tmp_path / "x")
    assert plain.path is not None and not plain.compressed
    size = plain.size
    expected = _read(plain.path)
    plain.remove()
    limit = size // 2 + 64 * 1024  # the margin for the upload's form fields is kept free
    packed = await export.export_csv(db, CID, Period.TODAY, NOW, UTC_ZONE, tmp_path / "x", max_bytes=limit)
    assert packed.path is not None and packed.compressed and packed.path.name.endswith(".csv.gz")
    assert stat.S_IMODE(packed.path.stat().st_mode) == 0o600
    assert _read(packed.path) == expected and packed.rows == 3000 and packed.delivered == 3000
    packed.remove()
    refused = await export.export_csv(db, CID, Period.TODAY, NOW, UTC_ZONE, tmp_path / "x", max_bytes=64 * 1024 + 10)
    assert refused.path is None and refused.too_large
    assert list((tmp_path / "x").iterdir()) == []  # nothing left behind


async def test_nothing_to_export_leaves_no_file(db: Database, tmp_path: Path) -> None:
    await _fill(db, [(OTHER, 1, "@g0", "sent", NOW - 10, 9)])
    made = await export.export_csv(db, CID, Period.ALL, NOW, UTC_ZONE, tmp_path / "x")
    assert made.path is None and made.rows == 0 and not made.too_large
    assert list((tmp_path / "x").iterdir()) == []


async def test_a_flood_waited_send_taken_up_again_is_exported_once_never_as_pending(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 'waiting' row taken up again is in flight: not exported (no outcome 'pending') until its result,
    then exactly once; one that ends while the file is written (past the moment asked) is not met twice."""
    s = await make_setup(db, tmp_path / "setup", groups=["@g1", "@g2"])
    sid, cid, t = s.session_ids[0], ENGINE_CID, NOW - 3_600

    def intent(group: str, at: float) -> ledger.Intent:
        return ledger.Intent(cid, 1, group, sid, 42 if group == "@g1" else 43, at, None)

    def result(group: str, outcome: SendOutcome, at: float, message_id: int | None = None) -> ledger.Result:
        return ledger.Result(cid, 1, group, sid, outcome, 42 if group == "@g1" else 43, at, error=None,
                             message_id=message_id)

    async with db.tx() as conn:
        await ledger.insert_intents(conn, [intent("@g1", t)])
        await ledger.apply_results(conn, [result("@g1", "waiting", t + 1)])
        assert await ledger.insert_intents(conn, [intent("@g1", t + 60)]) == [True]  # the wait ended
    async with db.read() as conn:
        assert await export_page(conn, cid, 0.0, float("inf"), None, 100) == []
    made = await export.export_csv(db, cid, Period.ALL, NOW, UTC_ZONE, tmp_path / "x")
    assert made.path is None and made.rows == 0  # nothing ended: nothing to export
    async with db.tx() as conn:
        await ledger.apply_results(conn, [result("@g1", "sent", t + 90, 7)])
    made = await export.export_csv(db, cid, Period.ALL, NOW, UTC_ZONE, tmp_path / "x")
    assert made.path is not None
    assert [(r["group"], r["outcome"]) for r in _read(made.path)] == [("@g1", "delivered")]
    made.remove()

    # cycle 2: @g1 waits, @g2 is delivered; @g1 is taken up again and delivered while the file is written
    async with db.tx() as conn:
        await ledger.insert_intents(conn, [ledger.Intent(cid, 2, "@g1", sid, 44, t + 100, None)])
        await ledger.apply_results(conn, [ledger.Result(cid, 2, "@g1", sid, "waiting", 44, t + 101)])
        await ledger.insert_intents(conn, [ledger.Intent(cid, 2, "@g2", sid, 45, t + 100, None)])
        await ledger.apply_results(conn, [ledger.Result(cid, 2, "@g2", sid, "sent", 45, t + 102, message_id=8)])
    pages = 0
    real_page = export.export_page

    async def page_then_finish(*args: Any, **kwargs: Any) -> list[ExportRow]:
        nonlocal pages
        got = await real_page(*args, **kwargs)
        pages += 1
        if pages == 2:  # cycle 2's waiting row was just read: it is retaken and delivered now
            async with db.tx() as conn:
                assert await ledger.insert_intents(conn, [ledger.Intent(cid, 2, "@g1", sid, 44, NOW + 5, None)])
                await ledger.apply_results(conn, [ledger.Result(cid, 2, "@g1", sid, "sent", 44, NOW + 6,
                                                                message_id=9)])
        return got

    monkeypatch.setattr(export, "export_page", page_then_finish)
    made = await export.export_csv(db, cid, Period.ALL, NOW, UTC_ZONE, tmp_path / "x", page_rows=1)
    assert made.path is not None
    got = [(r["group"], r["outcome"]) for r in _read(made.path)]
    assert got == [("@g1", "delivered"), ("@g1", "waiting"), ("@g2", "delivered")]  # each row once
    made.remove()
