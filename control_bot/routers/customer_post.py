"""/post: the message the campaign sends (a t.me link to forward, or a formatted text)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from control_bot import keyboards as kb
from control_bot.callbacks import MenuAction, menu_button
from control_bot.filters import IsPrivate
from control_bot.render import register_screen, show
from control_bot.routers.common import entity_dicts, sender_id
from control_bot.services import campaign
from control_bot.services import post as post_service
from control_bot.services.post import PostSaved
from core.clock import Clock
from core.texts import post as post_texts
from storage.db import Database


class PostForm(StatesGroup):
    waiting = State()


def _saved(saved: PostSaved) -> str:
    customer = saved.customer
    running = customer.status == "running"
    if customer.post_kind == "link" and customer.post_link:
        return post_texts.post_saved_link(customer.post_link, running, saved.source)
    return post_texts.post_saved_text(customer.post_text or "", running)


async def _ask(event: Message | CallbackQuery, state: FSMContext, db: Database, clock: Clock) -> None:
    customer = await campaign.require_customer(db, sender_id(event), clock.now())
    await state.set_state(PostForm.waiting)
    await show(event, post_texts.post_question(customer.post_kind, customer.post_link, customer.post_text), kb.cancel())


async def on_post(event: Message | CallbackQuery, state: FSMContext, db: Database, clock: Clock) -> None:
    """/post <link or text> sets it; /post alone, or the Set button, asks for it."""
    if isinstance(event, Message):
        text, entities = post_service.command_argument(event.text or "", entity_dicts(event.entities))
    else:
        text, entities = "", []
    if not text:
        await _ask(event, state, db, clock)
        return
    saved = await post_service.set_post(db, sender_id(event), text, entities, clock.now())
    await show(event, _saved(saved), kb.back_to_menu())


async def on_post_answer(message: Message, state: FSMContext, db: Database, clock: Clock) -> None:
    # A refused answer raises before the state is cleared: the question stays open for another try.
    saved = await post_service.set_post(
        db, sender_id(message), message.text or "", entity_dicts(message.entities), clock.now()
    )
    await state.clear()
    await message.answer(_saved(saved), reply_markup=kb.back_to_menu())


async def on_post_not_text(message: Message) -> None:
    await message.answer(post_texts.POST_NOT_TEXT(), reply_markup=kb.cancel())


async def on_post_button(callback: CallbackQuery, db: Database, clock: Clock) -> None:
    customer = await campaign.require_customer(db, sender_id(callback), clock.now())
    await show(callback, post_texts.post_current(customer.post_kind, customer.post_link, customer.post_text), kb.post())


def setup() -> Router:
    router = Router(name="customer_post")
    router.message.filter(IsPrivate())
    router.callback_query.filter(IsPrivate())
    register_screen(router, on_post, Command("post"), menu_button(MenuAction.SET_POST))
    router.message.register(on_post_answer, PostForm.waiting, F.text, ~F.text.startswith("/"))
    router.message.register(on_post_not_text, PostForm.waiting, ~F.text)
    router.callback_query.register(on_post_button, menu_button(MenuAction.POST))
    return router
