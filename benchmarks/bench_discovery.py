"""Membership discovery's cost: Telegram requests per session per day for reading its dialogs.

    .venv/bin/python -m benchmarks.bench_discovery [--quick] [--dialogs 50 500] [--archived 0] [--sessions 20]
                                                   [--refresh-hours 12]

Each session's dialogs are read (``messages.getDialogs``: every page of the main list, then of the archive
folder) once per refresh: at the default 12 h, twice a day. The figures are counted from real scans, not
computed, in two ways:

  world     ``sessions`` accounts of the strict simulated world, each a member of ``dialogs`` chats (and
            ``archived`` more in its archive folder), each scanned through its port (``World.open`` ->
            ``SimPort.dialogs``) once per refresh over one simulated day; the world's "dialogs" requests
            counted;
  telethon  the product's ``TelethonAccount`` on a real ``TelegramClient`` whose network sender is the
            offline fake (tests/fake_sender.py), Telegram's answers played by tests/fake_dialogs.py (pages
            of at most 100, offsets checked); the ``GetDialogsRequest``s that went out counted, and the
            CPU one scan costs (parsing the pages, filing every chat in the session's entity table).

Telegram answers 100 dialogs a page and Telethon asks until a page comes back short, so a folder of n
dialogs costs n // 100 + 1 requests: 50 dialogs and an empty archive, 2 per scan; 500, 7 (the sixth page
of the main list comes back empty). The two counts must agree; the benchmark fails when they do not.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telethon.sessions import StringSession

from benchmarks.common import emit, header, machine
from core.clock import FakeClock
from core.config import EngineSettings
from core.ports import SessionCredentials
from engine.telethon_adapter import ClientSettings, TelethonAccount, build_client
from sandbox.world import World
from tests.fake_dialogs import DialogsServer, supergroups
from tests.fake_sender import FakeSender

# The engine's refresh setting (issue 15: ``[engine] dialogs_refresh_hours``, default 12 h); the same
# default until this branch's base has it.
DEFAULT_REFRESH_HOURS = float(getattr(EngineSettings(), "dialogs_refresh_hours", 12.0))
T0 = 1_800_000_000.0


def credentials(session_id: int, root: Path) -> SessionCredentials:
    """A session with no file: the world keys it ``session-<id>``; the Telethon rig uses a memory session."""
    return SessionCredentials(session_id, root / f"missing-{session_id}.session", 1, "0" * 32)


async def world_scans(*, sessions: int, dialogs: int, archived: int, scans: int, refresh_s: float) -> int:
    """The world's "dialogs" requests for ``scans`` scans of each session, ``refresh_s`` apart."""
    clock = FakeClock(T0)
    world = World(clock)
    keys = [world.add_account(f"session-{sid}").key for sid in range(1, sessions + 1)]
    for n in range(dialogs + archived):
        chat = world.add_group(None, chat_id=1_000_000 + n, members=set(keys))
        if n >= dialogs:
            chat.archived.update(keys)
    root = Path("/nonexistent-bench-discovery")
    ports = [world.open(credentials(sid, root)) for sid in range(1, sessions + 1)]
    for port in ports:
        await port.connect()
    for _ in range(scans):
        for port in ports:
            found = await port.dialogs()
            if len(found) != dialogs + archived:
                raise RuntimeError(f"a scan found {len(found)} of {dialogs + archived} dialogs")
        await clock.advance(refresh_s)
    return world.request_count(method="dialogs")


async def telethon_scans(*, dialogs: int, archived: int, scans: int) -> tuple[int, float]:
    """GetDialogsRequests one Telethon session sends for ``scans`` scans, and CPU seconds per scan."""
    server = DialogsServer(main=supergroups(dialogs), archive=supergroups(archived, first_id=4_000_000_000))
    fakes: list[FakeSender] = []

    def offline(creds: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(creds, settings, session=StringSession())
        fakes.append(FakeSender.install(client))
        server.install(fakes[-1])
        return client

    account = TelethonAccount(credentials(1, Path("/nonexistent-bench-discovery")), client_builder=offline)
    await account.connect()
    before = len(fakes[0].requests)
    cpu = 0.0
    try:
        for _ in range(scans):
            started = time.process_time()
            found = await account.dialogs()
            cpu += time.process_time() - started
            if len(found) != dialogs + archived:
                raise RuntimeError(f"a Telethon scan found {len(found)} of {dialogs + archived} dialogs")
    finally:
        await account.close()
    sent = fakes[0].requests[before:]
    if any(type(r).__name__ != "GetDialogsRequest" for r in sent):
        raise RuntimeError(f"a scan sent more than getDialogs: {sorted({type(r).__name__ for r in sent})}")
    return len(sent), cpu / scans


async def measure(*, sessions: int, dialogs: int, archived: int, refresh_hours: float) -> dict[str, Any]:
    scans_per_day = 24.0 / refresh_hours
    scans = max(1, round(scans_per_day))
    world_requests = await world_scans(
        sessions=sessions, dialogs=dialogs, archived=archived, scans=scans, refresh_s=refresh_hours * 3600
    )
    telethon_requests, cpu_per_scan = await telethon_scans(dialogs=dialogs, archived=archived, scans=scans)
    world_per_scan = world_requests / (sessions * scans)
    telethon_per_scan = telethon_requests / scans
    if world_per_scan != telethon_per_scan:
        raise RuntimeError(f"the world counts {world_per_scan} requests a scan, Telethon sends {telethon_per_scan}")
    return {
        "dialogs": dialogs,
        "archived": archived,
        "sessions": sessions,
        "refresh_hours": refresh_hours,
        "scans_per_day": scans_per_day,
        "requests_per_scan": world_per_scan,
        "requests_per_session_day": world_per_scan * scans_per_day,
        "telethon_requests_per_scan": telethon_per_scan,
        "telethon_requests_per_session_day": telethon_per_scan * scans_per_day,
        "telethon_cpu_ms_per_scan": cpu_per_scan * 1000,
        "world_requests": world_requests,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 sessions")
    parser.add_argument("--dialogs", type=int, nargs="+", default=[50, 500], help="chats in each main list")
    parser.add_argument("--archived", type=int, default=0, help="chats in each archive folder")
    parser.add_argument("--sessions", type=int, default=None, help="world accounts scanned (default 20)")
    parser.add_argument("--refresh-hours", type=float, default=DEFAULT_REFRESH_HOURS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sessions = args.sessions or (5 if args.quick else 20)

    header(
        f"discovery cost: getDialogs requests per session, refresh every {args.refresh_hours:g} h, "
        f"{args.archived} archived chats, {sessions} world sessions and one Telethon session"
    )
    print(f"{'dialogs':>7} {'req/scan':>8} {'req/day':>8} {'telethon/scan':>13} {'telethon/day':>12} {'cpu ms':>7}")
    results = []
    for dialogs in args.dialogs:
        r = asyncio.run(
            measure(sessions=sessions, dialogs=dialogs, archived=args.archived, refresh_hours=args.refresh_hours)
        )
        results.append(r)
        print(
            f"{dialogs:>7} {r['requests_per_scan']:>8g} {r['requests_per_session_day']:>8g} "
            f"{r['telethon_requests_per_scan']:>13g} {r['telethon_requests_per_session_day']:>12g} "
            f"{r['telethon_cpu_ms_per_scan']:>7.1f}",
            flush=True,
        )
        emit("discovery", r)
    print(
        "(req = messages.getDialogs requests, main list then archive, counted by the world and by the fake "
        "Telethon sender; cpu ms = one Telethon scan, the fake sender's serialising of the pages included; "
        f"load average {machine()['load']})"
    )
    return results


if __name__ == "__main__":
    main()
