"""Run the real control bot as a separate process, kill it, start it again, and audit what it left.

    inst = install(tmp_path, emu.base_url, engine={"on_restart": "resume"}, world={"lenient": True})
    keys = await seed(inst, [CampaignSpec(1001, groups=refs, sessions=2)], pool=4)
    async with BotRunner(inst, emu) as runner:
        bot = await runner.start()          # ready once its first getUpdates reached the emulator
        await asyncio.sleep(0.7)
        await bot.kill()                    # SIGKILL, reaped
        bot = await runner.start()
        assert await bot.terminate() == 0   # SIGTERM: graceful stop, exit code
    report = await audit(inst)              # raises AssertionError on any broken invariant

The bot process talks to the Bot API emulator running in the test's event loop (``[bot] api_base``) and
posts into the sandbox world (``[engine] backend = "simulated"``, ``world_file``), which appends every
delivery to ``data/world_deliveries.jsonl``; that file and the SQLite database are the evidence.

Two ways to start the process:

* ``"exec"``: ``python -m control_bot --config <file>``, exactly what an operator runs.
* ``"fork"``: the same ``control_bot.cli.main(["run", "--config", <file>])`` in a process forked from
  a ``multiprocessing`` fork server that imported the bot's modules once. Importing aiogram builds
  hundreds of pydantic models (about 10 s on a loaded 2-core machine), which would make a test that
  restarts the bot 20 times take minutes; a forked child is still its own process, with its own event
  loop, database connections and signal handlers, killed for real. The fork server itself is
  started once per test session (``warm_up``, which tests/conftest.py calls once the selected tests
  include one marked ``process(fork_server=True)``, so it imports the bot while earlier tests run) and
  exits with the session.

Every process a runner started is killed (SIGKILL) and reaped when the runner closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from core.links import random_id_for
from pool.intake import import_files
from sandbox.botapi import BotApiEmulator
from sandbox.sessionfiles import make_session_bytes, new_auth_key
from sandbox.world.model import Delivery
from storage import customers
from storage import groups as group_rows
from storage import pairs as pair_rows
from storage.db import Database
from tests.pool_support import assert_pool_consistent, files_on_disk

TOKEN = "123456789:AAE_sandbox-token-for-adbot-process-tests"
BOT_USERNAME = "adbot_process_bot"
ADMIN_ID = 9000
POST_LINK = "https://t.me/ads/1"
DELIVERIES_FILE = "world_deliveries.jsonl"

LaunchMode = Literal["fork", "exec"]

# What the fork server imports once, so that a forked bot starts in well under a second.
# (Everything ``adbot run`` imports, the subcommand modules included: a child then imports nothing, so
# it also runs the same code as its siblings when a source file changes during a long run.)
_PRELOAD = [
    "control_bot.app",
    "control_bot.cli",
    "control_bot.routers",
    "control_bot.cli.admin",
    "control_bot.demo",
    "control_bot.cli.pool",
    "sandbox.world",
    "pool.startup",
    "tests.process_harness",
]


# --- one installation: config, world file, data folders ---------------------------------------------


@dataclass(frozen=True)
class Installation:
    """The files of one bot installation under ``root`` (what a restart finds again)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def world_file(self) -> Path:
        return self.root / "world.json"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "adbot.sqlite3"

    @property
    def deliveries_path(self) -> Path:
        return self.data_dir / DELIVERIES_FILE

    def output_path(self, run: int) -> Path:
        """stdout/stderr of the ``run``-th process."""
        return self.root / f"run-{run:03d}.out"

    def write_world(self, world: Mapping[str, Any]) -> None:
        """(Re)write the world file; the next process reads it at start."""
        self.world_file.write_text(json.dumps(dict(world)), encoding="utf-8")

    def write_config(self, api_base: str, engine: Mapping[str, Any], admins: Sequence[int] = (ADMIN_ID,)) -> None:
        settings: dict[str, dict[str, Any]] = {
            "bot": {"token": TOKEN, "api_base": api_base, "admins": list(admins), "low_pool_threshold": 0},
            "paths": {"data_dir": "data", "sessions_dir": "sessions", "logs_dir": "logs"},
            "engine": {
                "backend": "simulated",
                "world_file": self.world_file.name,
                "cycle_interval": 2,
                "min_cycle_interval": 1,
                "send_spacing": 0.05,
                "spacing_jitter": 0.2,
                # Cycles every 2 s post far more than a day's safe cap: counted, never reached.
                "daily_send_cap": 1_000_000,
                "warmup_days": 0,
                "on_restart": "resume",
                "send_timeout": 10.0,
                "shutdown_timeout": 5.0,
                **engine,
            },
        }
        self.config.write_text(_toml(settings), encoding="utf-8")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml(tables: Mapping[str, Mapping[str, Any]]) -> str:
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def install(
    root: Path,
    api_base: str,
    *,
    engine: Mapping[str, Any] | None = None,
    world: Mapping[str, Any] | None = None,
    admins: Sequence[int] = (ADMIN_ID,),
) -> Installation:
    """Write a config and a world file under ``root``. The world defaults to lenient (every group
    exists and every account may post) with de-duplication of random_ids OFF, so a second delivery of
    one cycle's post to a group stays visible in the delivery log. ``seed`` declares the campaigns'
    groups in it (the engine posts only where a session's dialogs list the group)."""
    inst = Installation(root)
    root.mkdir(parents=True, exist_ok=True)
    inst.write_world(world if world is not None else {"lenient": True, "dedupe": False})
    inst.write_config(api_base, engine or {}, admins)
    return inst


# --- the campaigns, written through storage and pool functions before the first start ----------------


@dataclass(frozen=True)
class CampaignSpec:
    user_id: int
    groups: Sequence[str]
    sessions: int = 1
    interval: int = 2
    running: bool = True


async def seed(
    inst: Installation, campaigns: Sequence[CampaignSpec], *, pool: int, now: float | None = None
) -> list[str]:
    """An API pair, ``pool`` generated session files through the real intake, and the customers with a
    plan, a link post, their groups and (``running``) a running campaign. Sessions are assigned by
    the bot's first cycle. The groups are declared in the world file (``open_groups``: every account a
    member, as a lenient world makes up a chat on first sight; the first process logs them, so a world
    file written later still has them). Returns the world account keys (sha256 of each auth key)."""
    now = time.time() if now is None else now
    world = json.loads(inst.world_file.read_text(encoding="utf-8"))
    declared = list(world.get("open_groups", ()))
    declared += [ref for spec in campaigns for ref in spec.groups if ref not in declared]
    inst.write_world({**world, "open_groups": declared})
    db = await Database.open(inst.db_path)
    try:
        async with db.tx() as conn:
            await pair_rows.add(conn, 2040, hashlib.md5(b"2040").hexdigest(), 7, now)
        keys: list[str] = []
        files: list[tuple[str, bytes]] = []
        for i in range(pool):
            key = new_auth_key()
            keys.append(hashlib.sha256(key).hexdigest())
            files.append((f"seller_{i}.session", make_session_bytes(2, key)))
        results = await import_files(db, inst.sessions_dir, files, max_bytes=10 * 1024 * 1024, now=now)
        assert all(r.accepted for r in results), results
        async with db.tx() as conn:
            for spec in campaigns:
                await customers.grant(conn, spec.user_id, spec.sessions, 30, now, default_interval=spec.interval)
                await customers.set_post_link(conn, spec.user_id, POST_LINK, "@ads", 1, False, now)
                await group_rows.add_many(conn, spec.user_id, list(spec.groups), now)
                if spec.running:
                    await customers.set_status(conn, spec.user_id, "running", now, next_cycle_at=now)
    finally:
        await db.close()
    return keys


# --- starting, killing and stopping the bot --------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the fork server exits (it exits with the test session), so a
    test session that is itself killed leaves no bot running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return


def _child_main(config: str, output: str) -> None:
    """The forked bot: ``adbot run --config <config>`` with stdout/stderr in ``output``."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)  # the fork server went away before the line above took effect
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for name in [n for n in os.environ if n.startswith("ADBOT_")]:
        del os.environ[name]  # the config file alone decides
    from control_bot.cli import main

    sys.exit(main(["run", "--config", config]))


_context: ForkServerContext | None = None
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _fork_context() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, ForkServerContext)
        context.set_forkserver_preload(_PRELOAD)
        _context = context
    return _context


def warm_up() -> None:
    """Start the fork server now: it imports the bot in the background while other tests run (the
    conftest calls this after collection when a selected test will fork the bot). Never call it from
    this module's import: the fork server imports this module too."""
    _fork_context()
    forkserver.ensure_running()


class BotProcess:
    """One run of the bot. Exit codes: 0 clean, >0 error, -N killed by signal N."""

    def __init__(
        self,
        run: int,
        output: Path,
        *,
        forked: multiprocessing.process.BaseProcess | None = None,
        child: asyncio.subprocess.Process | None = None,
    ) -> None:
        self.run = run
        self.output = output
        self._forked = forked
        self._child = child
        self.started_at = time.time()
        self.ready_at: float | None = None

    @property
    def pid(self) -> int:
        if self._child is not None:
            return self._child.pid
        assert self._forked is not None and self._forked.pid is not None
        return self._forked.pid

    @property
    def exit_code(self) -> int | None:
        if self._child is not None:
            return self._child.returncode
        assert self._forked is not None
        return self._forked.exitcode

    def signal(self, signum: int) -> None:
        if self.exit_code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    async def wait(self, timeout: float) -> int:
        """The exit code; TimeoutError if the process is still running after ``timeout`` seconds."""
        if self._child is not None:
            return await asyncio.wait_for(self._child.wait(), timeout)
        deadline = time.monotonic() + timeout
        while (code := self.exit_code) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot run {self.run} (pid {self.pid}) still running after {timeout:g} s")
            await asyncio.sleep(0.01)
        return code

    async def kill(self) -> int:
        """SIGKILL: the process dies wherever it is (no handler, no cleanup); reaped here."""
        self.signal(signal.SIGKILL)
        return await self.wait(10.0)

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM (a graceful stop) and its exit code."""
        self.signal(signal.SIGTERM)
        return await self.wait(timeout)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


class BotRunner:
    """Starts bot processes for one installation; kills whatever is still running when closed."""

    def __init__(self, inst: Installation, emu: BotApiEmulator, *, mode: LaunchMode = "fork") -> None:
        self.inst = inst
        self.emu = emu
        self.mode = mode
        self.runs: list[BotProcess] = []

    async def __aenter__(self) -> BotRunner:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        for proc in self.runs:
            if proc.exit_code is None:
                proc.signal(signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await proc.wait(10.0)

    async def start(
        self, *, mode: LaunchMode | None = None, ready: bool = True, timeout: float = 120.0
    ) -> BotProcess:
        """Start the bot; with ``ready``, return once it polls the emulator (engine started)."""
        run = len(self.runs) + 1
        output = self.inst.output_path(run)
        polls_before = self.emu.polls_seen
        proc = await self._launch(mode or self.mode, run, output)
        self.runs.append(proc)
        if ready:
            await self.wait_ready(proc, polls_before, timeout)
        return proc

    async def _launch(self, mode: LaunchMode, run: int, output: Path) -> BotProcess:
        if mode == "exec":
            env = {k: v for k, v in os.environ.items() if not k.startswith("ADBOT_")}
            with output.open("ab") as out:
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "control_bot", "--config", str(self.inst.config),
                    stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                    cwd=self.inst.root, env=env,
                )
            return BotProcess(run, output, child=child)
        context = _fork_context()
        forked = context.Process(
            target=_child_main,
            args=(str(self.inst.config), str(output)),
            name=f"adbot-run-{run}",
            daemon=False,
        )
        # The first start waits for the fork server to import the bot: off the event loop, so the
        # emulator keeps serving meanwhile.
        await asyncio.to_thread(forked.start)
        return BotProcess(run, output, forked=forked)

    async def wait_ready(self, proc: BotProcess, polls_before: int, timeout: float) -> None:
        """aiogram polls only after the startup hooks ran (engine started, campaigns rescheduled)."""
        deadline = time.monotonic() + timeout
        while self.emu.polls_seen <= polls_before:
            if proc.exit_code is not None:
                raise AssertionError(f"bot run {proc.run} exited with {proc.exit_code} during start:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"bot run {proc.run} not ready after {timeout:g} s:\n{proc.tail()}")
            await asyncio.sleep(0.01)
        proc.ready_at = time.time()


# --- reading what the bot left ------------------------------------------------------------------------


@contextlib.contextmanager
def connect(inst: Installation) -> Iterator[sqlite3.Connection]:
    """A plain connection for reading (the bot may be running: WAL lets both work)."""
    conn = sqlite3.connect(inst.db_path, timeout=10.0)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def query(inst: Installation, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    with connect(inst) as conn:
        return conn.execute(sql, params).fetchall()


def read_deliveries(inst: Installation) -> list[Delivery]:
    """Every delivery in the world's log. A line that does not parse fails the test: a torn record
    could hide a double post."""
    try:
        text = inst.deliveries_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out: list[Delivery] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Delivery(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise AssertionError(f"{inst.deliveries_path.name} line {number} is unreadable ({exc}): {line!r}") from None
    return out


def in_progress(inst: Installation) -> dict[int, int]:
    """customer -> number of the cycle that is open (started, not finished)."""
    rows = query(
        inst,
        "SELECT user_id, cycle_no FROM customers WHERE cycle_started_at IS NOT NULL AND cycle_finished_at IS NULL",
    )
    return {int(r["user_id"]): int(r["cycle_no"]) for r in rows}


@dataclass
class AuditReport:
    """What the evidence showed (for the test's own progress checks and for the report)."""

    deliveries: int = 0
    rows: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # (outcome: error) of the rows not 'sent', for messages
    interrupted: int = 0  # rows found 'pending' by a resume: the process died with the request out
    cycles: dict[int, int] = field(default_factory=dict)  # customer -> cycles started
    complete_cycles: int = 0  # cycles checked to have a row for every group
    delivered_in_doubt: int = 0  # in_doubt rows whose post did arrive (the answer was lost)


async def audit(inst: Installation, *, final: bool = True, complete_cycles: bool = True) -> AuditReport:
    """Check every invariant the evidence allows; AssertionError names the first one broken.

    ``final``: the last process stopped gracefully, so no row may be left 'pending' and the session
    files must be in the folders their rows say (after a SIGKILL a file may be one move ahead of its
    row until the next start reconciles; it must still exist exactly once). ``complete_cycles``:
    every cycle but the open one has a row for every group of its customer (true when no cycle was
    closed early, i.e. ``on_restart = "resume"`` and the groups never changed)."""
    report = AuditReport()
    deliveries = read_deliveries(inst)
    report.deliveries = len(deliveries)
    with connect(inst) as conn:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        assert integrity == ["ok"], f"integrity_check: {integrity}"
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        assert fk == [], f"foreign_key_check: {[tuple(r) for r in fk]}"
        rows = conn.execute("SELECT * FROM sends").fetchall()
        keys = {int(r["id"]): str(r["auth_key_sha"]) for r in conn.execute("SELECT id, auth_key_sha FROM sessions")}
        stats = {int(r["customer_id"]): r for r in conn.execute("SELECT * FROM stats")}
        group_stats = {
            (int(r["customer_id"]), str(r["group_ref"])): (int(r["success"]), int(r["failures"]))
            for r in conn.execute("SELECT * FROM group_stats")
        }
        people = {int(r["user_id"]): r for r in conn.execute("SELECT * FROM customers")}
        groups_of: dict[int, set[str]] = defaultdict(set)
        for r in conn.execute("SELECT customer_id, ref FROM groups"):
            groups_of[int(r["customer_id"])].add(str(r["ref"]))
    report.rows = len(rows)

    # 1. One delivery at most per (chat, topic, random_id): the random_id names (campaign, cycle, group).
    seen = Counter((d.chat_id, d.topic_id, d.random_id) for d in deliveries)
    doubles = [key for key, n in seen.items() if n > 1]
    assert not doubles, f"{len(doubles)} post(s) delivered twice in one cycle, e.g. {doubles[:3]}"

    # 2. Each ledger row carries the random_id of its (campaign, cycle, group); each delivery maps back.
    by_random: dict[int, sqlite3.Row] = {}
    for r in rows:
        rid = random_id_for(int(r["customer_id"]), int(r["cycle_no"]), str(r["group_ref"]))
        assert int(r["random_id"]) == rid, f"row {tuple(r)} has a random_id not derived from its send"
        assert rid not in by_random, f"two rows share random_id {rid}"
        by_random[rid] = r
        report.outcomes[str(r["outcome"])] += 1
        if r["outcome"] != "sent":
            report.errors[f"{r['outcome']}: {r['error']}"] += 1
        if r["outcome"] == "in_doubt" and r["error"] == "interrupted":
            report.interrupted += 1
    if final:
        assert report.outcomes["pending"] == 0, f"{report.outcomes['pending']} row(s) left 'pending'"
    allowed = {"sent", "in_doubt"} if final else {"sent", "in_doubt", "pending"}
    delivered: dict[int, Delivery] = {}
    for d in deliveries:
        row = by_random.get(d.random_id)
        assert row is not None, f"a delivery to {d.chat_ref} (random_id {d.random_id}) has no ledger row"
        assert row["outcome"] in allowed, f"a delivery to {d.chat_ref} has a row '{row['outcome']}': {tuple(row)}"
        peer, _, topic = str(row["group_ref"]).partition("#")
        assert peer.lower() == d.chat_ref.lower(), f"delivery to {d.chat_ref} for a row of {row['group_ref']}"
        assert (int(topic) if topic else None) == d.topic_id, f"delivery to topic {d.topic_id} for {row['group_ref']}"
        assert keys.get(row["session_id"]) == d.account, f"the post to {d.chat_ref} left from another account"
        delivered[d.random_id] = d
        if row["outcome"] == "in_doubt":
            report.delivered_in_doubt += 1

    # 3. Every 'sent' row has exactly one delivery, with the message id the row recorded.
    for r in rows:
        if r["outcome"] == "sent":
            got = delivered.get(int(r["random_id"]))
            assert got is not None, f"row {tuple(r)} is 'sent' but nothing was delivered"
            assert got.message_id == r["message_id"], f"row {tuple(r)}: the post arrived as message {got.message_id}"

    # 4. Statistics equal the ledger (storage/ledger.py apply_results adds them in the same transaction):
    #    total_success = total_messages_sent = rows 'sent'; total_failures = rows 'failed';
    #    total_posts = sent + failed; total_flood_waits = SUM(flood_waits); group_stats likewise per group.
    per: dict[int, Counter[str]] = defaultdict(Counter)
    per_group: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        cid = int(r["customer_id"])
        per[cid][str(r["outcome"])] += 1
        per[cid]["flood_waits"] += int(r["flood_waits"])
        if r["outcome"] in ("sent", "failed"):
            per_group[(cid, str(r["group_ref"]))][0 if r["outcome"] == "sent" else 1] += 1
    for cid in people:
        st = stats.get(cid)
        c = per[cid]
        have = (0, 0, 0, 0, 0) if st is None else (
            st["total_success"], st["total_messages_sent"], st["total_failures"], st["total_posts"],
            st["total_flood_waits"],
        )
        want = (c["sent"], c["sent"], c["failed"], c["sent"] + c["failed"], c["flood_waits"])
        assert tuple(have) == want, f"customer {cid}: stats {have} != ledger {want}"
    for key, (success, failures) in per_group.items():
        assert group_stats.get(key, (0, 0)) == (success, failures), f"group_stats {key}: {group_stats.get(key)}"
    for key, value in group_stats.items():
        assert value == tuple(per_group.get(key, (0, 0))), f"group_stats {key}: {value} without ledger rows"

    # 5. Cycles: numbers only go up, rows never belong to a cycle not started; a cycle that is over has
    #    a row for every group (a resumed cycle finishes what the dead process left).
    by_cycle: dict[tuple[int, int], set[str]] = defaultdict(set)
    for r in rows:
        by_cycle[(int(r["customer_id"]), int(r["cycle_no"]))].add(str(r["group_ref"]))
    for cid, person in people.items():
        last = int(person["cycle_no"])
        report.cycles[cid] = last
        open_cycle = person["cycle_started_at"] is not None and person["cycle_finished_at"] is None
        assert all(no <= last for (c, no) in by_cycle if c == cid), f"customer {cid}: rows of a future cycle"
        if complete_cycles:
            for no in range(1, last + (0 if open_cycle else 1)):
                missing = groups_of[cid] - by_cycle.get((cid, no), set())
                assert not missing, f"customer {cid} cycle {no} ended without a row for {sorted(missing)}"
                report.complete_cycles += 1

    # 6. Session files: each exactly once on disk; after a graceful stop in the folder its row says.
    if final:
        await check_pool(inst)
    else:
        counts = Counter(name for _folder, name in files_on_disk(inst.sessions_dir))
        for name in query_session_files(inst):
            assert counts[name] == 1, f"session file {name} is on disk {counts[name]} time(s)"
    return report


def query_session_files(inst: Installation) -> list[str]:
    return [str(r["file_name"]) for r in query(inst, "SELECT file_name FROM sessions")]


async def check_pool(inst: Installation) -> None:
    """``tests.pool_support.assert_pool_consistent``: each row's file once, in its state's folder."""
    db = await Database.open(inst.db_path)
    try:
        await assert_pool_consistent(db, inst.sessions_dir)
    finally:
        await db.close()


__all__ = [
    "ADMIN_ID",
    "BOT_USERNAME",
    "TOKEN",
    "AuditReport",
    "BotProcess",
    "BotRunner",
    "CampaignSpec",
    "Installation",
    "LaunchMode",
    "audit",
    "check_pool",
    "in_progress",
    "install",
    "query",
    "read_deliveries",
    "seed",
    "warm_up",
]
