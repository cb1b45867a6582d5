"""Plain async service functions behind the bot's handlers (no aiogram in here)."""
