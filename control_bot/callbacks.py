"""Every ``CallbackData`` factory of the control bot (64 bytes max; the client can forge them, so
handlers validate what they refer to)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# --- customer side ---------------------------------------------------------------------------------


# --- admin side ------------------------------------------------------------------------------------
