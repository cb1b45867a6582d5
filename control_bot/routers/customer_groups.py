"""/groups, /addgroups (text or a .txt file), the group picker (/pickgroups: Telegram's chat-request
button), /delgroup (by name or number, or a group's 🗑 button), default groups and resuming paused groups."""

from __future__ import annotations

import io
import math

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from control_bot import keyboards as kb
from control_bot.callbacks import GroupRemoveCb, GroupResumeCb, GroupsPageCb, GroupsPickCb, MenuAction, menu_button
from control_bot.filters import IsPrivate
from control_bot.render import answer_callback, register_screen, show
from control_bot.routers.common import command_args, sender_id
from control_bot.services import campaign
from control_bot.services import groups as group_service
from control_bot.services.campaign import CampaignEngine
from control_bot.services.chat_lookup import BotChatLookup
from control_bot.services.groups import AddGroupsResult
from control_bot.services.reach import GroupReach, Reach
from core.clock import Clock
from core.errors import InputError
from core.texts import groups as group_texts
from core.texts import reach as rt
from storage.db import Database
from storage.groups import Group


class GroupsForm(StatesGroup):
    adding = State()
    removing = State()


def _line_state(group: Group, reach: GroupReach, now: float) -> str:
    return rt.group_state(group.paused_reason, group.slowmode_until, group.slowmode_seconds, now, reach)


async def groups_screen(db: Database, user_id: int, page: int, now: float) -> tuple[str, InlineKeyboardMarkup]:
    view = await group_service.list_groups(db, user_id, now)
    own = view.groups
    per_page = kb.GROUPS_PAGE
    pages = max(1, math.ceil(len(own) / per_page))
    page = min(max(page, 0), pages - 1)
    first = page * per_page + 1
    shown = own[page * per_page : (page + 1) * per_page]
    paused = sum(1 for g in own if not g.active)
    # Paused groups are counted as paused, not by their reach (no post goes there either way).
    active_reach = [view.reach[g.ref] for g in own if g.active]
    checking = sum(1 for r in active_reach if r.reach in (Reach.CHECKING, Reach.NO_SESSIONS))
    reachable = sum(1 for r in active_reach if r.reachable)
    summary = rt.groups_reach_summary(
        reachable=reachable, unreachable=len(active_reach) - reachable - checking, checking=checking
    )
    text = group_texts.groups_list(
        [(g.ref, g.title, _line_state(g, view.reach[g.ref], now)) for g in shown],
        first=first,
        total=len(own),
        active=len(own) - paused,
        paused=paused,
        page=page,
        pages=pages,
        limit=group_service.MAX_GROUPS_PER_CUSTOMER,
        summary=summary,
    )
    markup = kb.groups_screen(
        [(g.id, number, g.ref, not g.active) for number, g in enumerate(shown, start=first)],
        page,
        pages,
        await group_service.has_default_groups(db),
    )
    return text, markup


def _added(result: AddGroupsResult) -> str:
    return group_texts.groups_added(
        result.added,
        result.existing,
        result.bad,
        result.over_limit,
        result.limit,
        result.total,
        refused=result.refused,
        unchecked_topics=result.unchecked_topics,
        unchecked=result.unchecked,
    )


async def on_groups(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    text, markup = await groups_screen(db, sender_id(event), 0, clock.now())
    await show(event, text, markup)


async def on_groups_page(callback: CallbackQuery, callback_data: GroupsPageCb, db: Database, clock: Clock) -> None:
    text, markup = await groups_screen(db, sender_id(callback), callback_data.page, clock.now())
    await show(callback, text, markup)


async def _ask(event: Message | CallbackQuery, state: FSMContext, db: Database, clock: Clock, form: State) -> None:
    await campaign.require_customer(db, sender_id(event), clock.now())
    await state.set_state(form)
    ask = group_texts.GROUPS_ASK() if form == GroupsForm.adding else group_texts.DEL_GROUP_ASK()
    await show(event, ask, kb.cancel())


def _read_dialogs(engine: CampaignEngine, user_id: int, result: AddGroupsResult) -> None:
    """New groups: the customer's sessions' dialogs are read now (in the background), so /groups soon
    says which they can reach instead of waiting for the next cycle."""
    if result.added:
        engine.refresh_memberships_soon(user_id)


async def on_addgroups(
    event: Message | CallbackQuery,
    state: FSMContext,
    bot: Bot,
    db: Database,
    clock: Clock,
    engine: CampaignEngine,
    command: CommandObject | None = None,
) -> None:
    """/addgroups <groups> adds them; /addgroups alone, or the Add button, asks for them."""
    args = command_args(command)
    if not args.strip():
        await _ask(event, state, db, clock, GroupsForm.adding)
        return
    result = await group_service.add_groups(db, sender_id(event), args, clock.now(), lookup=BotChatLookup(bot))
    _read_dialogs(engine, sender_id(event), result)
    await show(event, _added(result), kb.back_to_menu())


async def on_addgroups_answer(
    message: Message, state: FSMContext, bot: Bot, db: Database, clock: Clock, engine: CampaignEngine
) -> None:
    result = await group_service.add_groups(
        db, sender_id(message), message.text or "", clock.now(), lookup=BotChatLookup(bot)
    )
    _read_dialogs(engine, sender_id(message), result)
    await state.clear()
    await message.answer(_added(result), reply_markup=kb.back_to_menu())


async def on_groups_file(
    message: Message, state: FSMContext, bot: Bot, db: Database, clock: Clock, engine: CampaignEngine
) -> None:
    document = message.document
    assert document is not None  # the filter registered below
    user_id = sender_id(message)
    await campaign.require_customer(db, user_id, clock.now())
    if not (document.file_name or "").lower().endswith(".txt"):
        raise InputError(group_texts.GROUPS_FILE_NOT_TXT())
    if (document.file_size or 0) > group_service.MAX_GROUPS_FILE_BYTES:
        raise InputError(group_texts.groups_file_too_big(group_service.MAX_GROUPS_FILE_BYTES // 1024))
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    refs = group_service.decode_groups_file(buffer.getvalue())
    result = await group_service.add_groups(db, user_id, refs, clock.now(), lookup=BotChatLookup(bot))
    _read_dialogs(engine, user_id, result)
    await state.clear()
    await message.answer(_added(result), reply_markup=kb.back_to_menu())


async def on_defaults(
    event: Message | CallbackQuery, bot: Bot, db: Database, clock: Clock, engine: CampaignEngine
) -> None:
    result = await group_service.add_default_groups(db, sender_id(event), clock.now(), lookup=BotChatLookup(bot))
    _read_dialogs(engine, sender_id(event), result)
    await show(event, _added(result), kb.back_to_menu())


# --- the group picker --------------------------------------------------------------------------------


async def on_pick(event: Message | CallbackQuery, db: Database, clock: Clock) -> None:
    """/pickgroups or the Pick button: a reply keyboard with Telegram's chat-request button (groups only,
    with their title and username) and Done. A reply keyboard comes with a new message, never an edit."""
    await campaign.require_customer(db, sender_id(event), clock.now())
    if isinstance(event, CallbackQuery):
        if event.bot is None:
            raise RuntimeError("callback query without a bot")
        await event.bot.send_message(sender_id(event), group_texts.PICK_GROUPS_ASK(), reply_markup=kb.pick_groups())
        await answer_callback(event, None)
        return
    await event.answer(group_texts.PICK_GROUPS_ASK(), reply_markup=kb.pick_groups())


async def on_chat_shared(message: Message, db: Database, clock: Clock, engine: CampaignEngine) -> None:
    shared = message.chat_shared
    assert shared is not None  # the filter registered below
    user_id = sender_id(message)
    result = await group_service.add_picked_group(
        db, user_id, shared.chat_id, shared.title, shared.username, clock.now()
    )
    _read_dialogs(engine, user_id, result)
    await message.answer(_added(result))  # the picker keyboard stays for the next group


def _is_done(message: Message) -> bool:
    """The Done button of the picker, in the reader's language (the locale scope is set by then)."""
    return message.text == group_texts.BTN_PICK_DONE()


async def on_pick_done(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(group_texts.PICK_DONE(), reply_markup=ReplyKeyboardRemove())


# --- removing ------------------------------------------------------------------------------------------


async def on_delgroup(
    event: Message | CallbackQuery, state: FSMContext, db: Database, clock: Clock, command: CommandObject | None = None
) -> None:
    """/delgroup <group or number> removes it; /delgroup alone, or the Remove button, asks which."""
    args = command_args(command)
    if not args.strip():
        await _ask(event, state, db, clock, GroupsForm.removing)
        return
    ref, left = await group_service.remove_group(db, sender_id(event), args, clock.now())
    await show(event, group_texts.group_removed(ref, left), kb.back_to_menu())


async def on_delgroup_answer(message: Message, state: FSMContext, db: Database, clock: Clock) -> None:
    ref, left = await group_service.remove_group(db, sender_id(message), message.text or "", clock.now())
    await state.clear()
    await message.answer(group_texts.group_removed(ref, left), reply_markup=kb.back_to_menu())


async def on_remove_button(callback: CallbackQuery, callback_data: GroupRemoveCb, db: Database, clock: Clock) -> None:
    user_id = sender_id(callback)
    ref, _left = await group_service.remove_group_by_id(db, user_id, callback_data.group_id, clock.now())
    text, markup = await groups_screen(db, user_id, callback_data.page, clock.now())
    await show(callback, text, markup, toast=group_texts.group_removed_toast(ref))


async def on_resume(callback: CallbackQuery, callback_data: GroupResumeCb, db: Database, clock: Clock) -> None:
    user_id = sender_id(callback)
    group = await group_service.resume_group(db, user_id, callback_data.group_id, clock.now())
    text, markup = await groups_screen(db, user_id, 0, clock.now())
    await show(callback, text, markup, toast=group_texts.group_resumed(group.ref))


async def on_not_text_answer(message: Message) -> None:
    await message.answer(group_texts.GROUPS_FILE_NOT_TXT(), reply_markup=kb.cancel())


def setup() -> Router:
    router = Router(name="customer_groups")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_groups, Command("groups"), menu_button(MenuAction.GROUPS))
    register_screen(router, on_addgroups, Command("addgroups"), menu_button(MenuAction.ADD_GROUPS))
    register_screen(router, on_delgroup, Command("delgroup"), menu_button(MenuAction.DEL_GROUP))
    register_screen(router, on_defaults, Command("usedefaults"), menu_button(MenuAction.DEFAULT_GROUPS))
    register_screen(router, on_pick, Command("pickgroups"), GroupsPickCb.filter())
    router.message.register(on_chat_shared, F.chat_shared.request_id == kb.PICK_GROUPS_REQUEST_ID)
    router.message.register(on_pick_done, F.text, _is_done)
    router.message.register(on_addgroups_answer, GroupsForm.adding, F.text, ~F.text.startswith("/"))
    router.message.register(on_delgroup_answer, GroupsForm.removing, F.text, ~F.text.startswith("/"))
    # A document from a customer can only be a list of groups (admins' uploads are routed before us).
    router.message.register(on_groups_file, F.document)
    router.message.register(on_not_text_answer, GroupsForm.adding, ~F.text)
    router.callback_query.register(on_groups_page, GroupsPageCb.filter())
    router.callback_query.register(on_resume, GroupResumeCb.filter())
    router.callback_query.register(on_remove_button, GroupRemoveCb.filter())
    return router
