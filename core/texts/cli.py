"""What the operator's command line (``adbot``, ``control_bot.cli``) says: the help of each command and
argument, and the lines a command prints. Plain text for a terminal, no markup.

The reports read the services' results through the small read-only shapes of ``core.texts.admin``
(imported for type checking only). Importing this module loads the standard library and nothing else
(``core.texts.fmt`` and Babel are imported by the functions that format a time): ``adbot --help``
imports it (``tests/test_cli_imports.py``).

Left in the code, as the command line's syntax rather than its wording: the command names, the
metavars (``USER_ID``, ``FILE``...), and the keys of ``--json`` output. The pool status and the session
folder findings are the shared plain-text reports of ``core.texts.admin``; a refused upload's reasons
are ``core.texts.intake``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.texts.admin import CustomerRow, Health
    from core.texts.pairs import Pair
    from core.texts.plans import Granted, Revoked

# --- the help: adbot --help, and each command's --help ---------------------------------------------------
# argparse %-formats help strings: a literal percent sign would be written %%.

DESCRIPTION = "Multi-customer Telegram ad-posting service."
HELP_CONFIG = "config file (default: $ADBOT_CONFIG, else ./config.toml)"
HELP_JSON = "machine-readable output"

HELP_VERSION = "print adbot's version (and the database schema version it brings) and exit"
HELP_RUN = "run the control bot and the engine"
HELP_CHECK_CONFIG = "validate a config file and print the effective settings"
HELP_CHECK_CONFIG_ONLINE = "also ask the Bot API whether it accepts the token (getMe)"
HELP_MIGRATE = "bring the database schema up to date (adbot run does it at start too)"
HELP_MIGRATE_CHECK = "only say what would change: current and latest schema version, the migrations that would run"

HELP_POOL = "the session pool: import files, status"
HELP_POOL_IMPORT = "add .session files (with .json sidecars) or .zip archives of them"
HELP_POOL_STATUS = "sessions per state, API pair usage, sessions per customer"
HELP_POOL_RECONCILE = "move session files to the folders the database says"

HELP_PAIRS = "API pairs (api_id, api_hash) for sessions without their own"
HELP_PAIRS_ADD = "add an API pair from my.telegram.org"
HELP_PAIRS_ADD_HASH = "32 hex characters, or - to read it from stdin"
HELP_PAIRS_LIST = "API pairs and how many sessions use each"
HELP_PAIRS_REMOVE = "remove an API pair no session uses (or --move its sessions to other pairs)"
HELP_PAIRS_REMOVE_MOVE = "move the sessions using it to other pairs with room (all or none); their API id changes"

HELP_GRANT = "create a customer or extend their plan (the customer is told)"
HELP_GRANT_USER_ID = "the customer's Telegram user id"
HELP_REVOKE = "end a customer's plan now; their sessions go back to the pool"
HELP_CUSTOMERS = "customers: plan, expiry, status, sessions, sends today"
HELP_HEALTH = "running campaigns, last cycle, pool, sends in the last hour"

HELP_DEMO = "run the whole system offline with a scripted story"
HELP_DEMO_JSON = "print the transcript as JSON lines"


def help_grant_sessions(low: int, high: int) -> str:
    """``low``, ``high``: the bounds of a plan's sessions (``services.admin``)."""
    return f"sessions in the plan ({low}..{high})"


def help_grant_days(low: int, high: int) -> str:
    """``low``, ``high``: the bounds of the days one grant adds."""
    return f"days added to what is left ({low}..{high})"


# --- what the commands print -------------------------------------------------------------------------------


def version_line(version: str | None, schema: int, python: str) -> str:
    """``adbot --version``; ``version`` None: run from a source tree that was never installed."""
    return f"adbot {version or 'unknown (not installed)'} (database schema {schema}, Python {python})"


# adbot check-config: what would stop or cripple the service (stderr, exit code 1).


def finding(key: str, problem: str) -> str:
    return f"finding: {key}: {problem}"


FINDING_NO_TOKEN = "missing: adbot run refuses to start (set it, or ADBOT_BOT__TOKEN)"  # noqa: S105 - wording
FINDING_PLACEHOLDER_TOKEN = "still the example's placeholder: copy the token @BotFather gave you"  # noqa: S105
FINDING_NO_ADMINS = "empty: nobody can upload sessions or grant plans (add your Telegram user id; README)"
FINDING_PLACEHOLDER_ADMIN = "holds the example's 111111111: put your own Telegram user id there (README)"
FINDING_TOKEN_SHAPE = "not shaped like a token from @BotFather (<digits>:<secret>, no spaces)"  # noqa: S105
NOT_A_FOLDER = "exists but is not a folder"


def not_loopback_warning(section: str, host: str, port: int, in_container: bool) -> str:
    """``adbot check-config`` (stderr): [api] or [metrics] listens beyond this machine, in clear HTTP."""
    what = "the API keys and customers' data" if section == "api" else "the service's figures"
    line = (f"warning: {section}.host = {host} is not loopback: {what} travel in clear HTTP to anyone who "
            f"reaches port {port}; listen on 127.0.0.1 (a TLS reverse proxy in front, docs/DEPLOY.md)")
    if in_container:
        line += (f"; fine in a container when published on 127.0.0.1 only "
                 f"(compose: ports: [\"127.0.0.1:{port}:{port}\"])")
    return line
FOLDER_NOT_WRITABLE = "not writable by this user"


def folder_cannot_create(parent: str) -> str:
    """The folder does not exist and ``parent``, its nearest existing parent, does not let us create it."""
    return f"does not exist and cannot be created ({parent} is not writable by this user)"


def findings_summary(count: int) -> str:
    return f"{count} finding(s): fix them before 'adbot run'"


# adbot health: the verdict (stderr in text mode; "status" and "problems" in --json).

HEALTH_NOT_RUNNING = "no adbot run holds the data dir: the service is not running"
HEALTH_NO_DATABASE = "no database yet: the service is starting"
HEALTH_NO_ASSIGNED = "campaigns are running but no session is assigned to any customer"


def health_overdue(count: int, grace: float) -> str:
    return f"{count} running campaign(s) more than {grace / 60:g} min past their due cycle"


def health_starting(since: float, attempt: int, reason: str) -> str:
    """``adbot run`` holds the data dir but has not reached the Bot API yet (``reason``: the last failure)."""
    import time

    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since))
    return f"starting: Bot API unreachable since {when} (attempt {attempt}): {reason}"


def health_only_failures(failed: int) -> str:
    return f"the last hour had {failed} failed send(s) and no delivery"


def health_status(status: str, problems: Sequence[str]) -> str:
    """The verdict line of ``adbot health`` (its exit code: ok 0, degraded 1, down 2)."""
    return f"status: {status}" + (": " + "; ".join(problems) if problems else "")


# adbot migrate [--check]


def schema_versions(path: str, exists: bool, current: int, latest: int) -> str:
    where = path if exists else f"{path} (does not exist yet: the first start creates it)"
    return f"database: {where}\nschema version: {current}, latest: {latest}"


def schema_current(version: int) -> str:
    return f"the schema is up to date (version {version}); nothing to do"


def schema_newer(current: int, latest: int) -> str:
    """The database was migrated by a newer adbot; this one refuses to open it."""
    return (f"the database is at schema version {current}, newer than this adbot knows ({latest}):"
            " upgrade adbot, or restore the backup made before the upgrade (docs/UPGRADING.md)")


def schema_behind(count: int) -> str:
    """A read-only command (``adbot health``, ``customers``...) found a database this adbot has not
    migrated yet: it reads nothing and changes nothing (``adbot migrate`` does, under the lock)."""
    return f"schema {count} behind: run adbot migrate (docs/UPGRADING.md)"


def migration_line(version: int, note: str | None, changes: Sequence[str]) -> str:
    """One migration that would run; ``changes``: 'create table send_days'..., ``note``: its comment."""
    what = ", ".join(changes) if changes else "no schema change (a reserved slot)"
    return f"  would run {version}: {what}" + (f"  -- {note}" if note else "")


def migrations_would_run(count: int) -> str:
    return f"{count} migration(s) would run (each in its own transaction) at the next 'adbot run' or 'adbot migrate'"


def schema_migrated(before: int, after: int) -> str:
    return f"schema migrated from version {before} to {after}"


# Start-up against the Bot API (``control_bot.startup``) and ``adbot check-config --online``.


def token_refused(api: str, answer: str) -> str:
    """The Bot API refused the token (401, or 404 for a malformed one): one line, exit code 2."""
    return (f"config error: bot.token: refused by the Bot API at {api} ({answer.strip() or 'Unauthorized'});"
            " copy the token @BotFather gave you into [bot] token (or ADBOT_BOT__TOKEN)")


def bot_api_unreachable(api: str, reason: str) -> str:
    return f"cannot reach the Bot API at {api}: {reason}"


def startup_attempt(problem: str, attempt: int, attempts: int, retry_in: float | None) -> str:
    """One log line per failed start-up attempt; ``attempts`` 0: no limit; ``retry_in`` None: the last one."""
    of = f"/{attempts}" if attempts else ""
    then = f"; retrying in {retry_in:g} s" if retry_in is not None else "; giving up"
    return f"{problem} (attempt {attempt}{of}){then}"


def token_ok(username: str | None, bot_id: int, api: str) -> str:
    return f"bot token OK: @{username or '?'} (id {bot_id}) at {api}"


def error(message: str) -> str:
    """A command that failed on a domain error (on stderr); ``message``: its ``user_message``."""
    return f"error: {message}"


def already_running(pid: int | None) -> str:
    """A second ``adbot run``, or a CLI command that writes, while another adbot holds the data dir
    (one line on stderr, exit code 1); ``pid``: the holder's, None when it could not be read."""
    return f"already running (pid {pid if pid is not None else 'unknown'})"


def config_ok(path: str | PathLike[str]) -> str:
    """``adbot check-config``, before the effective settings; ``path``: the file it read."""
    return f"config OK: {path}"


# adbot pool import: one line per file, then the count.


def import_accepted(
    filename: str, session_id: int | None, note: str | None = None, waiting: bool = False, lacks: Sequence[str] = ()
) -> str:
    """``lacks``: what a waiting session lacks (``pool.intake.NO_*``), named so the operator knows what to add."""
    if "sidecar_app" in lacks:
        wait = ("  (waits for an API pair: none has room, and its .json sidecar has no app_id and app_hash;"
                " add one with 'adbot pairs add' or import a sidecar with them)")
    elif "sidecar" in lacks:
        wait = ("  (waits for an API pair: none has room, and no .json sidecar came with it;"
                " add one with 'adbot pairs add' or import its sidecar)")
    else:
        wait = "  (waits for an API pair: none has room; add one with 'adbot pairs add')"
    wait = wait if waiting else ""
    return f"accepted  {filename} -> session #{session_id}" + (f" ({note})" if note else "") + wait


def import_rejected(filename: str, reason: str | None) -> str:
    return f"rejected  {filename}: {reason}"


def import_summary(accepted: int, rejected: int) -> str:
    return f"{accepted} accepted, {rejected} rejected"


# Why a file named on the command line could not be read (before ``pool.intake`` sees it).
NOT_A_REGULAR_FILE = "not a regular file"


def cannot_read(reason: str | None) -> str:
    """``reason``: the operating system's explanation (``strerror``)."""
    return f"cannot read it ({reason})"


# adbot pool reconcile: the findings (``core.texts.admin.folder_*``), then one of these.
RECONCILE_CLEAN = "session folders agree with the database"


def reconcile_findings(count: int) -> str:
    return f"{count} finding(s)"


# adbot pairs ...

NO_PAIRS = "no API pairs (add one with 'adbot pairs add API_ID API_HASH')"


def pair_added(pair: Pair) -> str:
    using = f"; {pair.used} session(s) connect with its API id now" if pair.used else ""
    return f"API pair {pair.api_id} added (up to {pair.capacity} sessions){using}"


def pair_line(pair: Pair) -> str:
    """One line of ``adbot pairs list``."""
    return f"{pair.api_id}  {pair.used}/{pair.capacity} sessions" + ("  (full)" if pair.full else "")


def pair_removed(api_id: int, moved: Sequence[tuple[int, int]] = ()) -> str:
    """``moved``: (session id, the API id it connects with from now on) for each session moved off it."""
    lines = [f"API pair {api_id} removed"]
    lines += [f"session #{sid} moved to API id {new} (its API id changed once, as asked)" for sid, new in moved]
    return "\n".join(lines)


# adbot grant, revoke, customers, health.


def plan_granted(result: Granted) -> str:
    from core.texts.fmt import fmt_time

    c = result.customer
    verb = "created" if result.created else "extended"
    return f"plan {verb} for {c.user_id}: {c.plan_sessions} session(s) until {fmt_time(c.plan_expires_at)}"


def plan_revoked(result: Revoked) -> str:
    return f"plan of {result.user_id} ended; {result.sessions_returned} session(s) back in the pool"


NO_CUSTOMERS = "no customers (create one with 'adbot grant USER_ID SESSIONS DAYS')"


def customer_line(line: CustomerRow) -> str:
    """One line of ``adbot customers``."""
    from core.texts.fmt import fmt_time

    c = line.customer
    plan = f"until {fmt_time(c.plan_expires_at)}" if line.plan_active else "ended"
    return (
        f"{c.user_id}  plan {c.plan_sessions} {plan}  {c.status}  sessions {line.sessions}"
        f"  groups {line.groups}  today {line.sent_today} sent, {line.failed_today} failed"
    )


def health(report: Health) -> str:
    """``adbot health``: what the database knows (no engine runs in the command's process)."""
    from core.texts import limits as limit_texts  # here: importing this module stays stdlib-only
    from core.texts import proxy as proxy_texts
    from core.texts.fmt import fmt_time

    c, s, h = report.cycles, report.sessions, report.last_hour
    proxies = proxy_texts.health_lines(report.proxies, html=False) if report.proxies is not None else []
    return "\n".join([
        f"running campaigns: {c.running_campaigns}",
        f"last cycle: started {fmt_time(c.last_started_at)}, finished {fmt_time(c.last_finished_at)}",
        ", ".join(f"{n} {state}" for state, n in s.items()),
        f"last hour: {h.sent} sent, {h.failed} failed, {h.other} other",
        *proxies,
        *(limit_texts.health_lines(report.limits) if report.limits is not None else []),
        "(engine figures such as lag and uptime: /health in the bot)",
    ])
