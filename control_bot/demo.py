"""``adbot demo``: the whole system offline, in one command.

The sandbox Bot API emulator and the simulated Telegram world run in this process; the real control bot
(aiogram polling over HTTP on 127.0.0.1) and the real engine are wired to them, with a temporary data
dir. A scripted story plays: the admin uploads sessions and grants a customer; the customer sets a post
and groups and runs; a few cycles run on a compressed clock, with a flood wait, a slow-mode group, a
group nobody may write in (unreachable: the customer is told once, no request goes there) and a dead
session that gets replaced; the customer reads status, stats and logs.
The chat transcript is printed as it happens (``--json``: one JSON object per line), then a summary.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from control_bot.app import App, create_app
from control_bot.logfiles import preserved_logging
from control_bot.middlewares import Pacing
from core.clock import FakeClock
from core.config import Settings, settings_from_dict
from core.states import EventKind
from sandbox.botuser import BotApiEmulator, BotUser, RunningBot
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from sandbox.world import World
from storage import events, groups, ledger
from storage import sessions as session_rows

TOKEN = "100200300:DEMO-token-of-the-offline-sandbox-bot-xx"  # noqa: S105 - the sandbox accepts any token
ADMIN_ID = 1001
CUSTOMER_ID = 2002
INTERVAL_MINUTES = 5
POST_LINK = "https://t.me/adbot_news/42"
GROUPS = ("@cats_market", "@dogs_market", "@books_corner", "@garden_club", "@slow_lane", "@closed_club")
JOINED = "@tea_room"  # no session is in it until the admin has one join it
DEMO_API_HASH = "0123456789abcdef0123456789abcdef"
# The demo chats quickly; the real pacing (1 message/s per chat) is what `adbot run` uses.
DEMO_PACING = Pacing(per_chat_rate=50.0, per_chat_burst=50.0, global_rate=100.0, global_burst=100.0)

Emit = Callable[[dict[str, Any]], None]


@dataclass
class DemoResult:
    deliveries: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    session_states: Counter[str] = field(default_factory=Counter)
    stats: dict[str, Any] = field(default_factory=dict)
    violations: int = 0
    double_posts: int = 0
    replaced: bool = False
    paused: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)  # groups an admin's join made reachable
    slow_mode_skips: int = 0
    flood_waits: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.violations == 0
            and self.double_posts == 0
            and self.replaced
            and self.unreachable == ["@closed_club"]
            and self.joined == [JOINED]
            and self.deliveries[JOINED] > 0
            and self.flood_waits > 0
            and self.slow_mode_skips > 0
            and self.deliveries["@cats_market"] > 0
        )


def build_world(clock: FakeClock) -> tuple[World, list[bytes]]:
    """The Telegram the demo talks to: a channel with the post, six groups every account is in, one public
    group none is in (until the admin has a session join it), four seller accounts."""
    world = World(clock)
    world.add_channel("adbot_news", posts=(42,))
    for ref in GROUPS:
        name = ref.lstrip("@")
        world.add_group(name, slow_mode=900 if name == "slow_lane" else 0, read_only=name == "closed_club")
    world.add_group(JOINED.lstrip("@"), members=set())
    keys = [new_auth_key() for _ in range(4)]
    for i, key in enumerate(keys, start=1):
        world.add_account(hashlib.sha256(key).hexdigest(), username=f"seller{i}")
    return world, keys


def sessions_zip(keys: list[bytes]) -> bytes:
    """What a seller ships: .session files (one with its .json sidecar), plus one broken file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, key in enumerate(keys, start=1):
            archive.writestr(f"+4470000000{i}.session", make_session_bytes(2, key))
        archive.writestr("notes.session", b"this is not a session file")
    return buffer.getvalue()


class Story:
    """Plays users against the running bot and prints the transcript as it grows."""

    def __init__(self, app: App, emu: BotApiEmulator, clock: FakeClock, world: World, emit: Emit) -> None:
        self.app, self.emu, self.clock, self.world, self.emit = app, emu, clock, world, emit
        assert app.polling_task is not None
        self.running = RunningBot(app.bot, app.dp, emu, app.polling_task)
        self.printed = 0
        self.names = {ADMIN_ID: "Ada", CUSTOMER_ID: "Carl"}

    def narrate(self, text: str) -> None:
        self.emit({"kind": "narration", "text": text})

    async def settle(self) -> None:
        await self.running.idle(timeout=15)
        await self.app.outbox.deliver_pending()
        await self.running.idle(timeout=15)
        for entry in self.emu.transcript[self.printed :]:
            if entry.kind == "callback_answer" and not entry.text:
                continue
            line = entry.render()
            to = None
            if entry.kind.startswith("bot"):
                to = self.names.get(entry.chat_id, str(entry.chat_id))
                line = line.replace(entry.actor, f"{entry.actor} → {to}", 1)
            self.emit(
                {
                    "kind": entry.kind,
                    "who": entry.actor,
                    "to": to,
                    "text": entry.text,
                    "buttons": [list(row) for row in entry.buttons],
                    "file": entry.file_name,
                    "line": line,
                }
            )
        self.printed = len(self.emu.transcript)

    async def say(self, user: BotUser, text: str) -> None:
        await user.say(text)
        await user.wait_reply(timeout=15)
        await self.settle()

    async def click(self, user: BotUser, label: str) -> None:
        await user.click(label)
        await user.wait_reply(timeout=15)
        await self.settle()

    async def cycle(self, number: int) -> None:
        self.narrate(f"⏱ cycle {number} runs now (virtual time {self.virtual_minutes():.1f} min)")
        report = await self.app.engine.run_cycle(CUSTOMER_ID)
        self.narrate(
            f"   cycle {report.cycle_no}: sent {report.sent}, failed {report.failed}, waiting {report.waiting},"
            f" skipped {report.skipped}"
        )
        await self.settle()

    def virtual_minutes(self) -> float:
        return (self.clock.now() - self.start) / 60

    async def play(self, keys: list[bytes]) -> None:
        self.start = self.clock.now()
        admin = self.emu.user(ADMIN_ID, "Ada (admin)")
        customer = self.emu.user(CUSTOMER_ID, "Carl (customer)")

        self.narrate("The admin sets up the service from the chat.")
        await self.say(admin, "/admin")
        await self.say(admin, f"/addpair 21724 {DEMO_API_HASH}")
        await admin.send_document("sessions.zip", sessions_zip(keys), mime_type="application/zip")
        await admin.wait_reply(timeout=15)
        await self.settle()
        await self.say(admin, f"/grant {CUSTOMER_ID} 2 30")

        self.narrate("The customer sets up the campaign.")
        await self.say(customer, "/start")
        await self.say(customer, f"/post {POST_LINK}")
        await self.say(customer, "/addgroups " + " ".join((*GROUPS, JOINED)) + " t.me/+AbCdEfInviteLink")
        await self.say(customer, f"/interval {INTERVAL_MINUTES}")
        await self.say(customer, "/run")

        async with self.app.db.read() as conn:
            owned = [s.id for s in await session_rows.list_for_owner(conn, CUSTOMER_ID)]
        self.narrate(
            f"Telegram will ask session #{owned[0]} to wait 120 s after its first post (FloodWait);"
            " @slow_lane allows one post per 15 min; nobody may write in @closed_club."
        )
        self.world.add_fault(kind="flood_wait", session=owned[0], after=1, seconds=120)
        await self.cycle(1)
        await self.say(customer, "/status")

        self.narrate(f"None of Carl's sessions is in {JOINED}: the admin has them join it (paced, never automatic).")
        await self.say(admin, f"/join c{CUSTOMER_ID} {JOINED}")
        assert self.app.joins is not None
        await self.app.joins.run_due()
        await self.say(admin, "/joins")

        # The session that did not post to @slow_lane dies, so the slow-mode group stays in the story.
        async with self.app.db.read() as conn:
            sends = await ledger.recent(conn, CUSTOMER_ID)
        slow_session = next((r.session_id for r in sends if r.group_ref == "@slow_lane"), None)
        doomed = next(sid for sid in owned if sid != slow_session)
        await self.clock.advance(INTERVAL_MINUTES * 60)
        self.narrate(f"⏩ {INTERVAL_MINUTES} minutes later. Session #{doomed} has been logged out by Telegram.")
        self.world.add_fault(kind="dead", session=doomed, times=0)
        await self.cycle(2)

        await self.clock.advance(INTERVAL_MINUTES * 60)
        self.narrate(f"⏩ {INTERVAL_MINUTES} minutes later: the replacement session takes over.")
        await self.cycle(3)

        self.narrate("The customer checks on the campaign.")
        await self.click(customer, "📊 Status")
        await self.say(customer, "/stats")
        await self.say(customer, "/groups")
        await self.say(customer, "/logs")
        await self.say(admin, "/health")
        await self.say(customer, "/stop")

    async def result(self) -> DemoResult:
        out = DemoResult()
        for delivery in self.world.deliveries:
            out.deliveries[delivery.chat_ref] += 1
        out.violations = len(self.world.violations)
        out.double_posts = len(self.world.duplicates())
        async with self.app.db.read() as conn:
            tally = await ledger.outcome_tally(conn)
            states = await session_rows.count_by_state(conn)
            out.replaced = await events.any_of_kind(conn, EventKind.SESSION_REPLACED)
            own = await groups.list_for(conn, CUSTOMER_ID)
            out.paused = [g.ref for g in own if not g.active]
            out.unreachable = [g.ref for g in own if g.reach is not None]
            out.joined = [g.ref for g in own if g.ref == JOINED and g.reach is None and g.reach_told_at is None]
            stats = await ledger.get_stats(conn, CUSTOMER_ID)
        for (outcome, error), count in tally.items():
            out.outcomes[outcome] += count
            if outcome == "skipped" and (error or "").lower().startswith("slow"):
                out.slow_mode_skips += count
        out.session_states.update({state: count for state, count in states.items() if count})
        out.stats = asdict(stats)
        out.flood_waits = int(out.stats.get("total_flood_waits", 0))
        return out


def _settings(tmp: Path, api_base: str) -> Settings:
    return settings_from_dict(
        {
            "bot": {"token": TOKEN, "api_base": api_base, "admins": [ADMIN_ID], "low_pool_threshold": 1},
            "paths": {"data_dir": "data", "sessions_dir": "sessions", "logs_dir": "logs"},
            "engine": {
                "backend": "simulated",
                "cycle_interval": INTERVAL_MINUTES * 60,
                "min_cycle_interval": 60,
                "send_spacing": 4,
                "spacing_jitter": 0.25,
                "group_failure_limit": 2,
                "on_restart": "stop",
            },
        },
        tmp,
    )


async def run_demo(emit: Emit) -> DemoResult:
    started = time.perf_counter()
    with preserved_logging(), tempfile.TemporaryDirectory(prefix="adbot-demo-") as tmp_name:
        tmp = Path(tmp_name)
        clock = FakeClock(time.time(), auto=True)
        world, keys = build_world(clock)
        try:
            async with BotApiEmulator(TOKEN, "adbot_demo_bot") as emu:
                app = await create_app(
                    _settings(tmp, emu.base_url),
                    clock=clock,
                    factory=world,
                    pacing=DEMO_PACING,
                    # Per-customer log files for /logs, nothing on the console (the transcript is the output).
                    console_log=False,
                    log_secrets=[DEMO_API_HASH],
                    outbox_poll_interval=0.05,
                    schedule=False,
                )
                async with app, app.running(polling_timeout=1):
                    story = Story(app, emu, clock, world, emit)
                    await story.play(keys)
                    result = await story.result()
        finally:
            await clock.aclose()
    result.seconds = time.perf_counter() - started
    return result


def summary_lines(result: DemoResult) -> list[str]:
    s = result.stats
    return [
        "Summary",
        "  posts per group: " + ", ".join(f"{g} {result.deliveries.get(g, 0)}" for g in (*GROUPS, JOINED)),
        "  ledger outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())),
        f"  customer stats: posts {s.get('total_posts')}, success {s.get('total_success')},"
        f" failures {s.get('total_failures')}, flood waits {s.get('total_flood_waits')}",
        "  sessions: " + ", ".join(f"{k} {v}" for k, v in sorted(result.session_states.items())),
        f"  dead session replaced: {'yes' if result.replaced else 'NO'};"
        f" paused groups: {', '.join(result.paused) or 'none'};"
        f" unreachable groups: {', '.join(result.unreachable) or 'none'};"
        f" reachable after an admin's join: {', '.join(result.joined) or 'none'};"
        f" sends held back by slow mode: {result.slow_mode_skips}",
        f"  rules broken (flood/slow-mode windows, two clients on one session): {result.violations};"
        f" double posts: {result.double_posts}",
        f"  finished in {result.seconds:.1f} s: {'OK' if result.ok else 'UNEXPECTED RESULT'}",
    ]


def _print_event(event: dict[str, Any]) -> None:
    if event["kind"] == "narration":
        print(f"\n{event['text']}")
    else:
        print("  " + event["line"].replace("\n", "\n    "))
    sys.stdout.flush()


def main(*, as_json: bool) -> int:
    """``adbot demo``: the story as a transcript (``as_json``: JSON lines), then the summary; 0 when it all
    happened as it should."""
    if as_json:

        def emit(event: dict[str, Any]) -> None:
            print(json.dumps(event, ensure_ascii=False), flush=True)

    else:
        emit = _print_event
    result = asyncio.run(run_demo(emit))
    if as_json:
        print(json.dumps({"kind": "summary", "ok": result.ok, "lines": summary_lines(result)}, ensure_ascii=False))
    else:
        print()
        print("\n".join(summary_lines(result)))
    return 0 if result.ok else 1

