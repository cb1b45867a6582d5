"""The outbox sender: delivers ``storage.events`` rows to the people they are for.

The engine, the pool and the admin services write an event in the same transaction as the change it
reports; this task sends it and marks it delivered afterwards, so a crash can repeat a notification but
never lose one. It wakes when ``wake()`` is called (the engine's ``notify``) and every few seconds
anyway (events written by another process, e.g. the CLI).

* a customer event goes to that customer, an event without a customer to every admin;
* events for one chat are merged into as few messages as fit (4096 UTF-16 units each), and every send
  passes the bot session's ``FloodControl`` (paced per chat and overall, 429 honoured);
* a user who blocked the bot (403) or a message Telegram refuses (400) will not get better by retrying:
  logged and marked delivered; anything else (network, 5xx, a long 429) is retried on the next pass;
* each text is rendered for its reader: their language and time zone (``storage.users.audience``), an
  admin event once per admin;
* a customer's events of ``engine.summary.FOLDED`` kinds are held while the campaign runs (a cycle open or
  not) and go out folded into the next cycle's summary, one message with buttons (Details / Stop / Fix);
  a stop, the plan's news and a stopped campaign's events go at once; the hold ends, for all of a
  customer's held events together, after the campaign's interval plus ``LONGEST_CYCLE`` (the rules are
  ``engine.summary``'s docstring); a summary of routine success is said only to a customer whose
  ``notify_level`` is ``all``, and ``off`` leaves only the plan's news.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup

from control_bot import keyboards as kb
from control_bot.services.reminders import ReminderJob
from core.i18n import SOURCE_LOCALE, Translator, reading
from core.states import EventKind, NotifyLevel
from core.texts.events import event_text, summary_needs_reader, summary_problems
from core.texts.split import TELEGRAM_LIMIT, split_message
from engine.summary import FOLDED, LONGEST_CYCLE
from storage import events, users
from storage.db import Connection, Database
from storage.events import Event

logger = logging.getLogger(__name__)

_SEPARATOR = "\n\n"


# What a customer hears at ``notify_level = off``: the plan's news only.
PLAN_NEWS = frozenset({EventKind.PLAN_GRANTED, EventKind.PLAN_REVOKED, EventKind.PLAN_EXPIRED, EventKind.PLAN_EXPIRING})
GROUP_PROBLEMS = frozenset({EventKind.GROUP_PAUSED, EventKind.GROUP_UNREACHABLE})


@dataclass
class _Outgoing:
    chat_id: int
    parts: list[tuple[int, str]] = field(default_factory=list)  # (event id, rendered text)
    # Messages of their own with buttons (cycle summaries): (event id, text, markup).
    alone: list[tuple[int, str, InlineKeyboardMarkup | None]] = field(default_factory=list)

    @property
    def event_ids(self) -> list[int]:
        return [i for i, _ in self.parts] + [i for i, _, _ in self.alone]


@dataclass(frozen=True)
class _Reader:
    locale: str
    zone: str | None
    level: NotifyLevel


def negotiate_base(code: str | None, available: frozenset[str] = frozenset({SOURCE_LOCALE})) -> str:
    """A stored language (``ru``, ``ru-RU``, ``pt_BR``) matched against the available locales."""
    if not code:
        return SOURCE_LOCALE
    code = code.replace("-", "_")
    if code in available:
        return code
    base = code.split("_")[0].lower()
    return base if base in available else SOURCE_LOCALE


def wanted(event: Event, level: NotifyLevel) -> bool:
    """Whether a customer at ``level`` hears this event (admin events always go out)."""
    if event.customer_id is None:
        return True
    if level is NotifyLevel.OFF:
        return event.kind in PLAN_NEWS
    if event.kind is EventKind.CYCLE_SUMMARY:
        return level is NotifyLevel.ALL or summary_needs_reader(event.payload)
    return True


def summary_markup(event: Event) -> InlineKeyboardMarkup:
    """Details / Stop / Fix under a cycle summary: Stop while the campaign runs, Fix for group problems."""
    problems = {str(p.get("kind")) for p in summary_problems(event.payload)}
    running = not event.payload.get("stopped")
    return kb.cycle_summary(running=running, fix_groups=bool(problems & GROUP_PROBLEMS) or
                            int(event.payload.get("failed") or 0) > 0)


def _chunks(parts: Sequence[tuple[int, str]]) -> list[str]:
    """The texts, a blank line apart, in as few messages as fit: cut between two texts, and inside one
    only when it is too long for a message of its own."""
    if not parts:
        return []
    return split_message(_SEPARATOR.join(text for _, text in parts), TELEGRAM_LIMIT, sep=_SEPARATOR)


class OutboxSender:
    """Runs as one task next to polling; ``deliver_pending()`` is one pass (tests call it directly)."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        admins: Sequence[int],
        *,
        now: Callable[[], float] = time.time,
        poll_interval: float = 5.0,
        batch: int = 100,
        translator: Translator | None = None,
        negotiate: Callable[[str | None], str] = negotiate_base,
    ) -> None:
        self.translator = translator
        self.negotiate = negotiate
        self.reminders: ReminderJob | None = None
        self.bot = bot
        self.db = db
        self.admins = list(dict.fromkeys(admins))
        self._now = now
        self.poll_interval = poll_interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # (event id, chat) already sent in this process: when one recipient of an admin event fails,
        # the retry does not repeat it to the others.
        self._sent: set[tuple[int, int]] = set()
        self._lock = asyncio.Lock()

    def attach(
        self, translator: Translator, negotiate: Callable[[str | None], str], reminders: ReminderJob | None = None
    ) -> None:
        """Speak each reader's language (the bot's catalogs and its negotiation of a stored language), and
        run the plan reminders (``control_bot.services.reminders``) while this sender runs."""
        self.translator = translator
        self.negotiate = negotiate
        self.reminders = reminders

    def wake(self) -> None:
        """Ask for a delivery pass soon (cheap; safe to call many times)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-sender")
        if self.reminders is not None:
            self.reminders.start()

    async def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop the task after one last pass (bounded by ``flush_timeout``)."""
        self._stopping = True
        if self.reminders is not None:
            await self.reminders.stop()
        task, self._task = self._task, None
        if task is not None:
            self._wake.set()
            try:
                await asyncio.wait_for(task, flush_timeout)
            except TimeoutError:
                logger.warning("outbox: last delivery pass did not finish in %.0f s", flush_timeout)
            except Exception:
                logger.exception("outbox sender failed")

    async def _run(self) -> None:
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval * (1 + min(failures, 5)))
            self._wake.clear()
            try:
                await self.deliver_pending()
                failures = 0
            except Exception:
                failures += 1
                logger.exception("outbox: delivery pass failed (%d in a row)", failures)
            if self._stopping:
                return

    async def deliver_pending(self) -> int:
        """Send what is undelivered (one batch at a time until none is left); returns events marked."""
        async with self._lock:
            total = 0
            while True:
                async with self.db.read() as conn:
                    pending = await events.deliverable(conn, self._now(), FOLDED, LONGEST_CYCLE, self.batch)
                if not pending:
                    return total
                done = await self._deliver(pending)
                if done:
                    async with self.db.tx() as conn:
                        await events.mark_delivered(conn, done, self._now())
                    finished = set(done)
                    self._sent = {key for key in self._sent if key[0] not in finished}
                total += len(done)
                if len(done) < len(pending) or len(pending) < self.batch:
                    return total  # something failed for now, or that was the last batch

    def _recipients(self, event: Event) -> list[int]:
        return [event.customer_id] if event.customer_id is not None else self.admins

    async def _readers(self, conn: Connection, chats: set[int]) -> dict[int, _Reader]:
        found: dict[int, _Reader] = {}
        for chat in chats:
            code, zone = await users.audience(conn, chat)
            found[chat] = _Reader(self.negotiate(code), zone, await users.notify_level(conn, chat))
        return found

    async def _deliver(self, pending: Sequence[Event]) -> list[int]:
        outgoing: dict[int, _Outgoing] = {}
        chats = {chat for event in pending for chat in self._recipients(event)}
        async with self.db.read() as conn:
            readers = await self._readers(conn, chats)
        for event in pending:
            admin = event.customer_id is None
            for chat in self._recipients(event):
                reader = readers[chat]
                if (event.id, chat) in self._sent or not wanted(event, reader.level):
                    continue
                item = outgoing.setdefault(chat, _Outgoing(chat))
                with reading(reader.locale, reader.zone, self.translator):
                    text = event_text(event.kind, event.payload, for_admin=admin, admins_told=bool(self.admins))
                    if event.kind is EventKind.CYCLE_SUMMARY and not admin:
                        item.alone.append((event.id, text, summary_markup(event)))
                    else:
                        item.parts.append((event.id, text))
        failed_chats: set[int] = set()
        for chat, item in outgoing.items():
            if not await self._send_chat(chat, item):
                failed_chats.add(chat)
            else:
                self._sent.update((event_id, chat) for event_id in item.event_ids)
        done: list[int] = []
        for event in pending:
            if any(chat in failed_chats for chat in self._recipients(event)):
                continue
            if event.customer_id is None and not self.admins:
                logger.info("outbox: %s event %d has no admin to go to", event.kind, event.id)
            done.append(event.id)
        return done

    async def _send_chat(self, chat_id: int, item: _Outgoing) -> bool:
        """Send one chat's messages; False when it should be tried again later."""
        messages: list[tuple[str, InlineKeyboardMarkup | None]] = [(text, None) for text in _chunks(item.parts)]
        for _event_id, text, markup in item.alone:
            chunks = split_message(text, TELEGRAM_LIMIT, sep=_SEPARATOR)
            messages += [(chunk, markup if i == len(chunks) - 1 else None) for i, chunk in enumerate(chunks)]
        for text, markup in messages:
            try:
                await self.bot.send_message(chat_id, text, reply_markup=markup)
            except TelegramForbiddenError:
                logger.info("outbox: chat %d blocked the bot; %d notification(s) dropped", chat_id, len(item.event_ids))
                return True
            except TelegramBadRequest as exc:
                logger.warning("outbox: Telegram refused a notification for chat %d: %s", chat_id, exc.message)
                return True
            except Exception as exc:
                logger.warning("outbox: sending to chat %d failed (%s); will retry", chat_id, type(exc).__name__)
                return False
        return True
