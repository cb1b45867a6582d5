"""Settings: a TOML file read with ``tomllib`` into pydantic models, plus environment overrides.

Where the file comes from: ``--config PATH``, else ``$ADBOT_CONFIG``, else ``./config.toml``.
Overrides: ``ADBOT_<SECTION>__<KEY>=value`` (value parsed as a TOML value when it is one, e.g.
``ADBOT_BOT__ADMINS=[1, 2]``, otherwise taken as a string). Relative paths are relative to the
config file's folder. Any problem becomes one ``ConfigError`` line naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from core import pacing
from core.errors import ConfigError
from core.texts import config as texts

DEFAULT_CONFIG = Path("config.toml")
ENV_CONFIG = "ADBOT_CONFIG"
ENV_PREFIX = "ADBOT_"
# Upper bounds: every number is finite and bounded, so no value can overflow a timer or a date later
# (a campaign committed as running, then an OverflowError scheduling it).
_HOUR = 3_600
_MAX_INTERVAL = 30 * 86_400
_LOCALE_NAME = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,8})?")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram's setWebhook accepts as secret_token
_API_KEY = re.compile(r"[\x21-\x7e]{16,256}")  # printable ASCII without spaces: an HTTP header value
_RANGE_ERRORS = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"}
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class BotSettings(_Section):
    token: SecretStr = SecretStr("")
    api_base: str = ""
    admins: list[Annotated[int, Field(ge=1, lt=2**63)]] = Field(default_factory=list)
    low_pool_threshold: int = Field(default=3, ge=0, le=100_000)
    default_locale: str = "en"
    """The language of anyone whose Telegram language has no catalog (and of Telegram's fallback menu)."""
    contact: str = Field(default="", max_length=200)
    """Shown to strangers (how to reach the service's people), e.g. "@owner"; empty: no contact line."""
    plan_presets: list[tuple[Annotated[int, Field(ge=1, le=1_000)], Annotated[int, Field(ge=1, le=3_650)]]] = Field(
        default_factory=lambda: [(1, 30), (3, 30)], max_length=8
    )
    """(sessions, days) of the plan buttons an admin gets on an access request."""
    mode: Literal["polling", "webhook"] = "polling"  # issue 20 part C: how updates arrive (control_bot.webhook)
    webhook_url: str = Field(default="", max_length=2_000)  # issue 20 part C: the public HTTPS URL Telegram posts to
    webhook_host: str = "127.0.0.1"  # issue 20 part C: the address the webhook server listens on
    webhook_port: int = Field(default=8081, ge=0, le=65_535)  # issue 20 part C: its port
    webhook_secret: SecretStr = SecretStr("")  # issue 20 part C: Telegram's X-Telegram-Bot-Api-Secret-Token

    @model_validator(mode="after")
    def _webhook(self) -> BotSettings:
        # issue 20 part C: webhook mode needs a URL and a secret Telegram will send back (a POST without it is refused)
        if self.mode == "webhook":
            if not self.webhook_url.strip().lower().startswith(("https://", "http://")):
                raise ValueError(texts.WEBHOOK_URL)
            if not _WEBHOOK_SECRET.fullmatch(self.webhook_secret.get_secret_value()):
                raise ValueError(texts.WEBHOOK_SECRET)
        return self
    startup_attempts: int = Field(default=0, ge=0, le=1_000_000)  # issue 20: getMe tries at start-up; 0: no limit
    """Start-up asks the Bot API who the bot is (getMe) before anything else; while Telegram cannot be
    reached it tries again with backoff (1 s doubling to 60 s), this many times at most (0: no limit)."""

    @field_validator("api_base")
    @classmethod
    def _api_base_url(cls, value: str) -> str:
        # Empty: Telegram's own. Else the base URL of a Bot API server: http(s), a host, a valid port.
        # Anything else fails inside aiohttp at the first request, with the token in its message.
        if not value.strip():
            return value
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError:
            raise ValueError(texts.API_BASE) from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(texts.API_BASE)
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale_name(cls, value: str) -> str:
        # A catalog folder name (``en``, ``ru``, ``pt_BR``): whether one exists is checked at start-up.
        value = value.strip().replace("-", "_")
        if not _LOCALE_NAME.fullmatch(value):
            raise ValueError(texts.BAD_LOCALE)
        return value

    @field_validator("token")
    @classmethod
    def _token_not_blank(cls, token: SecretStr) -> SecretStr:
        # A token of spaces is a mistake, not "no token yet": refused everywhere (check-config too).
        value = token.get_secret_value()
        if value and not value.strip():
            raise ValueError(texts.TOKEN_BLANK)
        return token


class PathsSettings(_Section):
    data_dir: Path = Path("data")
    sessions_dir: Path = Path("sessions")
    logs_dir: Path = Path("logs")
    log_max_mb: float = Field(default=50.0, ge=0)  # adbot.log rotates past this size (0: never)
    log_backups: int = Field(default=5, ge=0, le=1_000)  # rotated adbot.log files kept (adbot.log.1 ...)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"  # operator log; DEBUG adds a line per post


class EngineSettings(_Section):
    """``[engine]``: the engine reads this section as it is (no copy of it exists elsewhere)."""

    backend: Literal["telethon", "simulated"] = "telethon"
    # Pacing (``core.pacing``): the defaults are the safe values; lower ones are allowed (check-config warns).
    cycle_interval: int = Field(default=pacing.SAFE_CYCLE_INTERVAL, ge=1, le=_MAX_INTERVAL)
    """Default interval of a new campaign (customers.interval_s is what a cycle uses)."""
    min_cycle_interval: int = Field(default=pacing.SAFE_MIN_CYCLE_INTERVAL, ge=1, le=_MAX_INTERVAL)
    max_cycle_interval: int = Field(default=86_400, ge=1, le=_MAX_INTERVAL)
    send_spacing: float = Field(default=pacing.SAFE_SEND_SPACING, ge=0, le=_HOUR)
    """Seconds between two sends of one session (each session sends its groups one after another)."""
    spacing_jitter: float = Field(default=pacing.SAFE_SPACING_JITTER, ge=0, le=1)
    """Each spacing is multiplied by a random factor in [1 - jitter, 1 + jitter] (default: 10 to 20 s)."""
    daily_send_cap: int = Field(default=pacing.SAFE_DAILY_SEND_CAP, ge=0, le=1_000_000_000)
    """Post requests one session may make in any 24 hours; 0: no cap."""
    warmup_days: int = Field(default=pacing.SAFE_WARMUP_DAYS, ge=0, le=365)
    """A session new to the pool gets a lower cap for this many days (a ramp: 25, 50, 75 % for 3); 0: none."""
    on_restart: Literal["stop", "resume"] = "stop"
    """What a start-up does with campaigns that were running: stop them, or resume them."""
    max_in_flight: int = Field(default=200, ge=1, le=100_000)
    """Global bound on sends in flight across every campaign and session."""
    send_timeout: float = Field(default=30.0, gt=0, le=_HOUR)
    """A send without an answer after this long is recorded 'in_doubt' and never retried in its cycle."""
    upload_timeout_per_mb: float = Field(default=15.0, gt=0, le=600)
    """A media post's upload (``AccountPort.prepare_media``, before the send) may take ``send_timeout`` plus
    this many seconds per MB of its files (15: about 0.5 Mbit/s), at most ``upload_timeout_max``. An upload
    past it sent nothing: its groups are tried again in a later cycle, never 'in_doubt'."""
    upload_timeout_max: float = Field(default=1_800.0, gt=0, le=6 * _HOUR)
    shutdown_timeout: float = Field(default=20.0, ge=0, le=_HOUR)
    """How long a graceful shutdown lets in-flight sends finish before abandoning their requests."""
    group_failure_limit: int = Field(default=3, ge=1, le=1_000)
    """A group is paused after this many failures in a row."""
    transient_retries: int = Field(default=2, ge=0, le=100)
    """Retries of a send that failed with a network error (same random_id, so Telegram de-duplicates)."""
    transient_backoff: float = Field(default=2.0, ge=0, le=_HOUR)
    """First retry delay in seconds; doubled for each further retry."""
    connect_timeout: float = Field(default=30.0, gt=0, le=_HOUR)
    """Connecting one account (first use of its session)."""
    flood_sleep_threshold: int = Field(default=0, ge=0, le=60)
    dialogs_refresh_hours: float = Field(default=12.0, gt=0, le=720)
    """How often each session's dialogs (the chats it is in) are read again."""
    dialogs_refresh_jitter: float = Field(default=0.25, ge=0, lt=1)
    """Each refresh is due after ``dialogs_refresh_hours`` x a random factor in [1 - jitter, 1 + jitter],
    so the sessions are never all read at once."""
    dialogs_scan_concurrency: int = Field(default=2, ge=1, le=1_000)
    """How many sessions' dialogs the engine reads at the same time."""
    world_file: Path | None = None
    max_post_media_mb: int = Field(default=200, ge=1, le=10_000)
    """Megabytes of media one customer's own post may keep on disk (every session uploads them)."""
    connects_per_second: float = Field(default=5.0, gt=0, le=1_000)  # issue 22A: new connections spread out
    """At most this many new Telegram connections per second, across every session (``core.connect_rate``):
    a restart opens thousands of sessions over minutes, never all at once."""
    keep_connection_seconds: float = Field(default=900.0, ge=0, le=7 * 24 * _HOUR)  # issue 22A: idle close
    """A session's connection stays open after a cycle when its campaign's next cycle is due within this
    many seconds; otherwise it is closed and opened again (paced) before the next one."""
    max_posts: int = Field(default=10, ge=1, le=100)  # issue 19A: posts one campaign may hold in rotation
    """Posts one campaign may hold (``storage.posts``); each cycle carries one of them to each group."""

    @model_validator(mode="after")
    def _bounds(self) -> EngineSettings:
        if self.max_cycle_interval < self.min_cycle_interval:
            raise ValueError(texts.INTERVAL_BOUNDS)
        return self


class PoolSettings(_Section):
    max_sessions_per_pair: int = Field(default=7, ge=1, le=1_000)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=2**30)
    join_min_gap_minutes: int = Field(default=10, ge=1, le=10_080)
    """Minutes between two joins of one session (joins run only when an admin asks: ``pool.joins``)."""
    join_daily_cap: int = Field(default=5, ge=1, le=1_000)
    """Joins one session may make in any 24 hours."""
    proxy_required: bool = False
    """When true, a session without a proxy is never opened (no send, scan, check or join from the
    server's own address); /health counts them."""
    quarantine_hours: float = Field(default=24.0, ge=0, le=8_760)
    """Least time a limited session rests in quarantine (no command shortens it); doubled at each repeat."""
    quarantine_max_days: float = Field(default=7.0, ge=0, le=365)
    """The doubling stops at this many days."""
    frozen_check_hours: float = Field(default=24.0, gt=0, le=720)
    """How often a connected session's app config is read again (is the account frozen?)."""
    ipv6: bool = False
    """Connect to Telegram's data centres over IPv6 (their published IPv6 addresses, ``core.dcs``)
    instead of IPv4. Sessions' addresses always come from that table, never from their files."""
    allow_test_servers: bool = False
    """Accept sessions of Telegram's test servers (test_mode; ``docs/SESSION_FORMS.md``): stored with
    their flag, they connect to the test data centres (``core.dcs``). Off: refused at intake."""


class StorageSettings(_Section):  # issue 22A: the SQLite WAL kept bounded (``storage.db.WalPolicy``)
    """``[storage]``: how the database's write-ahead log is kept bounded."""

    wal_autocheckpoint_pages: int = Field(default=1000, ge=100, le=1_000_000)
    """SQLite's own checkpoint runs after a commit once the WAL holds this many 4 KiB pages."""
    wal_max_mb: int = Field(default=64, ge=1, le=100_000)
    """The WAL is truncated back to this size after a checkpoint, and a full checkpoint runs when it grew past it."""


class BackupSettings(_Section):
    """``[backup]``: the service's own daily backups (``adbot backup`` makes one at any time; docs/BACKUP.md)."""

    enabled: bool = False  # make a backup every day while the service runs
    dir: Path = Path("backups")  # where backups go (``adbot backup``'s default too); relative to the config file
    keep: int = Field(default=7, ge=1, le=3_650)  # daily backups kept: older ones are deleted after each new one
    hour_utc: int = Field(default=3, ge=0, le=23)  # the hour of the day (UTC) the daily backup starts


class RetentionSettings(_Section):
    """``[retention]``: how long ledger rows and customer log files are kept (totals and per-day figures stay)."""

    days: int = Field(default=90, ge=0, le=36_500)  # older sends: per-day figures only; older logs deleted; 0: keep all
    hour_utc: int = Field(default=4, ge=0, le=23)  # the hour of the day (UTC) the daily pruning runs
    batch_rows: int = Field(default=1_000, ge=100, le=1_000_000)  # ledger rows pruned per (short) transaction

class ApiSettings(_Section):
    """``[api]`` (issue 20 part C): the integration API (``control_bot.api``, ``docs/API.md``), off by default."""

    enabled: bool = False  # serve the integration API
    host: str = "127.0.0.1"  # the address it listens on (loopback unless you mean it)
    port: int = Field(default=8080, ge=0, le=65_535)  # its port (0: any free one, tests)
    keys: list[SecretStr] = Field(default_factory=list, max_length=64)  # accepted X-API-Key values (secrets)

    @field_validator("keys")
    @classmethod
    def _keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            if not _API_KEY.fullmatch(key.get_secret_value()):
                raise ValueError(texts.API_KEY_SHAPE)
        return keys

    @model_validator(mode="after")
    def _enabled_needs_keys(self) -> ApiSettings:
        if self.enabled and not self.keys:
            raise ValueError(texts.API_NO_KEYS)
        return self


class MetricsSettings(_Section):
    """``[metrics]`` (issue 20 part C): the Prometheus endpoint (``control_bot.metrics``), off by default."""

    enabled: bool = False  # serve /metrics
    host: str = "127.0.0.1"  # the address it listens on
    port: int = Field(default=9108, ge=0, le=65_535)  # its port (0: any free one, tests)


class Settings(_Section):
    bot: BotSettings = Field(default_factory=BotSettings)
    paths: PathsSettings = Field(default_factory=PathsSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    pool: PoolSettings = Field(default_factory=PoolSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)  # issue 22A
    backup: BackupSettings = Field(default_factory=BackupSettings)  # issue 20 part B
    retention: RetentionSettings = Field(default_factory=RetentionSettings)  # issue 20 part B
    api: ApiSettings = Field(default_factory=ApiSettings)  # issue 20 part C
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)  # issue 20 part C

    @property
    def db_path(self) -> Path:
        return self.paths.data_dir / "adbot.sqlite3"

    def require_token(self) -> None:
        if not self.bot.token.get_secret_value().strip():
            raise ConfigError(texts.config_error("bot.token", texts.TOKEN_MISSING))

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets masked."""
        data = self.model_dump(mode="json")
        data["bot"]["token"] = _mask(self.bot.token.get_secret_value())
        data["bot"]["api_base"] = _mask_url(self.bot.api_base)
        return data


def _mask(secret: str) -> str:
    return "" if not secret else "***" + (f" ({len(secret)} chars)" if len(secret) > 8 else "")


def _mask_url(url: str) -> str:
    """``api_base`` shown as its scheme and host only: a local Bot API server's URL can carry credentials
    (``user:pass@``) or a secret in its path or query, masked like the token."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return _mask(url)
    port = f":{parts.port}" if parts.port else ""
    rest = url.strip()[len(f"{parts.scheme}://{parts.netloc}") :]
    hidden = "***@" if parts.username or parts.password else ""
    return f"{parts.scheme}://{hidden}{parts.hostname}{port}" + ("/***" if rest.strip("/") else "")


def resolve_config_path(flag: str | Path | None, env: Mapping[str, str]) -> Path:
    if flag:
        return Path(flag)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    return DEFAULT_CONFIG


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == ENV_CONFIG:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        target = data.setdefault(section.lower(), {})
        if not isinstance(target, dict):
            raise ConfigError(texts.config_error(section.lower(), texts.NOT_A_TABLE))
        target[key.lower()] = _parse_env_value(raw)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "config"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = texts.UNKNOWN_KEY
    elif err["type"] in _RANGE_ERRORS:
        msg = _range_of(err["loc"]) or msg
    more = texts.more_problems(len(exc.errors()) - 1) if len(exc.errors()) > 1 else ""
    return texts.config_error(key, msg + more)


def _range_of(loc: tuple[int | str, ...]) -> str | None:
    """The allowed range of the number at ``loc`` (``section.key``, or an item of a list), from its Field bounds."""
    model: type[BaseModel] = Settings
    info = None
    for part in loc:
        if not isinstance(part, str) or part not in model.model_fields:
            break
        info = model.model_fields[part]
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            model = sub
    if info is None:
        return None
    metadata = list(info.metadata)
    if info.annotation is not None and getattr(info.annotation, "__args__", None):  # list[Annotated[int, ...]]
        item = info.annotation.__args__[0]
        metadata += list(getattr(item, "__metadata__", ()))
        for extra in getattr(item, "__metadata__", ()):
            metadata += list(getattr(extra, "metadata", ()))
    low = high = None
    low_open = high_open = False
    for bound in metadata:
        if getattr(bound, "ge", None) is not None:
            low = bound.ge
        if getattr(bound, "gt", None) is not None:
            low, low_open = bound.gt, True
        if getattr(bound, "le", None) is not None:
            high = bound.le
        if getattr(bound, "lt", None) is not None:
            high, high_open = bound.lt, True
    if low is None or high is None:
        return None
    return texts.out_of_range(low, high, low_open=low_open, high_open=high_open)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    p = settings.paths
    fixed = {
        name: (value if value.is_absolute() else (base / value))
        for name, value in (("data_dir", p.data_dir), ("sessions_dir", p.sessions_dir), ("logs_dir", p.logs_dir))
    }
    engine = settings.engine
    if engine.world_file is not None and not engine.world_file.is_absolute():
        engine = engine.model_copy(update={"world_file": base / engine.world_file})
    backup = settings.backup
    if not backup.dir.is_absolute():  # issue 20 part B: relative to the config file, like [paths]
        backup = backup.model_copy(update={"dir": base / backup.dir})
    return settings.model_copy(update={"paths": p.model_copy(update=fixed), "engine": engine, "backup": backup})


def settings_from_dict(data: dict[str, Any], base_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
    _apply_env(data, env or {})
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    return _resolve_paths(settings, base_dir)


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load the settings; raises ConfigError (one line, naming the key) on any problem."""
    env = os.environ if env is None else env
    file = resolve_config_path(path, env)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(texts.config_error(str(file), texts.FILE_NOT_FOUND)) from None
    except OSError as exc:
        raise ConfigError(texts.config_error(str(file), texts.cannot_read(str(exc.strerror)))) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(texts.config_error(str(file), texts.not_toml(str(exc)))) from None
    return settings_from_dict(data, file.resolve().parent, env)
