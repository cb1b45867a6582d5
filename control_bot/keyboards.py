"""Every inline keyboard of the control bot (``InlineKeyboardBuilder`` + ``adjust``)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from control_bot import callbacks as cb
from control_bot import texts as t

# --- customer side ---------------------------------------------------------------------------------


# --- admin side ------------------------------------------------------------------------------------
