"""/posts: the campaign's several posts (issue 19).

* The list, "N of max", one line each, a button per post; Add (the /post intake in add mode:
  ``routers.customer_post``), the rotation picker, the copy options and, with the rotation fixed per
  group, the post of each group.
* A post's screen: 👁 preview (sent here as groups will see it, as the /post router shows a saved post),
  ⬆ ⬇, 🗑 (confirmed first), and a text post's link preview switch.

Handlers are thin: every change goes through ``services.posts``; a post or group id from a button is the
client's and is checked against the presser's own (a forged or stale one shows the list again).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from control_bot import keyboards as kb
from control_bot.callbacks import PostsAction, PostsCb, posts_button
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers import customer_post
from control_bot.routers.common import sender_id
from control_bot.services import posts as posts_service
from control_bot.services.group_posts import GroupPost, group_posts
from control_bot.services.ids import is_id
from control_bot.services.posts import PostSummary, PostsView
from core.clock import Clock
from core.config import Settings
from core.texts import post as post_texts
from core.texts import posts as t
from storage.db import Database

GROUPS_PAGE = 10  # groups per page of "the post of each group"


async def _view(db: Database, settings: Settings, user_id: int, clock: Clock) -> PostsView:
    return await posts_service.posts_view(db, user_id, max_posts=settings.engine.max_posts, now=clock.now())


def _numbered(view: PostsView) -> list[tuple[int, PostSummary]]:
    return list(enumerate(view.posts, start=1))


def _find(view: PostsView, post_id: int) -> tuple[int, PostSummary] | None:
    """The post's number in the list and its summary; None for an id that is not one of them."""
    return next(((number, p) for number, p in _numbered(view) if p.id == post_id), None)


def posts_screen(view: PostsView) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        t.post_line(number, p.title, preview_off=p.kind == "text" and not p.link_preview,
                    custom_emoji=p.has_custom_emoji, unusable=p.unusable)
        for number, p in _numbered(view)
    ]
    text = t.posts_screen(lines, view.max_posts, view.rotation, view.drop_author, view.drop_media_captions)
    markup = kb.posts_list([(p.id, number, p.title) for number, p in _numbered(view)], view.rotation == "fixed")
    return text, markup


async def on_posts(
    event: Message | CallbackQuery, db: Database, clock: Clock, settings: Settings, toast: str | None = None
) -> None:
    """/posts and the Posts buttons: the list."""
    view = await _view(db, settings, sender_id(event), clock)
    await show(event, *posts_screen(view), toast=toast)


async def _post_screen(event: CallbackQuery, view: PostsView, post_id: int, toast: str | None = None) -> None:
    found = _find(view, post_id) if is_id(post_id) else None
    if found is None:
        await show(event, *posts_screen(view), toast=t.POST_GONE())
        return
    number, p = found
    text = t.post_screen(number, len(view.posts), p.title, p.kind, p.media_count, link_preview=p.link_preview,
                         custom_emoji=p.has_custom_emoji)
    markup = kb.post_screen(p.id, text_post=p.kind == "text", link_preview=p.link_preview, first=number == 1,
                            last=number == len(view.posts))
    await show(event, text, markup, toast=toast)


async def on_open(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                  settings: Settings) -> None:
    await _post_screen(callback, await _view(db, settings, sender_id(callback), clock), callback_data.post)


async def _own(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
               settings: Settings) -> tuple[PostsView, int, PostSummary] | None:
    """The pressed post when it is one of the presser's; otherwise the list is shown again, and None."""
    view = await _view(db, settings, sender_id(callback), clock)
    found = _find(view, callback_data.post) if is_id(callback_data.post) else None
    if found is None:
        await show(callback, *posts_screen(view), toast=t.POST_GONE())
        return None
    return view, *found


async def on_move(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                  settings: Settings) -> None:
    if await _own(callback, callback_data, db, clock, settings) is None:
        return
    user_id = sender_id(callback)
    delta = -1 if callback_data.action == PostsAction.UP else 1
    await posts_service.move_post(db, user_id, callback_data.post, delta, now=clock.now())
    await _post_screen(callback, await _view(db, settings, user_id, clock), callback_data.post)


async def on_remove(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                    settings: Settings) -> None:
    """🗑: asks first."""
    found = await _own(callback, callback_data, db, clock, settings)
    if found is None:
        return
    view, number, p = found
    await show(callback, t.remove_ask(number, p.title, len(view.posts) == 1), kb.post_remove_confirm(p.id))


async def on_remove_yes(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                        settings: Settings) -> None:
    if await _own(callback, callback_data, db, clock, settings) is None:
        return
    await posts_service.remove_post(db, sender_id(callback), callback_data.post, now=clock.now())
    await on_posts(callback, db, clock, settings, toast=t.POST_REMOVED())


async def on_link_preview(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                          settings: Settings) -> None:
    if await _own(callback, callback_data, db, clock, settings) is None:
        return
    user_id = sender_id(callback)
    on = callback_data.action == PostsAction.PREVIEW_ON
    await posts_service.set_link_preview(db, user_id, callback_data.post, on, now=clock.now())
    view = await _view(db, settings, user_id, clock)
    await _post_screen(callback, view, callback_data.post, toast=t.link_preview_changed(on))


async def on_preview(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                     settings: Settings, bot: Bot) -> None:
    """The post sent here as groups will see it: own content copied back exactly as the sessions send it
    (the /post router's copy), a channel's post described (the bot is in no customer's channel)."""
    found = await _own(callback, callback_data, db, clock, settings)
    if found is None:
        return
    view, _number, p = found
    saved = await posts_service.post_for_preview(db, sender_id(callback), p.id, now=clock.now())
    await answer_callback(callback)
    chat_id = callback.from_user.id
    customer = saved.customer
    if customer.post_kind == "link" and customer.post_link:
        text = "\n\n".join([post_texts.preview_of_link(customer.post_link, "", 1),
                            post_texts.header_line(view.drop_author)])
    else:
        await customer_post.copy_back(bot, chat_id, saved, link_preview=p.link_preview)
        text = post_texts.PREVIEW_OWN()
    await bot.send_message(chat_id, text, reply_markup=kb.posts_back(p.id))


# --- add ----------------------------------------------------------------------------------------------


async def on_add(callback: CallbackQuery, state: FSMContext, db: Database, clock: Clock, settings: Settings) -> None:
    """➕: the post intake, adding (``routers.customer_post``); with the list full, why not, in words."""
    view = await _view(db, settings, sender_id(callback), clock)
    if len(view.posts) >= view.max_posts:
        await answer_callback(callback, t.posts_full(view.max_posts), alert=True)
        return
    await state.set_state(customer_post.PostForm.adding)
    await show(callback, t.ADD_ASK(), kb.cancel())


# --- rotation and copy options ------------------------------------------------------------------------


async def on_rotation(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    view = await _view(db, settings, sender_id(callback), clock)
    await show(callback, t.rotation_screen(view.rotation), kb.posts_rotation(view.rotation))


async def on_set_rotation(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                          settings: Settings) -> None:
    user_id = sender_id(callback)
    mode = callback_data.value
    if mode not in kb.ROTATIONS:  # a forged value changes nothing
        await on_rotation(callback, db, clock, settings)
        return
    await posts_service.set_rotation(db, user_id, mode, now=clock.now())
    await show(callback, t.rotation_screen(mode), kb.posts_rotation(mode), toast=t.rotation_changed(mode))


async def on_copy(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings) -> None:
    view = await _view(db, settings, sender_id(callback), clock)
    await show(callback, t.copy_screen(view.drop_author, view.drop_media_captions),
               kb.posts_copy(view.drop_author, view.drop_media_captions))


async def on_set_copy(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                      settings: Settings) -> None:
    choice = kb.COPY_MODES.get(callback_data.value)
    if choice is None:  # a forged value changes nothing
        await on_copy(callback, db, clock, settings)
        return
    drop_author, drop_captions = choice
    await posts_service.set_copy_mode(db, sender_id(callback), drop_author=drop_author,
                                      drop_media_captions=drop_captions, now=clock.now())
    await show(callback, t.copy_screen(drop_author, drop_captions), kb.posts_copy(drop_author, drop_captions),
               toast=t.copy_changed(drop_author, drop_captions))


# --- the post of each group ---------------------------------------------------------------------------


async def _group_posts_screen(callback: CallbackQuery, db: Database, clock: Clock, settings: Settings, page: int,
                              toast: str | None = None) -> None:
    user_id = sender_id(callback)
    view = await _view(db, settings, user_id, clock)
    rows = await group_posts(db, user_id, clock.now())
    numbers = {p.id: (number, p.title) for number, p in _numbered(view)}
    pages = max(1, math.ceil(len(rows) / GROUPS_PAGE))
    page = min(max(page, 0), pages - 1)
    first = page * GROUPS_PAGE + 1
    shown = rows[page * GROUPS_PAGE: (page + 1) * GROUPS_PAGE]
    lines = []
    for number, row in enumerate(shown, start=first):
        post_number, title = numbers.get(row.post_id or 0, (None, ""))
        lines.append(t.group_post_line(number, row.ref, post_number, title))
    text = t.group_posts_screen(lines, page, pages, view.rotation == "fixed")
    markup = kb.group_posts([(row.group_id, n, row.ref) for n, row in enumerate(shown, start=first)], page, pages)
    await show(callback, text, markup, toast=toast)


async def on_group_posts(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                         settings: Settings) -> None:
    await _group_posts_screen(callback, db, clock, settings, callback_data.page)


async def _group(db: Database, user_id: int, group_id: int, clock: Clock) -> GroupPost | None:
    """The pressed group when it is one of the presser's."""
    if not is_id(group_id):
        return None
    return next((row for row in await group_posts(db, user_id, clock.now()) if row.group_id == group_id), None)


async def on_group(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                   settings: Settings) -> None:
    """One group's post picker."""
    user_id = sender_id(callback)
    found = await _group(db, user_id, callback_data.group, clock)
    if found is None:
        await _group_posts_screen(callback, db, clock, settings, callback_data.page, toast=t.GROUP_GONE())
        return
    view = await _view(db, settings, user_id, clock)
    shown = [(p.id, number, p.title) for number, p in _numbered(view)]
    markup = kb.group_post_pick(found.group_id, shown, found.post_id, callback_data.page)
    await show(callback, t.group_post_ask(found.ref), markup)


async def on_set_group(callback: CallbackQuery, callback_data: PostsCb, db: Database, clock: Clock,
                       settings: Settings) -> None:
    """A group's post chosen (``post`` 0: it follows the order)."""
    user_id = sender_id(callback)
    found = await _group(db, user_id, callback_data.group, clock)
    view = await _view(db, settings, user_id, clock)
    post = _find(view, callback_data.post) if is_id(callback_data.post) else None
    if found is None or (callback_data.post and post is None):
        gone = t.GROUP_GONE() if found is None else t.POST_GONE()
        await _group_posts_screen(callback, db, clock, settings, callback_data.page, toast=gone)
        return
    await posts_service.set_group_post(db, user_id, found.ref, post[1].id if post else None, now=clock.now())
    changed = t.group_post_changed(found.ref, post[0] if post else None)
    await _group_posts_screen(callback, db, clock, settings, callback_data.page, toast=changed)


def setup() -> Router:
    router = Router(name="customer_posts")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_posts, Command("posts"), posts_button(PostsAction.LIST))
    handlers: dict[PostsAction, Callable[..., Awaitable[None]]] = {
        PostsAction.OPEN: on_open, PostsAction.PREVIEW: on_preview, PostsAction.UP: on_move,
        PostsAction.DOWN: on_move, PostsAction.REMOVE: on_remove, PostsAction.REMOVE_YES: on_remove_yes,
        PostsAction.PREVIEW_ON: on_link_preview, PostsAction.PREVIEW_OFF: on_link_preview, PostsAction.ADD: on_add,
        PostsAction.ROTATION: on_rotation, PostsAction.SET_ROTATION: on_set_rotation, PostsAction.COPY: on_copy,
        PostsAction.SET_COPY: on_set_copy, PostsAction.GROUPS: on_group_posts, PostsAction.GROUP: on_group,
        PostsAction.SET_GROUP: on_set_group,
    }
    for action, handler in handlers.items():
        router.callback_query.register(handler, posts_button(action))
    return router
