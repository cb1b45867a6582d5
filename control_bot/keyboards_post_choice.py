"""The buttons of /post's choice while the campaign has several posts (``routers.customer_post``): replace
them all, add the new one (only while the campaign holds more), or cancel."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from control_bot.callbacks import PostChoice, PostChoiceCb
from core.texts import customer as customer_texts
from core.texts import post as t


def post_choice(token: str, count: int, *, can_add: bool) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    b.button(text=t.btn_replace_all(count), callback_data=PostChoiceCb(action=PostChoice.REPLACE, token=token))
    if can_add:
        b.button(text=t.btn_add_as(count + 1), callback_data=PostChoiceCb(action=PostChoice.ADD, token=token))
    b.button(text=customer_texts.BTN_CANCEL(), callback_data=PostChoiceCb(action=PostChoice.CANCEL, token=token))
    b.adjust(1)
    return b.as_markup()
