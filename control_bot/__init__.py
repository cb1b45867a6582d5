"""The aiogram control bot: routers, keyboards, texts, services, CLI and app wiring."""
