"""The admin side's operations: one service layer for the bot's admin handlers and the ``adbot`` CLI.

Handlers and CLI commands parse their input with the ``parse_*`` functions here, call one operation and
render its result. Bad input raises ``InputError`` / ``NotFound`` before anything is written, so a
refused request never changes the database. Nothing here knows about aiogram or argparse.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from control_bot.services.ids import is_id, parse_id
from control_bot.services.limits import Limits, limits_report
from core.errors import InputError, NotFound
from core.group_refs import parse_group_refs
from core.states import EventKind
from core.texts import admin as texts
from core.texts import intake as intake_texts
from core.texts import plans as plan_texts
from core.texts.outcomes import STOP_REASON_REVOKED
from pool import assign, intake, proxies
from pool.intake import IntakeResult
from pool.names import display_name
from pool.proxies import ProxyOverview
from storage import customers, events, groups, ledger
from storage import sessions as session_rows
from storage.customers import Customer, CycleTimes
from storage.db import Connection, Database
from storage.ledger import SendCounts

if TYPE_CHECKING:
    from core.config import Settings
    from engine.engine import EngineHealth  # typing only: the CLI imports this module without the engine

logger = logging.getLogger(__name__)

MAX_USER_ID = 2**63 - 1  # Telegram ids fit a signed 64-bit integer
MIN_SESSIONS, MAX_SESSIONS = 1, 100
MIN_DAYS, MAX_DAYS = 1, 3650
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the official Bot API server refuses bigger downloads
HOUR = 3600.0
DAY = 86_400.0


# --- parsing ---------------------------------------------------------------------------------------


def _shown(raw: str) -> str:
    text = raw.strip()
    return text if len(text) <= 24 else text[:23] + "…"


def _check_range(value: int, what: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise InputError(texts.out_of_range(what, low, high, value))


def parse_int(raw: str, what: str, low: int, high: int) -> int:
    """A whole number within [low, high], or InputError naming ``what`` and the accepted range."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise InputError(texts.not_a_whole_number(what, low, high, _shown(raw)))
    value = int(text)
    _check_range(value, what, low, high)
    return value


def parse_user_id(raw: str) -> int:
    """A user id as typed, or InputError quoting it: the upper bound (storage's, ``services.ids``) is
    never shown, a person could not act on it."""
    return parse_id(raw, texts.not_a_user_id)


def _check_user_id(user_id: int) -> None:
    if not is_id(user_id):
        raise InputError(texts.not_a_user_id(str(user_id)))


def parse_sessions(raw: str) -> int:
    return parse_int(raw, plan_texts.SESSIONS_COUNT(), MIN_SESSIONS, MAX_SESSIONS)


def parse_days(raw: str) -> int:
    return parse_int(raw, plan_texts.DAYS_COUNT(), MIN_DAYS, MAX_DAYS)


def split_args(raw: str | None, count: int, usage: str) -> list[str]:
    """Exactly ``count`` whitespace-separated arguments, else InputError with the usage line."""
    parts = (raw or "").split()
    if len(parts) != count:
        raise InputError(texts.usage(usage))
    return parts


# --- plans -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantResult:
    customer: Customer
    created: bool
    days: int


async def grant_plan(
    db: Database, user_id: int, sessions: int, days: int, *, now: float, default_interval: int
) -> GrantResult:
    """Create a customer or extend their plan (``days`` added to what is left); the customer is told
    through the outbox (PLAN_GRANTED), in the same transaction."""
    _check_user_id(user_id)
    _check_range(sessions, plan_texts.SESSIONS_COUNT(), MIN_SESSIONS, MAX_SESSIONS)
    _check_range(days, plan_texts.DAYS_COUNT(), MIN_DAYS, MAX_DAYS)
    async with db.tx() as conn:
        return await grant_in(conn, user_id, sessions, days, now, default_interval)


async def grant_in(
    conn: Connection, user_id: int, sessions: int, days: int, now: float, default_interval: int
) -> GrantResult:
    """``grant_plan`` inside the caller's transaction (a confirmed proposal is used up in the same one)."""
    created = await customers.get(conn, user_id) is None
    customer = await customers.grant(conn, user_id, sessions, days, now, default_interval)
    await events.add(
        conn,
        user_id,
        EventKind.PLAN_GRANTED,
        now,
        sessions=sessions,
        days=days,
        expires_at=customer.plan_expires_at,
        extended=not created,
    )
    logger.info(
        "plan %s for customer %d: %d session(s), +%d day(s)",
        "created" if created else "extended",
        user_id,
        sessions,
        days,
    )
    return GrantResult(customer, created, days)


class CampaignStopper(Protocol):
    async def stop_campaign(self, customer_id: int, reason: str, *, wait: bool = False) -> object: ...


@dataclass(frozen=True)
class RevokeResult:
    user_id: int
    was_running: bool
    sessions_returned: int


async def revoke_plan(
    db: Database, sessions_dir: Path, user_id: int, *, now: float, engine: CampaignStopper | None
) -> RevokeResult:
    """End the plan now: stop the campaign (through the engine when it runs in this process, so
    in-flight sends finish), return the customer's healthy sessions to the pool, tell the customer."""
    _check_user_id(user_id)
    async with db.read() as conn:
        customer = await customers.get(conn, user_id)
    if customer is None:
        raise NotFound(texts.no_customer_unchanged(user_id))
    if engine is not None and customer.status == "running":
        # Wait for a running cycle: its sessions must be closed before they go back to the pool.
        await engine.stop_campaign(user_id, STOP_REASON_REVOKED, wait=True)
    async with db.tx() as conn:
        await customers.end_plan(conn, user_id, now, STOP_REASON_REVOKED)
        await events.add(conn, user_id, EventKind.PLAN_REVOKED, now)
    returned = await assign.revoke(db, sessions_dir, user_id, now)
    logger.info("plan of customer %d revoked; %d session(s) back in the pool", user_id, returned)
    return RevokeResult(user_id, customer.status == "running", returned)


# --- customers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerLine:
    customer: Customer
    plan_active: bool
    sessions: int  # healthy sessions the customer owns now (assigned + cooling)
    cooling: int
    groups: int
    sent_today: int
    failed_today: int


def day_start(now: float) -> float:
    """Midnight UTC of ``now``'s day: "today" for the send counters."""
    return now - (now % DAY)


async def list_customers(db: Database, now: float) -> list[CustomerLine]:
    async with db.read() as conn:
        everyone = await customers.list_all(conn)
        owned = await session_rows.count_by_owner(conn)
        group_counts = await groups.count_by_customer(conn)
        sends = await ledger.sent_and_failed_by_customer_since(conn, day_start(now))
    lines = []
    for c in everyone:
        states = owned.get(c.user_id, {})
        sent, failed = sends.get(c.user_id, (0, 0))
        lines.append(
            CustomerLine(
                customer=c,
                plan_active=c.plan_active(now),
                sessions=states.get("assigned", 0) + states.get("cooling", 0),
                cooling=states.get("cooling", 0),
                groups=group_counts.get(c.user_id, 0),
                sent_today=sent,
                failed_today=failed,
            )
        )
    return lines


# --- default groups --------------------------------------------------------------------------------


async def default_groups(db: Database) -> list[str]:
    async with db.read() as conn:
        return await groups.list_defaults(conn)


@dataclass(frozen=True)
class DefaultGroupsAdded:
    added: list[str]
    existing: list[str]
    bad: list[tuple[str, str]]  # (item as typed, shortened; why it was refused)


async def add_default_groups(db: Database, text: str, now: float) -> DefaultGroupsAdded:
    """Parse the references (one bad item does not lose the rest) and add the new ones."""
    good, bad = parse_group_refs(text)
    added: list[str] = []
    existing: list[str] = []
    if good:
        async with db.tx() as conn:
            added, existing = await groups.add_defaults(conn, [g.ref for g in good], now)
    return DefaultGroupsAdded(added, existing, bad)


# --- health ----------------------------------------------------------------------------------------


class HealthSource(Protocol):
    def health(self) -> EngineHealth: ...


@dataclass(frozen=True)
class HealthReport:
    now: float
    engine: EngineHealth | None  # None: no engine in this process (the CLI)
    cycles: CycleTimes  # from the database: survives restarts, true for every process
    sessions: dict[str, int]  # per state
    last_hour: SendCounts
    proxies: ProxyOverview | None = None  # each session's proxy (masked) or direct
    limits: Limits | None = None  # the configured limits and the sessions' daily counts (None: not asked)
    quarantine: list[tuple[int, float | None]] = field(default_factory=list)  # limited: (id, earliest return)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def health_report(
    db: Database, engine: HealthSource | None, now: float, settings: Settings | None = None
) -> HealthReport:
    async with db.read() as conn:
        report = HealthReport(
            now=now,
            engine=engine.health() if engine is not None else None,
            cycles=await customers.cycle_times(conn),
            sessions=await session_rows.count_by_state(conn),
            last_hour=await ledger.counts_since(conn, now - HOUR),
            limits=await limits_report(conn, settings, now) if settings is not None else None,
            quarantine=await session_rows.quarantined(conn),
        )
    required = settings.pool.proxy_required if settings is not None else False
    return replace(report, proxies=await proxies.overview(db, required=required))


# --- uploads ---------------------------------------------------------------------------------------


def refuse_before_download(size: int | None, max_bytes: int) -> str | None:
    """Why a document is refused on its announced size alone (None: download it)."""
    if size is None:
        return None
    if size > BOT_API_DOWNLOAD_LIMIT:
        return intake_texts.too_large_for_bot(size, BOT_API_DOWNLOAD_LIMIT // (1024 * 1024))
    if size > max_bytes:
        return intake_texts.file_too_large(size, max_bytes)
    return None


@dataclass(frozen=True)
class UploadReport:
    results: list[IntakeResult]
    free_after: int

    @property
    def accepted(self) -> list[IntakeResult]:
        return [r for r in self.results if r.accepted]

    @property
    def rejected(self) -> list[IntakeResult]:
        return [r for r in self.results if not r.accepted]


async def import_uploads(
    db: Database,
    sessions_dir: Path,
    files: Sequence[tuple[str, bytes]],
    *,
    refused: Sequence[tuple[str, str]] = (),
    max_bytes: int,
    now: float,
    ipv6: bool = False,
    allow_test_servers: bool = False,
    passcode: str | None = None,
) -> UploadReport:
    """Run the pool's intake on one batch; ``refused`` (name, reason) are files turned away before
    they were read (too large, download failed), reported alongside. ``ipv6``: ``[pool] ipv6``;
    ``allow_test_servers``: ``[pool] allow_test_servers``; ``passcode``: a Telegram Desktop local
    passcode for locked tdata (used for this call only)."""
    early = [IntakeResult(display_name(name), False, None, reason) for name, reason in refused]
    results = (
        await intake.import_files(
            db, sessions_dir, files, max_bytes=max_bytes, now=now, ipv6=ipv6,
            allow_test_servers=allow_test_servers, passcode=passcode,
        )
        if files
        else []
    )
    async with db.read() as conn:
        free = await session_rows.count_free(conn)
    return UploadReport(early + results, free)

