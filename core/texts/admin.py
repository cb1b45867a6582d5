"""What an admin reads: the admin commands and panel, and the reports behind them.

HTML, except where a section says plain text: usage lines and refused input (they become
``InputError`` / ``NotFound`` / ``PairInUse.user_message``, which the error handler escapes, and the
CLI prints), and the command line's and start-up's reports. The reports read the services' results
through the small read-only shapes below, so the texts stay in the bottom layer: any object with those
attributes will do (the services' dataclasses do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.i18n import N_, _, n_
from core.texts import intake
from core.texts import limits as limit_texts
from core.texts import proxy as proxy_texts
from core.texts.fmt import ago, esc, fmt_duration, fmt_time, relative, tr

# --- what the reports read -----------------------------------------------------------------------------


class Plan(Protocol):
    """A customer's plan and campaign state (``storage.customers.Customer``)."""

    @property
    def user_id(self) -> int: ...
    @property
    def plan_sessions(self) -> int: ...
    @property
    def plan_expires_at(self) -> float: ...
    @property
    def status(self) -> str: ...
    @property
    def stop_reason(self) -> str | None: ...


class CustomerRow(Protocol):
    """One line of /customers: the plan, and today's counts (``services.admin.CustomerLine``)."""

    @property
    def customer(self) -> Plan: ...
    @property
    def plan_active(self) -> bool: ...
    @property
    def sessions(self) -> int: ...
    @property
    def cooling(self) -> int: ...
    @property
    def groups(self) -> int: ...
    @property
    def sent_today(self) -> int: ...
    @property
    def failed_today(self) -> int: ...


class DefaultGroupsResult(Protocol):
    @property
    def added(self) -> Sequence[str]: ...
    @property
    def existing(self) -> Sequence[str]: ...
    @property
    def bad(self) -> Sequence[tuple[str, str]]: ...  # (item as typed, why it was refused; quotes the item)


class EngineState(Protocol):
    """The engine of this process (``engine.engine.EngineHealth``)."""

    @property
    def running(self) -> bool: ...
    @property
    def scheduler_running(self) -> bool: ...
    @property
    def cycles_in_progress(self) -> int: ...
    @property
    def sends_in_flight(self) -> int: ...
    @property
    def lag(self) -> float: ...
    @property
    def uptime(self) -> float: ...


class CycleState(Protocol):
    @property
    def running_campaigns(self) -> int: ...
    @property
    def last_started_at(self) -> float | None: ...
    @property
    def last_finished_at(self) -> float | None: ...


class SendCounts(Protocol):
    @property
    def sent(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def other(self) -> int: ...


class Health(Protocol):
    """What /health shows (``services.admin.HealthReport``); ``engine`` is None without an engine here."""

    @property
    def now(self) -> float: ...
    @property
    def engine(self) -> EngineState | None: ...
    @property
    def cycles(self) -> CycleState: ...
    @property
    def sessions(self) -> Mapping[str, int]: ...
    @property
    def last_hour(self) -> SendCounts: ...
    @property
    def proxies(self) -> proxy_texts.ProxyView | None: ...
    @property
    def limits(self) -> limit_texts.Limits | None: ...
    @property
    def quarantine(self) -> Sequence[tuple[int, float | None]]: ...


class SessionCheck(Protocol):
    """One session's check (``pool.health.CheckResult``); ``outcome`` is a key of ``CHECK_LABELS``."""

    @property
    def session_id(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def detail(self) -> str | None: ...
    @property
    def until(self) -> float | None: ...


class UploadedFile(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def session_id(self) -> int | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def waiting(self) -> bool: ...


class Upload(Protocol):
    """One batch of uploaded files (``services.admin.UploadReport``)."""

    @property
    def accepted(self) -> Sequence[UploadedFile]: ...
    @property
    def rejected(self) -> Sequence[UploadedFile]: ...
    @property
    def free_after(self) -> int: ...


# Registered (setMyCommands) for each admin's chat, after the customer commands.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("admin", "Admin panel"),
    ("pool", "Session pool: states, API pair usage"),
    ("pairs", "API pairs"),
    ("addpair", "Add an API pair: /addpair api_id api_hash"),
    ("delpair", "Remove an API pair: /delpair api_id [move]"),
    ("grant", "Grant or extend a plan: /grant user_id sessions days"),
    ("revoke", "End a plan: /revoke user_id"),
    ("customers", "Customers, plans and today's sends"),
    ("defaultgroups", "Default groups"),
    ("adddefaultgroups", "Add default groups"),
    ("health", "Engine, pool and sends health"),
    ("checksessions", "Check idle and quarantined sessions"),
    ("reach", "A customer's unreachable groups: /reach user_id"),
    ("join", "Make sessions join a group: /join sessions group"),
    ("joins", "Recent joins and their outcome"),
    proxy_texts.COMMAND,
)


def BTN_ADMIN_POOL() -> str:
    return _("📦 Pool")


def BTN_ADMIN_PAIRS() -> str:
    return _("🔑 API pairs")


def BTN_ADMIN_CUSTOMERS() -> str:
    return _("👥 Customers")


def BTN_ADMIN_HEALTH() -> str:
    return _("🩺 Health")


def BTN_ADMIN_DEFAULT_GROUPS() -> str:
    return _("⭐ Default groups")


def BTN_ADMIN_CHECK_SESSIONS() -> str:
    return _("🔍 Check sessions")


def BTN_ADMIN_BACK() -> str:
    return _("« Admin panel")


def USAGE_ADD_DEFAULT_GROUPS() -> str:
    return _("Usage: /adddefaultgroups followed by the groups (@name, t.me links or -100 ids)")


def usage(line: str) -> str:
    """A command given the wrong number of arguments; ``line``: how to call it."""
    return _("Usage: {line}", line=line)


# --- refused admin input (plain text: InputError / NotFound / PairInUse.user_message) -----------------


# What a number is, completing "... must be a whole number from 1 to 100".
def USER_ID() -> str:
    return _("The user id")


def out_of_range(what: str, low: int, high: int, value: int) -> str:
    return _("{what} must be from {low} to {high}, not {value}.", what=what, low=low, high=high, value=value)


def not_a_whole_number(what: str, low: int, high: int, shown: str) -> str:
    """``shown``: the input as typed, shortened."""
    return _(
        "{what} must be a whole number from {low} to {high}, not “{shown}”.",
        what=what,
        low=low,
        high=high,
        shown=shown,
    )


def no_customer_unchanged(user_id: int) -> str:
    return _("There is no customer with id {user_id}: nothing was changed.", user_id=user_id)


def admin_panel() -> str:
    return (
        _("🛠 <b>Admin panel</b>\n\n"
        "/pool: sessions per state and API pair usage\n"
        "/pairs, /addpair <code>api_id api_hash</code>, /delpair <code>api_id</code>\n"
        "/grant <code>user_id sessions days</code>: create or extend a plan\n"
        "/revoke <code>user_id</code>: end a plan, sessions back to the pool\n"
        "/customers: plans, status, sessions, today's sends\n"
        "/defaultgroups, /adddefaultgroups <code>groups</code>\n"
        "/health: engine, pool, sends of the last hour\n"
        "/checksessions: connect idle and quarantined sessions\n"
        "/reach <code>user_id</code>: a customer's unreachable groups and the pool sessions in them\n\n"
        "/join <code>sessions group</code>: make sessions join a group (paced), /joins: their outcome\n\n"
        "📥 To add sessions, send <code>.session</code> files (with their <code>.json</code> sidecars) "
        "or a <code>.zip</code> of them here.")
    )


def pool_status(status: Mapping[str, Any]) -> str:
    s = status["sessions"]
    lines = [
        _("📦 <b>Session pool</b>"),
        _("Free (unused): <b>{unused}</b>", unused=s["unused"]),
        _("Assigned: {assigned} · cooling: {cooling}", assigned=s["assigned"], cooling=s["cooling"]),
        _(
            "Limited: {limited} · frozen: {frozen} · dead: {dead}",
            limited=s["limited"],
            frozen=s.get("frozen", 0),
            dead=s["dead"],
        ),
        _("Total: {status}", status=status["total"]),
        "",
    ]
    pairs = status["pairs"]
    if pairs:
        lines.append(
            n_(
                "🔑 <b>API pairs</b> (sessions used / capacity; {n} free slot)",
                "🔑 <b>API pairs</b> (sessions used / capacity; {n} free slots)",
                status["pair_slots_free"],
            )
        )
        lines += [
            f"• <code>{p['api_id']}</code>: {p['used']}/{p['capacity']}" + (_(" (full)") if p["full"] else "")
            for p in pairs
        ]
    else:
        lines.append(_("🔑 No API pairs yet: add one with /addpair."))
    if status.get("waiting_for_pair"):
        lines.append(
            n_(
                "⏳ {n} session wait for an API pair (none has room): /addpair",
                "⏳ {n} sessions wait for an API pair (none has room): /addpair",
                status["waiting_for_pair"],
            )
        )
    if status["customers"]:
        lines += ["", _("👥 <b>Sessions per customer</b>")]
        lines += [
            f"• <code>{c['customer_id']}</code>: {c['total']}"
            + (_(" ({cooling} cooling)", cooling=c["cooling"]) if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)


def _customer_line(line: CustomerRow, now: float) -> str:
    c = line.customer
    plan = (
        n_(
            "plan {n} session until {plan_expires_at} ({when})",
            "plan {n} sessions until {plan_expires_at} ({when})",
            c.plan_sessions,
            plan_expires_at=fmt_time(c.plan_expires_at),
            when=relative(c.plan_expires_at, now),
        )
        if line.plan_active
        else _("plan ended {plan_expires_at}", plan_expires_at=fmt_time(min(c.plan_expires_at, now)))
    )
    if c.status == "running":
        status = _("▶ running")
    else:
        status = _("⏹ stopped") + (f" ({esc(c.stop_reason)})" if c.stop_reason else "")
    cooling = _(" ({cooling} cooling)", cooling=line.cooling) if line.cooling else ""
    return _(
        "• <code>{user_id}</code>: {plan}\n"
        "  {status}; sessions {sessions}{cooling}; groups {groups}; today {sent_today} sent, "
        "{failed_today} failed",
        user_id=c.user_id,
        plan=plan,
        status=status,
        sessions=line.sessions,
        cooling=cooling,
        groups=line.groups,
        sent_today=line.sent_today,
        failed_today=line.failed_today,
    )


def customers_list(lines: Sequence[CustomerRow], now: float) -> str:
    if not lines:
        return _("👥 No customers yet. Create one with /grant <code>user_id sessions days</code>.")
    active = sum(1 for line in lines if line.plan_active)
    head = _(
        "👥 <b>Customers</b> ({count}, {active} with an active plan; today = since 00:00 UTC)",
        count=len(lines),
        active=active,
    )
    return "\n".join([head, *(_customer_line(line, now) for line in lines)])


def default_groups(refs: Sequence[str]) -> str:
    if not refs:
        return _(
            "⭐ No default groups yet. Add them with /adddefaultgroups followed by the groups "
            "(@name, t.me links or -100 ids, one per line)."
        )
    lines = [_("⭐ <b>Default groups</b> ({count}): customers can add them all with one button.", count=len(refs))]
    lines += [f"• <code>{esc(ref)}</code>" for ref in refs]
    return "\n".join(lines)


def default_groups_added(result: DefaultGroupsResult) -> str:
    lines = [
        _(
            "⭐ Default groups: {count} added, {count_2} already there",
            count=len(result.added),
            count_2=len(result.existing),
        )
        + (_(", {count} not understood.", count=len(result.bad)) if result.bad else ".")
    ]
    lines += [f"➕ <code>{esc(ref)}</code>" for ref in result.added]
    lines += [_("• <code>{ref}</code> (already there)", ref=esc(ref)) for ref in result.existing]
    lines += [f"❌ {esc(reason)}" for _skipped, reason in result.bad]  # the reason quotes the item
    return "\n".join(lines)


def health(report: Health) -> str:
    now = report.now
    e = report.engine
    c = report.cycles
    lines = [_("🩺 <b>Health</b>")]
    if e is None:
        lines.append(_("Engine: not running in this process"))
    else:
        # i18n: words inside an f-string value are not translated yet
        lines.append(_("Engine: {value}", value="✅ running" if e.running else "❌ not running"))
        # i18n: words inside an f-string value are not translated yet
        lines.append(_("Scheduler: {value}", value="✅ running" if e.scheduler_running else "❌ stopped"))
    lines.append(_("Running campaigns: {running_campaigns}", running_campaigns=c.running_campaigns))
    lines.append(_("Last cycle started: {when}", when=ago(c.last_started_at, now)))
    lines.append(_("Last cycle finished: {when}", when=ago(c.last_finished_at, now)))
    if e is not None:
        lines.append(
            _(
                "Cycles in progress: {cycles_in_progress}; sends in flight: {sends_in_flight}",
                cycles_in_progress=e.cycles_in_progress,
                sends_in_flight=e.sends_in_flight,
            )
        )
        lines.append(_("Scheduling lag (last cycle): {duration}", duration=fmt_duration(e.lag)))
    s = report.sessions
    lines.append(
        _(
            "Pool: {unused} free, {assigned} assigned, {cooling} cooling, {limited} limited, {frozen} frozen, "
            "{dead} dead",
            unused=s["unused"],
            assigned=s["assigned"],
            cooling=s["cooling"],
            limited=s["limited"],
            frozen=s.get("frozen", 0),
            dead=s["dead"],
        )
    )
    for session_id, until in report.quarantine:
        when = f"{fmt_time(until)} ({relative(until, now)})" if until is not None else _("after its next check")
        lines.append(_("  🔒 #{session_id} in quarantine: returns not before {when}", session_id=session_id, when=when))
    h = report.last_hour
    lines.append(
        _("Last hour: {sent} sent, {failed} failed", sent=h.sent, failed=h.failed)
        + (_(", {other} other", other=h.other) if h.other else "")
    )
    if report.limits is not None:
        lines += [esc(line) for line in limit_texts.health_lines(report.limits)]
    if e is not None:
        lines.append(_("Uptime: {duration}", duration=fmt_duration(e.uptime)))
    if report.proxies is not None:
        lines += proxy_texts.health_lines(report.proxies, html=True)
    return "\n".join(lines)


def CHECK_STATE_CHANGED() -> str:
    return _("state changed before the check")


def CHECK_BUSY() -> str:
    """A session check's detail: the session was assigned (or retired) while the check waited."""
    return _("busy: its dialogs are being read right now, check it again in a minute")


def CHECK_SESSIONS_STARTED() -> str:
    return _("🔍 Checking the idle and quarantined sessions: this can take a moment…")


CHECK_LABELS = {
    "healthy": N_("✅ alive"),
    "released": N_("♻ alive again, back in the pool"),
    "quarantined": N_("🔒 still in quarantine"),
    "dead": N_("☠ dead (moved to banned)"),
    "limited": N_("⚠ limited (quarantined)"),
    "frozen": N_("🧊 frozen by Telegram (moved to frozen)"),
    "cooling": N_("⏳ flood wait"),
    "error": N_("❔ could not check"),
}


def check_sessions(results: Sequence[SessionCheck]) -> str:
    if not results:
        return _("🔍 There is no idle or quarantined session to check.")
    lines = [_("🔍 <b>Session check</b>: {count} checked", count=len(results))]
    for outcome, marked in CHECK_LABELS.items():
        label = tr(marked)
        group = [r for r in results if r.outcome == outcome]
        if not group:
            continue
        if outcome in ("healthy", "released"):
            ids = ", ".join(f"#{r.session_id}" for r in group)
            lines.append(f"{label}: {len(group)} ({ids})")
        elif outcome == "quarantined":
            lines.append(f"{label}: {len(group)}")
            lines += [
                _(
                    "  #{session_id}: not before {value}",
                    session_id=r.session_id,
                    value=fmt_time(r.until) if r.until else "?",
                )
                for r in group
            ]
        else:
            lines.append(f"{label}: {len(group)}")
            lines += [f"  #{r.session_id}: {esc(r.detail or '?')}" for r in group]
    return "\n".join(lines)


def upload_summary(report: Upload) -> str:
    accepted, rejected = report.accepted, report.rejected
    lines = [_("📥 <b>Upload</b>: accepted {count}, rejected {count_2}", count=len(accepted), count_2=len(rejected))]
    lines += [
        _("✅ {filename} → session #{session_id}", filename=esc(r.filename), session_id=r.session_id)
        + (f" ({intake.WAITS_FOR_PAIR()})" if r.waiting else "")
        + (f" ({esc(r.note)})" if r.note else "")
        for r in accepted
    ]
    lines += [f"❌ {esc(r.filename)}: {esc(r.reason or 'rejected')}" for r in rejected]
    lines.append(_("Free sessions in the pool now: {free_after}", free_after=report.free_after))
    return "\n".join(lines)


# --- the command line and start-up reports (plain text, no markup) ------------------------------------


def pool_status_plain(status: Mapping[str, Any]) -> str:
    """``adbot pool status``: the same data as ``pool_status``, for a terminal."""
    s = status["sessions"]
    lines = [
        _(
            "Sessions: {status} total, {unused} free, {assigned} assigned, {cooling} cooling, {limited} limited, "
            "{frozen} frozen, {dead} dead",
            status=status["total"],
            unused=s["unused"],
            assigned=s["assigned"],
            cooling=s["cooling"],
            limited=s["limited"],
            frozen=s.get("frozen", 0),
            dead=s["dead"],
        ),
    ]
    if status["pairs"]:
        lines.append(n_("API pairs ({n} free slot):", "API pairs ({n} free slots):", status["pair_slots_free"]))
        lines += [
            f"  {p['api_id']}: {p['used']}/{p['capacity']}" + (_(" (full)") if p["full"] else "")
            for p in status["pairs"]
        ]
    else:
        lines.append(_("API pairs: none (add one with 'adbot pairs add API_ID API_HASH')"))
    if status.get("waiting_for_pair"):
        lines.append(
            n_(
                "{n} session wait for an API pair (none has room): 'adbot pairs add'",
                "{n} sessions wait for an API pair (none has room): 'adbot pairs add'",
                status["waiting_for_pair"],
            )
        )
    if status["customers"]:
        lines.append(_("Customers:"))
        lines += [
            n_(
                "  {customer_id}: {n} session",
                "  {customer_id}: {n} sessions",
                c["total"],
                customer_id=c["customer_id"],
            )
            + (_(", {cooling} cooling", cooling=c["cooling"]) if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)


# The findings of the start-up check of the session folders (``pool.reconcile``), one line each.


def side_files(file_name: str) -> str:
    """What moved when only a session's SQLite side files (journal, WAL) were out of place."""
    return _("{file_name} (side files)", file_name=file_name)


def folder_moved(name: str, src: str, dst: str) -> str:
    return _("moved {name}: {src}/ -> {dst}/", name=name, src=src, dst=dst)


def folder_unknown_file(path: str) -> str:
    return _("unknown file (left in place): {path}", path=path)


def folder_file_missing(session_id: int, folder: str) -> str:
    return _("session #{session_id}: file missing from {folder}", session_id=session_id, folder=folder)


def interrupted_uploads(completed: int, removed: int) -> str:
    """Start-up settled the leftovers of uploads a crash interrupted (``pool.staging``)."""
    return _(
        "interrupted uploads: {completed} completed (their rows had been saved), {removed} removed (never saved)",
        completed=completed,
        removed=removed,
    )


def folder_conflict(session_id: int, paths: Sequence[str]) -> str:
    return _(
        "session #{session_id}: file found in several places, left alone: {join}",
        session_id=session_id,
        join=", ".join(paths),
    )
