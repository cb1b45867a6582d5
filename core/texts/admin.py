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

from core.texts import intake
from core.texts import limits as limit_texts
from core.texts import proxy as proxy_texts
from core.texts.fmt import ago, esc, fmt_duration, fmt_time, relative

# --- what the reports read -----------------------------------------------------------------------------


class Pair(Protocol):
    """An API pair (``storage.pairs.ApiPair``)."""

    @property
    def api_id(self) -> int: ...
    @property
    def api_hash(self) -> str: ...
    @property
    def used(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def full(self) -> bool: ...


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

BTN_ADMIN_POOL = "📦 Pool"
BTN_ADMIN_PAIRS = "🔑 API pairs"
BTN_ADMIN_CUSTOMERS = "👥 Customers"
BTN_ADMIN_HEALTH = "🩺 Health"
BTN_ADMIN_DEFAULT_GROUPS = "⭐ Default groups"
BTN_ADMIN_CHECK_SESSIONS = "🔍 Check sessions"
BTN_ADMIN_BACK = "« Admin panel"

# Usage lines: plain text (they become InputError.user_message, which the error handler escapes).
USAGE_ADDPAIR = "Usage: /addpair <api_id> <api_hash> (both from my.telegram.org)"
USAGE_DELPAIR = "Usage: /delpair <api_id> [move]  (move: its sessions go to other pairs with room)"
USAGE_ADD_DEFAULT_GROUPS = "Usage: /adddefaultgroups followed by the groups (@name, t.me links or -100 ids)"


def usage(line: str) -> str:
    """A command given the wrong number of arguments; ``line``: how to call it."""
    return f"Usage: {line}"


# --- refused admin input (plain text: InputError / NotFound / PairInUse.user_message) -----------------

# What a number is, completing "... must be a whole number from 1 to 100".
USER_ID = "The user id"


def out_of_range(what: str, low: int, high: int, value: int) -> str:
    return f"{what} must be from {low} to {high}, not {value}."


def not_a_whole_number(what: str, low: int, high: int, shown: str) -> str:
    """``shown``: the input as typed, shortened."""
    return f"{what} must be a whole number from {low} to {high}, not “{shown}”."


def no_customer_unchanged(user_id: int) -> str:
    return f"There is no customer with id {user_id}: nothing was changed."


API_ID_INVALID = "The API id must be a positive whole number, as shown on my.telegram.org."
API_HASH_INVALID = "The API hash must be exactly 32 hexadecimal characters (0-9, a-f)."


def api_id_exists(api_id: int) -> str:
    return f"The API id {api_id} is already in the pool."


def no_pair(api_id: int) -> str:
    return f"There is no API pair with id {api_id}."


def pair_in_use(api_id: int, sessions: int) -> str:
    return (
        f"The API pair {api_id} is used by {sessions} session(s); each keeps its API id for life, so it is"
        f" not removed. To move them to other pairs with room (their API id changes once): /delpair {api_id}"
        f" move, or 'adbot pairs remove {api_id} --move'."
    )


def no_room_to_move(api_id: int, sessions: int, room: int) -> str:
    return (
        f"The API pair {api_id} is used by {sessions} session(s), but the other pairs have room for only"
        f" {room}: nothing was moved or removed. Add an API pair first."
    )


def admin_panel() -> str:
    return (
        "🛠 <b>Admin panel</b>\n\n"
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
        "or a <code>.zip</code> of them here."
    )


def _mask_hash(api_hash: str) -> str:
    return f"{api_hash[:4]}…{api_hash[-2:]}" if len(api_hash) > 8 else "…"


def pool_status(status: Mapping[str, Any]) -> str:
    s = status["sessions"]
    lines = [
        "📦 <b>Session pool</b>",
        f"Free (unused): <b>{s['unused']}</b>",
        f"Assigned: {s['assigned']} · cooling: {s['cooling']}",
        f"Limited: {s['limited']} · frozen: {s.get('frozen', 0)} · dead: {s['dead']}",
        f"Total: {status['total']}",
        "",
    ]
    pairs = status["pairs"]
    if pairs:
        lines.append(f"🔑 <b>API pairs</b> (sessions used / capacity; {status['pair_slots_free']} free slot(s))")
        lines += [
            f"• <code>{p['api_id']}</code>: {p['used']}/{p['capacity']}" + (" (full)" if p["full"] else "")
            for p in pairs
        ]
    else:
        lines.append("🔑 No API pairs yet: add one with /addpair.")
    if status.get("waiting_for_pair"):
        lines.append(f"⏳ {status['waiting_for_pair']} session(s) wait for an API pair (none has room): /addpair")
    if status["customers"]:
        lines += ["", "👥 <b>Sessions per customer</b>"]
        lines += [
            f"• <code>{c['customer_id']}</code>: {c['total']}" + (f" ({c['cooling']} cooling)" if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)


def pairs_list(pairs: Sequence[Pair]) -> str:
    if not pairs:
        return "🔑 No API pairs yet. Add one with /addpair <code>api_id api_hash</code>."
    lines = [f"🔑 <b>API pairs</b> ({len(pairs)})"]
    lines += [
        f"• <code>{p.api_id}</code> hash <code>{esc(_mask_hash(p.api_hash))}</code>: {p.used}/{p.capacity} sessions"
        + (" (full)" if p.full else "")
        for p in pairs
    ]
    return "\n".join(lines)


def addpair_in_group(message_deleted: bool) -> str:
    """/addpair sent outside a private chat: never added, the hash is treated as seen by the group."""
    done = (
        "I deleted it there"
        if message_deleted
        else "⚠ I could not delete it there (I need the right to delete messages): delete it yourself"
    )
    return (
        "🔒 /addpair works only in a private chat with me, so I did not add that pair. "
        f"Your message in the group contained the API hash: {done}, and treat the hash as seen by the group."
    )


def pair_added(pair: Pair, message_deleted: bool) -> str:
    note = (
        "I deleted your message because it contained the hash."
        if message_deleted
        else "⚠ I could not delete your message: delete it yourself, it contains the hash."
    )
    using = f"\n{pair.used} session(s) connect with its API id now (waiting ones got it, for life)."
    using = using if pair.used else ""
    return (
        f"✅ API pair <code>{pair.api_id}</code> added (hash <code>{esc(_mask_hash(pair.api_hash))}</code>, "
        f"up to {pair.capacity} sessions).{using}\n{note}"
    )


def pair_removed(api_id: int, moved: Sequence[tuple[int, int]] = ()) -> str:
    """``moved``: (session id, the API id it connects with from now on) for each session moved off it."""
    lines = [f"✅ API pair <code>{api_id}</code> removed."]
    if moved:
        lines.append(f"{len(moved)} session(s) moved to other pairs (their API id changed once, as you chose):")
        lines += [f"• session #{sid} → API id <code>{new}</code>" for sid, new in moved]
    return "\n".join(lines)


def _customer_line(line: CustomerRow, now: float) -> str:
    c = line.customer
    plan = (
        f"plan {c.plan_sessions} session(s) until {fmt_time(c.plan_expires_at)} ({relative(c.plan_expires_at, now)})"
        if line.plan_active
        else f"plan ended {fmt_time(min(c.plan_expires_at, now))}"
    )
    if c.status == "running":
        status = "▶ running"
    else:
        status = "⏹ stopped" + (f" ({esc(c.stop_reason)})" if c.stop_reason else "")
    cooling = f" ({line.cooling} cooling)" if line.cooling else ""
    return (
        f"• <code>{c.user_id}</code>: {plan}\n"
        f"  {status}; sessions {line.sessions}{cooling}; groups {line.groups}; "
        f"today {line.sent_today} sent, {line.failed_today} failed"
    )


def customers_list(lines: Sequence[CustomerRow], now: float) -> str:
    if not lines:
        return "👥 No customers yet. Create one with /grant <code>user_id sessions days</code>."
    active = sum(1 for line in lines if line.plan_active)
    head = f"👥 <b>Customers</b> ({len(lines)}, {active} with an active plan; today = since 00:00 UTC)"
    return "\n".join([head, *(_customer_line(line, now) for line in lines)])


def default_groups(refs: Sequence[str]) -> str:
    if not refs:
        return (
            "⭐ No default groups yet. Add them with /adddefaultgroups followed by the groups "
            "(@name, t.me links or -100 ids, one per line)."
        )
    lines = [f"⭐ <b>Default groups</b> ({len(refs)}): customers can add them all with one button."]
    lines += [f"• <code>{esc(ref)}</code>" for ref in refs]
    return "\n".join(lines)


def default_groups_added(result: DefaultGroupsResult) -> str:
    lines = [f"⭐ Default groups: {len(result.added)} added, {len(result.existing)} already there"
             + (f", {len(result.bad)} not understood." if result.bad else ".")]
    lines += [f"➕ <code>{esc(ref)}</code>" for ref in result.added]
    lines += [f"• <code>{esc(ref)}</code> (already there)" for ref in result.existing]
    lines += [f"❌ {esc(reason)}" for _, reason in result.bad]  # the reason quotes the item
    return "\n".join(lines)


def health(report: Health) -> str:
    now = report.now
    e = report.engine
    c = report.cycles
    lines = ["🩺 <b>Health</b>"]
    if e is None:
        lines.append("Engine: not running in this process")
    else:
        lines.append(f"Engine: {'✅ running' if e.running else '❌ not running'}")
        lines.append(f"Scheduler: {'✅ running' if e.scheduler_running else '❌ stopped'}")
    lines.append(f"Running campaigns: {c.running_campaigns}")
    lines.append(f"Last cycle started: {ago(c.last_started_at, now)}")
    lines.append(f"Last cycle finished: {ago(c.last_finished_at, now)}")
    if e is not None:
        lines.append(f"Cycles in progress: {e.cycles_in_progress}; sends in flight: {e.sends_in_flight}")
        lines.append(f"Scheduling lag (last cycle): {fmt_duration(e.lag)}")
    s = report.sessions
    lines.append(
        f"Pool: {s['unused']} free, {s['assigned']} assigned, {s['cooling']} cooling, "
        f"{s['limited']} limited, {s.get('frozen', 0)} frozen, {s['dead']} dead"
    )
    for session_id, until in report.quarantine:
        when = f"{fmt_time(until)} ({relative(until, now)})" if until is not None else "after its next check"
        lines.append(f"  🔒 #{session_id} in quarantine: returns not before {when}")
    h = report.last_hour
    lines.append(f"Last hour: {h.sent} sent, {h.failed} failed" + (f", {h.other} other" if h.other else ""))
    if report.limits is not None:
        lines += [esc(line) for line in limit_texts.health_lines(report.limits)]
    if e is not None:
        lines.append(f"Uptime: {fmt_duration(e.uptime)}")
    if report.proxies is not None:
        lines += proxy_texts.health_lines(report.proxies, html=True)
    return "\n".join(lines)


CHECK_STATE_CHANGED = "state changed before the check"
CHECK_BUSY = "busy: its dialogs are being read right now, check it again in a minute"
"""A session check's detail: the session was assigned (or retired) while the check waited."""

CHECK_SESSIONS_STARTED = "🔍 Checking the idle and quarantined sessions: this can take a moment…"

CHECK_LABELS = {
    "healthy": "✅ alive",
    "released": "♻ alive again, back in the pool",
    "quarantined": "🔒 still in quarantine",
    "dead": "☠ dead (moved to banned)",
    "limited": "⚠ limited (quarantined)",
    "frozen": "🧊 frozen by Telegram (moved to frozen)",
    "cooling": "⏳ flood wait",
    "error": "❔ could not check",
}


def check_sessions(results: Sequence[SessionCheck]) -> str:
    if not results:
        return "🔍 There is no idle or quarantined session to check."
    lines = [f"🔍 <b>Session check</b>: {len(results)} checked"]
    for outcome, label in CHECK_LABELS.items():
        group = [r for r in results if r.outcome == outcome]
        if not group:
            continue
        if outcome in ("healthy", "released"):
            ids = ", ".join(f"#{r.session_id}" for r in group)
            lines.append(f"{label}: {len(group)} ({ids})")
        elif outcome == "quarantined":
            lines.append(f"{label}: {len(group)}")
            lines += [f"  #{r.session_id}: not before {fmt_time(r.until) if r.until else '?'}" for r in group]
        else:
            lines.append(f"{label}: {len(group)}")
            lines += [f"  #{r.session_id}: {esc(r.detail or '?')}" for r in group]
    return "\n".join(lines)


def upload_summary(report: Upload) -> str:
    accepted, rejected = report.accepted, report.rejected
    lines = [f"📥 <b>Upload</b>: accepted {len(accepted)}, rejected {len(rejected)}"]
    lines += [
        f"✅ {esc(r.filename)} → session #{r.session_id}"
        + (f" ({intake.WAITS_FOR_PAIR})" if r.waiting else "")
        + (f" ({esc(r.note)})" if r.note else "")
        for r in accepted
    ]
    lines += [f"❌ {esc(r.filename)}: {esc(r.reason or 'rejected')}" for r in rejected]
    lines.append(f"Free sessions in the pool now: {report.free_after}")
    return "\n".join(lines)


# --- the command line and start-up reports (plain text, no markup) ------------------------------------


def pool_status_plain(status: Mapping[str, Any]) -> str:
    """``adbot pool status``: the same data as ``pool_status``, for a terminal."""
    s = status["sessions"]
    lines = [
        f"Sessions: {status['total']} total, {s['unused']} free, {s['assigned']} assigned,"
        f" {s['cooling']} cooling, {s['limited']} limited, {s.get('frozen', 0)} frozen, {s['dead']} dead",
    ]
    if status["pairs"]:
        lines.append(f"API pairs ({status['pair_slots_free']} free slot(s)):")
        lines += [
            f"  {p['api_id']}: {p['used']}/{p['capacity']}" + (" (full)" if p["full"] else "")
            for p in status["pairs"]
        ]
    else:
        lines.append("API pairs: none (add one with 'adbot pairs add API_ID API_HASH')")
    if status.get("waiting_for_pair"):
        lines.append(f"{status['waiting_for_pair']} session(s) wait for an API pair (none has room): 'adbot pairs add'")
    if status["customers"]:
        lines.append("Customers:")
        lines += [
            f"  {c['customer_id']}: {c['total']} session(s)" + (f", {c['cooling']} cooling" if c["cooling"] else "")
            for c in status["customers"]
        ]
    return "\n".join(lines)


# The findings of the start-up check of the session folders (``pool.reconcile``), one line each.


def side_files(file_name: str) -> str:
    """What moved when only a session's SQLite side files (journal, WAL) were out of place."""
    return f"{file_name} (side files)"


def folder_moved(name: str, src: str, dst: str) -> str:
    return f"moved {name}: {src}/ -> {dst}/"


def folder_unknown_file(path: str) -> str:
    return f"unknown file (left in place): {path}"


def folder_file_missing(session_id: int, folder: str) -> str:
    return f"session #{session_id}: file missing from {folder}"


def interrupted_uploads(completed: int, removed: int) -> str:
    """Start-up settled the leftovers of uploads a crash interrupted (``pool.staging``)."""
    return (
        f"interrupted uploads: {completed} completed (their rows had been saved), {removed} removed"
        " (never saved)"
    )


def folder_conflict(session_id: int, paths: Sequence[str]) -> str:
    return f"session #{session_id}: file found in several places, left alone: {', '.join(paths)}"
