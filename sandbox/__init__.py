"""Offline Telegram: a Bot API emulator and a simulated world for tests and `adbot demo`."""
