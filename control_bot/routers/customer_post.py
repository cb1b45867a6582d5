"""/post: the message the campaign sends, taken as people send it.

* Forwarded from a channel: that channel's post (forwarded by the sessions, checked like a link); a
  channel's album forwarded here (one message per item) is collected like an album and saved once.
* A link (t.me/...): checked through a connected session of the customer (``engine.post_check``).
* The post itself: a formatted text, a photo, video, GIF or file with a caption, or an album (its
  messages collected for a second, ``control_bot.post_intake.AlbumCollector``): kept, and sent by the
  sessions as the customer's own message.
* With several posts (2+), a post received here (an argument, an answer, a forward, an album, own media) is
  checked and kept but not saved: the customer chooses "Replace all N posts", "Add as post N+1" (while
  the campaign holds more: ``[engine] max_posts``) or "Cancel" (``PendingPosts``: in memory, one per
  customer, short-lived; a choice never pressed, forged, stale or lost in a restart changes nothing).
* After saving, a preview: own content copied back as groups will see it, a link's post forwarded when
  the bot can read it (else what the check learned of it), and for a link the line "as a forward, with
  the header" / "copied, without it" with a button that switches it (``drop_author``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    MessageOriginChat,
)

from control_bot import keyboards as kb
from control_bot import keyboards_post_choice as kbc
from control_bot.callbacks import MenuAction, PostChoice, PostChoiceCb, PostHeaderCb, menu_button
from control_bot.filters import IsPrivate
from control_bot.post_intake import AlbumCollector, entity_dicts, forwarded_post, media_of
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers.common import sender_id
from control_bot.services import post as post_service
from control_bot.services.post import Held, HeldLink, PostEngine, PostSaved
from core.clock import Clock
from core.config import Settings
from core.errors import AdbotError
from core.texts import post as t
from core.texts import posts as posts_texts
from storage.db import Database

logger = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class PostForm(StatesGroup):
    waiting = State()
    adding = State()  # /posts' Add (``routers.customer_posts``): the post is appended to the campaign's posts


PENDING_SECONDS = 15 * 60
"""How long a post received with several posts waits for the customer's choice; well under
``post_intake.PRUNE_AFTER``, so its kept files are still on disk when it is saved."""


@dataclass(frozen=True)
class Pending:
    token: str
    held: Held
    note: str | None  # what the preview says first (a person's forward kept as own content)
    at: float


class PendingPosts:
    """Per customer, the post waiting for their choice (a newer one replaces it); lost in a restart."""

    def __init__(self, seconds: float = PENDING_SECONDS) -> None:
        self.seconds = seconds
        self._items: dict[int, Pending] = {}

    def hold(self, user_id: int, held: Held, note: str | None, now: float) -> str:
        for key in [k for k, p in self._items.items() if now - p.at > self.seconds]:
            del self._items[key]
        token = secrets.token_urlsafe(6)
        self._items[user_id] = Pending(token, held, note, now)
        return token

    def take(self, user_id: int, token: str, now: float) -> Pending | None:
        """The presser's own pending post, when the button names it and it is still open; taken once."""
        pending = self._items.get(user_id)
        if pending is None or not hmac.compare_digest(pending.token.encode(), token.encode()):
            return None
        del self._items[user_id]
        return pending if now - pending.at <= self.seconds else None

    def put_back(self, user_id: int, pending: Pending) -> None:
        """A choice refused (nothing changed) stays open, unless a newer post came meanwhile."""
        self._items.setdefault(user_id, pending)


async def _ask(event: Message | CallbackQuery, state: FSMContext, db: Database, clock: Clock) -> None:
    customer, media = await post_service.current(db, sender_id(event), clock.now())
    await state.set_state(PostForm.waiting)
    question = t.post_question(customer.post_kind, customer.post_link, customer.post_text, media,
                               count=customer.post_count, rotation=customer.rotation)
    await show(event, question, kb.cancel())


Handler = Callable[..., Awaitable[None]]


async def _several(db: Database, user_id: int, now: float) -> bool:
    """Whether the campaign has several posts: a post received on /post then waits for the choice."""
    return (await post_service.require(db, user_id, now)).post_count > 1


def _make_on_post(pendings: PendingPosts) -> Handler:
    async def on_post(
        event: Message | CallbackQuery, state: FSMContext, db: Database, engine: PostEngine, clock: Clock,
        bot: Bot, settings: Settings,
    ) -> None:
        """/post <link or text> sets it; /post alone, or the Set button, asks for it."""
        if isinstance(event, Message):
            text, entities = post_service.command_argument(event.text or "", entity_dicts(event.entities))
        else:
            text, entities = "", []
        if not text or not isinstance(event, Message):
            await _ask(event, state, db, clock)
            return
        user_id = sender_id(event)
        hold = await _several(db, user_id, clock.now())
        saved = await post_service.set_post(db, user_id, text, entities, clock.now(), engine=engine, hold=hold)
        await _after(event.chat.id, user_id, db, bot, settings, clock, pendings, saved, None)

    return on_post


async def _after(
    chat_id: int, user_id: int, db: Database, bot: Bot, settings: Settings, clock: Clock, pendings: PendingPosts,
    saved: PostSaved, note: str | None,
) -> None:
    """A post received: saved (its preview), or held for the customer's choice."""
    if saved.held is None:
        await _settle(chat_id, db, bot, settings, saved, note)
        return
    count = saved.customer.post_count
    can_add = count < settings.engine.max_posts
    token = pendings.hold(user_id, saved.held, note, clock.now())
    await bot.send_message(chat_id, t.post_choice(count, _title(saved.held), can_add=can_add),
                           reply_markup=kbc.post_choice(token, count, can_add=can_add))


def _title(held: Held) -> str:
    if isinstance(held, HeldLink):
        return held.ref.link
    return t.post_title("text", None, held.text, [row.kind for row in held.media])


def _make_on_choice(pendings: PendingPosts) -> Handler:
    async def on_choice(
        callback: CallbackQuery, callback_data: PostChoiceCb, db: Database, clock: Clock, bot: Bot,
        settings: Settings,
    ) -> None:
        """Replace / Add / Cancel under the held post: only the presser's own, open one is acted on."""
        user_id = sender_id(callback)
        now = clock.now()
        customer = await post_service.require(db, user_id, now)
        pending = pendings.take(user_id, callback_data.token, now)
        if pending is None:
            await answer_callback(callback, t.CHOICE_GONE(), alert=True)
            return
        if callback_data.action is PostChoice.CANCEL:
            await show(callback, t.choice_cancelled(customer.post_count), kb.back_to_menu())
            return
        add = settings.engine.max_posts if callback_data.action is PostChoice.ADD else None
        try:
            saved = await post_service.commit(db, user_id, pending.held, now, add_max_posts=add)
        except AdbotError:
            pendings.put_back(user_id, pending)
            raise
        await answer_callback(callback)
        await _drop_buttons(callback)
        await _settle(user_id, db, bot, settings, saved, pending.note)  # a private chat: its id is the user's

    return on_choice


async def _drop_buttons(callback: CallbackQuery) -> None:
    """The choice made: its buttons go (a press on a copy of them is refused anyway)."""
    if not isinstance(callback.message, Message):
        return
    try:
        await callback.message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as exc:  # too old, deleted: nothing to tidy
        logger.debug("cannot remove the choice's buttons (%s)", exc.message)


def _make_on_message(collector: AlbumCollector, pendings: PendingPosts) -> Handler:
    async def on_message(
        message: Message, state: FSMContext, db: Database, engine: PostEngine, clock: Clock, bot: Bot,
        settings: Settings,
    ) -> None:
        """An answer to the question (or a channel post forwarded at any time): whatever it is."""
        user_id = sender_id(message)
        add = settings.engine.max_posts if await state.get_state() == PostForm.adding.state else None
        hold = add is None and await _several(db, user_id, clock.now())
        chat_id = message.chat.id

        async def after(saved: PostSaved, note: str | None) -> None:
            await _after(chat_id, user_id, db, bot, settings, clock, pendings, saved, note)
        ref = forwarded_post(message)
        if ref is not None and message.media_group_id is not None:
            # A channel's album forwarded here comes as one message per item (each naming its own post):
            # the album is saved once, as its first post, with one check through the customer's sessions.

            async def save_forwarded_album(messages: list[Message]) -> None:
                refs = [ref for ref in map(forwarded_post, messages) if ref is not None]
                first = min(refs, key=lambda ref: ref.msg_id)
                try:
                    saved = await post_service.save_link(db, engine, user_id, first, clock.now(), add_max_posts=add,
                                                         hold=hold)
                except AdbotError as exc:
                    await bot.send_message(message.chat.id, exc.user_message, reply_markup=kb.cancel())
                    return
                await state.clear()
                await after(saved, None)

            collector.add(user_id, message, save_forwarded_album)
            return
        if ref is not None:
            saved = await post_service.save_link(db, engine, user_id, ref, clock.now(), add_max_posts=add, hold=hold)
            await state.clear()
            await after(saved, None)
            return
        note = t.FROM_A_GROUP_ADMIN() if isinstance(message.forward_origin, MessageOriginChat) else (
            t.FROM_A_PERSON() if message.forward_origin is not None else None
        )
        if message.media_group_id is not None:
            await post_service.require(db, user_id, clock.now())

            async def save_album(messages: list[Message]) -> None:
                # Runs after the handler returned (the album's last item came a second ago): its refusals
                # are answered here, in the reader's language (this task keeps the handler's scope).
                try:
                    saved = await post_service.save_album(db, bot, user_id, messages, settings.paths.data_dir,
                                                          clock.now(), cap_bytes=_cap(settings), add_max_posts=add,
                                                          hold=hold)
                except AdbotError as exc:
                    await bot.send_message(message.chat.id, exc.user_message, reply_markup=kb.cancel())
                    return
                await state.clear()
                await after(saved, note)

            collector.add(user_id, message, save_album)
            return
        item = media_of(message)
        if item is not None:
            saved = await post_service.save_media(
                db, bot, user_id, item, message.caption or "", entity_dicts(message.caption_entities),
                settings.paths.data_dir, clock.now(), cap_bytes=_cap(settings), add_max_posts=add, hold=hold,
            )
        elif message.text:
            saved = await post_service.set_post(
                db, user_id, message.text, entity_dicts(message.entities), clock.now(), engine=engine,
                link_allowed=message.forward_origin is None, add_max_posts=add, hold=hold,
            )
        else:
            await message.answer(t.POST_NOT_SUPPORTED(), reply_markup=kb.cancel())
            return
        await state.clear()
        await after(saved, note)

    return on_message


async def _settle(
    chat_id: int, db: Database, bot: Bot, settings: Settings, saved: PostSaved, note: str | None
) -> None:
    """After any save: the preview, then the kept files no post uses any more are let go."""
    await _preview(chat_id, bot, saved, note)
    await post_service.prune_kept_media(db, settings.paths.data_dir)


def _cap(settings: Settings) -> int:
    """What one customer's own post may keep on disk, in bytes."""
    return settings.engine.max_post_media_mb * 1024 * 1024


async def _preview(chat_id: int, bot: Bot, saved: PostSaved, note: str | None) -> None:
    """The post as groups will see it, then (last, with the buttons) what was saved and how it is sent.

    A link's post is described from what the session that checked it read (its text, an album's size):
    the bot itself is in no customer's channel, so it cannot forward the post here (a request that would
    only fail). Own content is sent back exactly as the sessions will send it."""
    customer = saved.customer
    added = saved.added  # /posts' Add: said as added, with the way back to the list
    said = saved.text if added is None else posts_texts.post_added(added.position + 1, added.title)
    parts = [said] if note is None else [note, said]
    if customer.post_kind == "link" and customer.post_link:
        info = saved.info
        if info is not None:
            parts.append(t.preview_of_link(customer.post_link, info.excerpt, info.album_size))
        parts.append(t.header_line(customer.drop_author))
        markup = kb.post_header(customer.drop_author) if added is None else kb.posts_back()
        await bot.send_message(chat_id, "\n\n".join(parts), reply_markup=markup)
        return
    await copy_back(bot, chat_id, saved)
    parts.append(t.PREVIEW_OWN())
    markup = kb.back_to_menu() if added is None else kb.posts_back()
    await bot.send_message(chat_id, "\n\n".join(parts), reply_markup=markup)


async def copy_back(bot: Bot, chat_id: int, saved: PostSaved, *, link_preview: bool = True) -> None:
    """The customer's own post sent back exactly as stored, as the sessions send it (text and formatting,
    the same files by their file_id, the album's captions; a text's link preview as set on /posts)."""
    media = saved.media
    if not media:
        customer = saved.customer
        await bot.send_message(chat_id, customer.post_text or "", entities=_entities(customer.post_entities),
                               parse_mode=None, link_preview_options=None if link_preview else NO_PREVIEW)
        return
    if len(media) == 1:
        row = media[0]
        caption, entities = row.caption or None, _entities(row.entities) if row.caption else None
        if row.kind == "photo":
            await bot.send_photo(chat_id, row.file_id, caption=caption, caption_entities=entities, parse_mode=None)
        elif row.kind == "video":
            await bot.send_video(chat_id, row.file_id, caption=caption, caption_entities=entities, parse_mode=None)
        elif row.kind == "animation":
            await bot.send_animation(chat_id, row.file_id, caption=caption, caption_entities=entities,
                                     parse_mode=None)
        else:
            await bot.send_document(chat_id, row.file_id, caption=caption, caption_entities=entities,
                                    parse_mode=None)
        return
    group: list[InputMediaPhoto | InputMediaVideo | InputMediaDocument] = []
    for row in media:
        caption, entities = row.caption or None, _entities(row.entities) if row.caption else None
        if row.kind == "document":
            group.append(InputMediaDocument(media=row.file_id, caption=caption, caption_entities=entities,
                                            parse_mode=None))
        elif row.kind == "video":
            group.append(InputMediaVideo(media=row.file_id, caption=caption, caption_entities=entities,
                                         parse_mode=None))
        else:
            group.append(InputMediaPhoto(media=row.file_id, caption=caption, caption_entities=entities,
                                         parse_mode=None))
    await bot.send_media_group(chat_id, group)  # type: ignore[arg-type]  # aiogram's union lacks our list type


def _entities(dicts: Sequence[Mapping[str, Any]]) -> list[MessageEntity] | None:
    """Stored entity dicts as aiogram's; a mention of a user by id (kept by id only) is left out here."""
    return [MessageEntity(**e) for e in dicts if "user" not in e] or None


async def on_header(callback: CallbackQuery, callback_data: PostHeaderCb, db: Database, clock: Clock) -> None:
    customer = await post_service.set_drop_author(db, sender_id(callback), callback_data.drop, clock.now())
    if customer is None:
        await answer_callback(callback, t.NO_LINK_POST(), alert=True)
        return
    await show(callback, t.header_changed(customer.drop_author), kb.post_header(customer.drop_author))  # answers it


async def on_post_button(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    customer, media = await post_service.current(db, sender_id(callback), clock.now())
    current = t.post_current(customer.post_kind, customer.post_link, customer.post_text, media,
                             count=customer.post_count, rotation=customer.rotation)
    await show(callback, current, kb.post())


def setup(collector: AlbumCollector | None = None) -> Router:
    collector = collector or AlbumCollector()
    pendings = PendingPosts()
    router = Router(name="customer_post")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, _make_on_post(pendings), Command("post"), menu_button(MenuAction.SET_POST))
    on_message = _make_on_message(collector, pendings)
    router.message.register(on_message, PostForm.waiting, F.func(lambda m: not (m.text or "").startswith("/")))
    router.message.register(on_message, PostForm.adding, F.func(lambda m: not (m.text or "").startswith("/")))
    router.message.register(on_message, F.forward_origin.type == "channel")
    router.callback_query.register(on_post_button, menu_button(MenuAction.POST))
    router.callback_query.register(on_header, PostHeaderCb.filter())
    router.callback_query.register(_make_on_choice(pendings), PostChoiceCb.filter())
    router.shutdown.register(collector.flush)
    return router
