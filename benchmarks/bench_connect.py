"""What one connection costs in Telegram requests, and how a restart's connects are spread (issue 22).

    .venv/bin/python -m benchmarks.bench_connect [--sessions N] [--restart-sessions M] [--rate R]

Part 1, requests per connection: ``N`` real ``TelegramClient`` objects whose network sender is the
offline contract fake (``tests/fake_sender.py``: Telethon's own request building, wrapping and answer
parsing run; only the socket is replaced), each connected through

* Telethon's plain ``connect()`` with ``receive_updates=False`` plus the ``users.getUsers`` check adbot made
  before issue 22 (``before``);
* ``engine.telethon_adapter`` at a session's first connect in its life, as the engine's ``Accounts`` (and
  the pool's dialogs read) make it: its app config is due and read, so its self user is not asked
  (``UNKNOWN_SELF``: at most one request besides the init per connection);
* its next connect (the app config read within the day): one ``users.getUsers`` of itself, stored;
* every connect after that (a restart, an idle close and reopen): the self user stored, the app config
  read within the day; and once the daily check is due again.

Part 2, a restart: ``M`` sessions asking to connect at the same moment through ``core.connect_rate`` at
``R`` per second on the real clock: connections opened in the busiest second, and the time until the last.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from telethon import TelegramClient, functions, types
from telethon.sessions import StringSession

from benchmarks.common import emit, header, machine
from core.clock import SystemClock
from core.connect_rate import ConnectRate
from core.ports import UNKNOWN_SELF, AccountInfo, SessionCredentials
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from tests.fake_sender import FakeSender


def _creds(session_id: int, known: AccountInfo | None) -> SessionCredentials:
    return SessionCredentials(session_id, Path(f"/nonexistent/{session_id}.session"), 1, "0" * 32, self_user=known)


async def _before(n: int) -> Counter[str]:
    """Telethon's own connect (receive_updates=False) and adbot's old getUsers check after it."""
    seen: Counter[str] = Counter()
    for _ in range(n):
        client = TelegramClient(StringSession(), 1, "0" * 32, receive_updates=False)
        fake = FakeSender.install(client)
        await client.connect()
        await client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        seen.update(type(r).__name__ for r in fake.requests)
        await client.disconnect()
    return seen


async def _after(n: int, known: AccountInfo | None, app_config: bool) -> Counter[str]:
    seen: Counter[str] = Counter()
    fakes: list[FakeSender] = []

    def build(credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(credentials, settings, session=StringSession())
        fakes.append(FakeSender.install(client))
        return client

    factory = TelethonFactory(client_builder=build)
    for sid in range(1, n + 1):
        port = factory.open(_creds(sid, known))
        await port.connect()
        if app_config:
            await port.account_status()  # what the engine's Accounts reads at a connect when it is due
        await port.close()
    for fake in fakes:
        seen.update(type(r).__name__ for r in fake.requests)
    return seen


async def _restart(n: int, rate: float) -> dict[str, float]:
    clock = SystemClock()
    limiter = ConnectRate(clock, rate)
    opened: list[float] = []

    async def connect() -> None:
        await limiter.turn()
        opened.append(time.perf_counter())

    started = time.perf_counter()
    await asyncio.gather(*(connect() for _ in range(n)))
    opened.sort()
    busiest = max(sum(1 for t in opened if start <= t < start + 1.0) for start in opened)
    return {"sessions": n, "rate": rate, "busiest_second": busiest, "last_connect_s": opened[-1] - started}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--restart-sessions", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="connects per second for part 2 (the config's default)")
    args = parser.parse_args(argv)
    print(machine())
    header(f"requests per connection, {args.sessions} real TelegramClient objects on the contract fake")
    known = AccountInfo(5000, "ada")
    cases = (
        ("before (Telethon connect + getUsers)", lambda: _before(args.sessions)),
        ("first connect in a session's life", lambda: _after(args.sessions, UNKNOWN_SELF, True)),
        ("its next connect (self user asked once)", lambda: _after(args.sessions, None, False)),
        ("any later connect (stored self user)", lambda: _after(args.sessions, known, False)),
        ("later, app config due (daily)", lambda: _after(args.sessions, known, True)),
    )
    results = []
    for label, make in cases:
        seen = asyncio.run(make())
        per = sum(seen.values()) / args.sessions
        what = ", ".join(f"{name.removesuffix('Request')} {n / args.sessions:g}" for name, n in seen.items())
        print(f"{label:<40} {per:>4.2f} requests: {what}", flush=True)
        r = {"case": label, "requests_per_connection": per, "sessions": args.sessions,
             **{f"n_{k}": v / args.sessions for k, v in seen.items()}}
        emit("connect", r)
        results.append(r)
    header(f"a restart: {args.restart_sessions} sessions asking to connect at once, {args.rate:g} connects per second")
    r = asyncio.run(_restart(args.restart_sessions, args.rate))
    print(f"busiest second: {r['busiest_second']} connects; last connect after {r['last_connect_s']:.2f} s "
          f"(ideal {(args.restart_sessions - 1) / args.rate:.2f} s)", flush=True)
    emit("connect_restart", r)
    results.append(r)
    return results


if __name__ == "__main__":
    main()
