"""What an admin reads: the admin commands and panel, and the reports behind them.

HTML, except where a section says plain text: usage lines and refused input (they become
``InputError`` / ``NotFound`` / ``PairInUse.user_message``, which the error handler escapes, and the
CLI prints), and the command line's and start-up's reports. The reports read the services' results
through the small read-only shapes below, so the texts stay in the bottom layer: any object with those
attributes will do (the services' dataclasses do).

Texts the command line prints too (the API pair errors, refused numbers) keep their English exactly as
the terminal always printed it: the terminal reads no locale, so it gets each msgid as written. The
command line's own reports (``pool_status_plain``, the start-up check's findings) are not translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.i18n import N_, _, n_
from core.texts import intake
from core.texts import limits as limit_texts
from core.texts import proxy as proxy_texts
from core.texts.fmt import ago, esc, fmt_duration, fmt_time, relative, tr
from core.texts.outcomes import reason_text

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
    @property
    def lacks(self) -> Sequence[str]: ...  # a waiting one: what it lacks to connect (``pool.intake.NO_*``)


class Upload(Protocol):
    """One batch of uploaded files (``services.admin.UploadReport``)."""

    @property
    def accepted(self) -> Sequence[UploadedFile]: ...
    @property
    def rejected(self) -> Sequence[UploadedFile]: ...
    @property
    def free_after(self) -> int: ...


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


# --- usage lines (plain text: they become InputError.user_message, which the error handler escapes) ------
# Each ``USAGE_*`` is how to call a command, without "Usage:": ``usage()`` says that, once.


def USAGE_ADD_DEFAULT_GROUPS() -> str:
    """Raised as it is (not through ``usage``): it says "Usage:" itself."""
    return _("Usage: /adddefaultgroups followed by the groups (@name, t.me links or -100 ids)")


def usage(line: str) -> str:
    """A command given the wrong number of arguments; ``line``: how to call it (a ``USAGE_*`` text, or
    a command's syntax like ``/reach <user_id>``)."""
    return _("Usage: {line}", line=line)


# --- refused admin input (plain text: InputError / NotFound / PairInUse.user_message) -----------------


def out_of_range(what: str, low: int, high: int, value: int) -> str:
    return _("{what} must be from {low} to {high}, not {value}.", what=what, low=low, high=high, value=value)


def not_a_whole_number(what: str, low: int, high: int, shown: str) -> str:
    """``shown``: the input as typed, shortened."""
    return _("{what} must be a whole number from {low} to {high}, not “{shown}”.", what=what, low=low, high=high,
             shown=shown)


def not_a_user_id(shown: str) -> str:
    """``shown``: the input as typed, shortened (``control_bot.services.ids``)."""
    return _("“{shown}” is not a user id I know: a user id is a number like 123456789.", shown=shown)


def not_a_session_number(shown: str) -> str:
    """``shown``: the input as typed, shortened (``control_bot.services.ids``)."""
    return _("“{shown}” is not a session number I know: a session is named by its number, like 12 (#12 in"
             " the reports).", shown=shown)


def no_customer_unchanged(user_id: int) -> str:
    return _("There is no customer with id {user_id}: nothing was changed.", user_id=user_id)


# --- the panel and the reports (HTML) ----------------------------------------------------------------


def admin_panel() -> str:
    return _(
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


def _pair_line(api_id: object, used: object, capacity: object, full: bool) -> str:
    if full:
        return _("• <code>{api_id}</code>: {used}/{capacity} (full)", api_id=api_id, used=used, capacity=capacity)
    return f"• <code>{api_id}</code>: {used}/{capacity}"


def pool_status(status: Mapping[str, Any]) -> str:
    s = status["sessions"]
    lines = [
        _("📦 <b>Session pool</b>"),
        _("Free (unused): <b>{free}</b>", free=s["unused"]),
        _("Assigned: {assigned} · cooling: {cooling}", assigned=s["assigned"], cooling=s["cooling"]),
        _("Limited: {limited} · frozen: {frozen} · dead: {dead}", limited=s["limited"], frozen=s.get("frozen", 0),
          dead=s["dead"]),
        _("Total: {total}", total=status["total"]),
        "",
    ]
    pairs = status["pairs"]
    if pairs:
        lines.append(n_(
            "🔑 <b>API pairs</b> (sessions used / capacity; {n} free slot)",
            "🔑 <b>API pairs</b> (sessions used / capacity; {n} free slots)",
            status["pair_slots_free"],
        ))
        lines += [_pair_line(p["api_id"], p["used"], p["capacity"], bool(p["full"])) for p in pairs]
    else:
        lines.append(_("🔑 No API pairs yet: add one with /addpair."))
    waiting = status.get("waiting_for_pair")
    if waiting:
        lines.append(n_(
            "⏳ {n} session waits for an API pair (none has room): /addpair",
            "⏳ {n} sessions wait for an API pair (none has room): /addpair",
            waiting,
        ))
    if status["customers"]:
        lines += ["", _("👥 <b>Sessions per customer</b>")]
        for c in status["customers"]:
            if c["cooling"]:
                lines.append(_("• <code>{customer}</code>: {total} ({cooling} cooling)", customer=c["customer_id"],
                               total=c["total"], cooling=c["cooling"]))
            else:
                lines.append(f"• <code>{c['customer_id']}</code>: {c['total']}")
    return "\n".join(lines)


# Why a campaign stopped, as an admin reads it (the customer's own wording says "you"): the keys the
# engine and services store; anything else (an outcome kind, a Telegram error, words an older version
# stored) is worded as the customer's screens word it.
_STOP_REASONS: Mapping[str, str] = {
    "by_customer": N_("by the customer"),
    "plan_expired": N_("the plan expired"),
    "no_post": N_("no post is set"),
    "restart": N_("the service restarted"),
    "shutdown": N_("the service restarted"),
    "revoked": N_("plan revoked by an admin"),
    "plan revoked by an admin": N_("plan revoked by an admin"),
}


def stop_reason_text(reason: str) -> str:
    """A stored stop reason for an admin (HTML-escaped)."""
    words = _STOP_REASONS.get(reason)
    return esc(tr(words)) if words is not None else reason_text(reason)


def _customer_line(line: CustomerRow, now: float) -> str:
    c = line.customer
    if line.plan_active:
        plan = n_(
            "• <code>{customer}</code>: plan {n} session until {until} ({relative})",
            "• <code>{customer}</code>: plan {n} sessions until {until} ({relative})",
            c.plan_sessions,
            customer=c.user_id,
            until=fmt_time(c.plan_expires_at),
            relative=relative(c.plan_expires_at, now),
        )
    else:
        plan = _("• <code>{customer}</code>: plan ended {time}", customer=c.user_id,
                 time=fmt_time(min(c.plan_expires_at, now)))
    if c.status == "running":
        status = _("▶ running")
    elif c.stop_reason:
        status = _("⏹ stopped ({reason})", reason=stop_reason_text(c.stop_reason))
    else:
        status = _("⏹ stopped")
    if line.cooling:
        today = _(
            "  {status}; sessions {sessions} ({cooling} cooling); groups {groups}; today {sent} sent, {failed} failed",
            status=status, sessions=line.sessions, cooling=line.cooling, groups=line.groups, sent=line.sent_today,
            failed=line.failed_today,
        )
    else:
        today = _(
            "  {status}; sessions {sessions}; groups {groups}; today {sent} sent, {failed} failed",
            status=status, sessions=line.sessions, groups=line.groups, sent=line.sent_today, failed=line.failed_today,
        )
    return f"{plan}\n{today}"


def customers_list(lines: Sequence[CustomerRow], now: float) -> str:
    if not lines:
        return _("👥 No customers yet. Create one with /grant <code>user_id sessions days</code>.")
    active = sum(1 for line in lines if line.plan_active)
    head = _("👥 <b>Customers</b> ({count}, {active} with an active plan; today = since 00:00 UTC)",
             count=len(lines), active=active)
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
    added, existing = len(result.added), len(result.existing)
    if result.bad:
        head = _("⭐ Default groups: {added} added, {existing} already there, {bad} not understood.", added=added,
                 existing=existing, bad=len(result.bad))
    else:
        head = _("⭐ Default groups: {added} added, {existing} already there.", added=added, existing=existing)
    lines = [head]
    lines += [f"➕ <code>{esc(ref)}</code>" for ref in result.added]
    lines += [_("• <code>{group}</code> (already there)", group=esc(ref)) for ref in result.existing]
    lines += [f"❌ {esc(reason)}" for _typed, reason in result.bad]  # the reason quotes the item
    return "\n".join(lines)


def _engine_lines(report: Health) -> list[str]:
    e = report.engine
    if e is None:
        return [_("Engine: not running in this process")]
    return [
        _("Engine: ✅ running") if e.running else _("Engine: ❌ not running"),
        _("Scheduler: ✅ running") if e.scheduler_running else _("Scheduler: ❌ stopped"),
    ]


def health(report: Health) -> str:
    now = report.now
    e = report.engine
    c = report.cycles
    lines = [_("🩺 <b>Health</b>"), *_engine_lines(report)]
    lines.append(_("Running campaigns: {count}", count=c.running_campaigns))
    lines.append(_("Last cycle started: {when}", when=ago(c.last_started_at, now)))
    lines.append(_("Last cycle finished: {when}", when=ago(c.last_finished_at, now)))
    if e is not None:
        lines.append(_("Cycles in progress: {cycles}; sends in flight: {sends}", cycles=e.cycles_in_progress,
                       sends=e.sends_in_flight))
        lines.append(_("Scheduling lag (last cycle): {lag}", lag=fmt_duration(e.lag)))
    s = report.sessions
    lines.append(_(
        "Pool: {unused} free, {assigned} assigned, {cooling} cooling, {limited} limited, {frozen} frozen, {dead} dead",
        unused=s["unused"], assigned=s["assigned"], cooling=s["cooling"], limited=s["limited"],
        frozen=s.get("frozen", 0), dead=s["dead"],
    ))
    for session_id, until in report.quarantine:
        if until is None:
            lines.append(_("  🔒 #{session} in quarantine: returns after its next check", session=session_id))
        else:
            lines.append(_("  🔒 #{session} in quarantine: returns not before {time} ({relative})",
                           session=session_id, time=fmt_time(until), relative=relative(until, now)))
    h = report.last_hour
    if h.other:
        lines.append(_("Last hour: {sent} sent, {failed} failed, {other} other", sent=h.sent, failed=h.failed,
                       other=h.other))
    else:
        lines.append(_("Last hour: {sent} sent, {failed} failed", sent=h.sent, failed=h.failed))
    if report.limits is not None:
        lines += [esc(line) for line in limit_texts.health_lines(report.limits)]
    if e is not None:
        lines.append(_("Uptime: {uptime}", uptime=fmt_duration(e.uptime)))
    if report.proxies is not None:
        lines += proxy_texts.health_lines(report.proxies, html=True)
    return "\n".join(lines)


# --- /checksessions --------------------------------------------------------------------------------------


def CHECK_SESSIONS_STARTED() -> str:
    return _("🔍 Checking the idle and quarantined sessions: this can take a moment…")


CHECK_LABELS: Mapping[str, str] = {
    "healthy": N_("✅ alive"),
    "released": N_("♻ alive again, back in the pool"),
    "quarantined": N_("🔒 still in quarantine"),
    "dead": N_("☠ dead (moved to banned)"),
    "limited": N_("⚠ limited (quarantined)"),
    "frozen": N_("🧊 frozen by Telegram (moved to frozen)"),
    "cooling": N_("⏳ flood wait"),
    "error": N_("❔ could not check"),
}
"""A check's outcome (``pool.health.CheckOutcome``) in words: translated where shown (``check_label``)."""


def check_label(outcome: str) -> str:
    label = CHECK_LABELS.get(outcome)
    return tr(label) if label is not None else outcome


# A check's detail is a key (``pool.health``, ``core.errors``) or a classified error name, worded here.
_CHECK_DETAILS: Mapping[str, str] = {
    "STATE_CHANGED": N_("its state changed before the check (assigned or retired meanwhile)"),
    "BUSY": N_("busy: its dialogs are being read right now, check it again in a minute"),
    "SESSION_NO_PAIR": N_("it waits for an API pair (none had room when it arrived): add one with /addpair"),
    "SESSION_NO_PROXY": N_("it has no proxy and [pool] proxy_required is on: set one with /proxy"),
    "SESSION_FILE_MISSING": N_("its file is missing from its folder"),
    "SESSION_GONE": N_("it no longer exists"),
    "SESSION_UNUSABLE": N_("it could not be opened (the server log says why)"),
    "FloodWaitError": N_("Telegram asked it to wait before connecting again (flood wait)"),
}


def check_detail(detail: str | None) -> str:
    """A check's detail in words (HTML-escaped); a stored text of an older version is shown as it is."""
    if not detail:
        return "?"
    words = _CHECK_DETAILS.get(detail)
    return esc(tr(words)) if words is not None else reason_text(detail)


def check_sessions(results: Sequence[SessionCheck]) -> str:
    if not results:
        return _("🔍 There is no idle or quarantined session to check.")
    lines = [_("🔍 <b>Session check</b>: {count} checked", count=len(results))]
    for outcome in CHECK_LABELS:
        group = [r for r in results if r.outcome == outcome]
        if not group:
            continue
        label = check_label(outcome)
        if outcome in ("healthy", "released"):
            ids = ", ".join(f"#{r.session_id}" for r in group)
            lines.append(f"{label}: {len(group)} ({ids})")
        elif outcome == "quarantined":
            lines.append(f"{label}: {len(group)}")
            lines += [
                _("  #{session}: not before {time}", session=r.session_id, time=fmt_time(r.until))
                if r.until
                else f"  #{r.session_id}: ?"
                for r in group
            ]
        else:
            lines.append(f"{label}: {len(group)}")
            lines += [f"  #{r.session_id}: {check_detail(r.detail)}" for r in group]
    return "\n".join(lines)


# --- an upload's summary ---------------------------------------------------------------------------------


def _accepted(r: UploadedFile) -> str:
    line = _("✅ {file} → session #{session}", file=esc(r.filename), session=r.session_id)
    if r.waiting:
        line += f" ({esc(intake.lacks_note(r.lacks))})"
    if r.note:
        line += f" ({esc(r.note)})"
    return line


def REJECTED() -> str:
    """A refused file whose result carries no reason."""
    return _("rejected")


def upload_summary(report: Upload) -> str:
    accepted, rejected = report.accepted, report.rejected
    lines = [_("📥 <b>Upload</b>: accepted {accepted}, rejected {rejected}", accepted=len(accepted),
               rejected=len(rejected))]
    lines += [_accepted(r) for r in accepted]
    lines += [f"❌ {esc(r.filename)}: {esc(r.reason or REJECTED())}" for r in rejected]
    lines.append(_("Free sessions in the pool now: {count}", count=report.free_after))
    return "\n".join(lines)


# --- the command line's report (plain text, no markup; the terminal prints it in English) -------------


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
                "{n} session waits for an API pair (none has room): 'adbot pairs add'",
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
