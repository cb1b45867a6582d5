"""Reliability, database busy: while another process holds the database's write lock (the CLI, a backup
tool), the bot keeps answering. Reads answer normally (WAL readers are never blocked by a writer); a
command that has to write answers "try again" (``StorageBusy``) within the busy timeout instead of
hanging or failing, changes nothing, and works again once the lock is gone. Inside the process, a long
write holds only the other writers: reads answer meanwhile, the queued write completes afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from botkit import ADMIN_ID, Harness, Player, bot_harness

from core.texts import customer as t
from core.texts import errors as error_texts

ALICE, BOB = 1001, 1002
BUSY_TIMEOUT_MS = 100  # the app's default is 5 s: the same path, without the wait


@contextmanager
def write_lock_held_elsewhere(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection (as another process would) holds BEGIN IMMEDIATE until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def add_plan_granted_event(path: Path, customer_id: int, now: float) -> None:
    """A notification committed by another process (autocommit, its own connection)."""
    payload = {"sessions": 1, "days": 30, "expires_at": now + 30 * 86_400, "extended": True}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO events (customer_id, kind, payload, created_at) VALUES (?, 'plan_granted', ?, ?)",
            (customer_id, json.dumps(payload), now),
        )
    finally:
        conn.close()


async def answered(player: Player, text: str) -> str:
    reply = await player.ask(text)
    assert reply.text not in (error_texts.GENERIC_ERROR(), error_texts.TRY_AGAIN()), (text, reply.text)
    return reply.text


async def told_to_try_again(player: Player, text: str) -> None:
    reply = await player.ask(text)
    assert reply.text == error_texts.TRY_AGAIN(), (text, reply.text)


async def alive(h: Harness) -> None:
    await h.idle()
    assert h.app.polling_task is not None and not h.app.polling_task.done()


async def test_reads_answer_and_writes_say_try_again_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice, admin = h.user(ALICE, "Alice"), h.user(ADMIN_ID, "Admin")
        await alice.ask("/post https://t.me/adschannel/5")
        await alice.ask("/addgroups @cats")
        await h.add_pair(2040)
        await h.db.writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        menu = await alice.ask("/interval")
        preset = next(label for row in menu.buttons for label in row if label == t.btn_interval(30))
        before = await h.snapshot()
        tried = 0

        # A notification committed just before the lock (no await in between, so the outbox cannot run
        # first): the outbox sends it, cannot mark it delivered, and must neither die nor send it twice.
        add_plan_granted_event(h.settings.db_path, ALICE, h.clock.now())
        with write_lock_held_elsewhere(h.settings.db_path):
            h.app.outbox.wake()
            told = await alice.user.wait_reply()
            assert "extended" in told.text, told.text

            for text, expect in (
                ("/status", "Campaign"),
                ("/start", "Hello, Alice"),
                ("/groups", "@cats"),
                ("/stats", ""),
                ("/logs", ""),
                ("/help", "/interval"),
            ):
                assert expect in await answered(alice, text)
                tried += 1
            for text in ("/pool", "/pairs", "/customers", "/health", "/defaultgroups"):
                await answered(admin, text)
                tried += 1

            for text in (
                "/interval 20",
                "/addgroups @dogs",
                "/delgroup @cats",
                "/post https://t.me/adschannel/6",
                "/post a new text",
                "/run",
            ):
                await told_to_try_again(alice, text)
                tried += 1
            for text in (f"/grant {BOB} 1 30", f"/revoke {ALICE}", f"/addpair 5555 {'b' * 32}", "/delpair 2040",
                         "/adddefaultgroups @dogs"):
                await told_to_try_again(admin, text)
                tried += 1
            answer = await alice.press_answer(preset)
            assert answer.text == error_texts.TRY_AGAIN()
            tried += 1
            await alive(h)
            assert (await h.snapshot())["customers"] == before["customers"]
            assert (await h.snapshot())["groups"] == before["groups"]

        # The lock is gone: the same writes go through, and the notification was sent once.
        assert "every 20 min" in await answered(alice, "/interval 20")
        assert "Added 1 group" in await answered(alice, "/addgroups @dogs")
        assert "Plan created" in await answered(admin, f"/grant {BOB} 1 30")
        await h.deliver()
        await alive(h)
        assert (await h.customer(ALICE)).interval_s == 20 * 60
        sent = [m for m in h.emu.messages(ALICE) if m.from_bot and "extended" in m.text]
        assert len(sent) == 1
        assert not await h.rows("SELECT id FROM events WHERE delivered_at IS NULL AND customer_id = ?", (ALICE,))
    print(f"database busy: {tried} commands and button presses answered while locked")


async def test_a_long_write_in_the_process_does_not_hold_up_reads(tmp_path: Path) -> None:
    async with bot_harness(tmp_path) as h:
        await h.grant(ALICE)
        alice = h.user(ALICE, "Alice")
        held, release = asyncio.Event(), asyncio.Event()

        async def long_write() -> None:
            async with h.db.tx():
                held.set()
                await release.wait()

        holder = asyncio.create_task(long_write())
        try:
            await held.wait()
            await alice.user.say("/interval 25")  # queued behind the long write
            status = await alice.ask("/status")  # answered meanwhile
            assert "Campaign" in status.text and "every 25 min" not in status.text
            assert (await h.customer(ALICE)).interval_s != 25 * 60
        finally:
            release.set()
            await holder
        done = await alice.user.wait_reply()
        assert "every 25 min" in done.text
        assert (await h.customer(ALICE)).interval_s == 25 * 60
        await alive(h)
