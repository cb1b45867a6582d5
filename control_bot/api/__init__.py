"""The integration API (issue 20 part C): a small JSON API over HTTP for a shop or a dashboard that sells
plans, served by aiohttp beside the bot, off by default (``[api]``; ``docs/API.md`` is its description).

- ``errors``: the JSON error envelope and its stable codes;
- ``auth``: every call needs ``X-API-Key``, compared in constant time with every configured key;
- ``service``: what each call does, through the same services as the bot (``services.admin.grant_in`` as
  /grant, ``services.campaign`` as the Run and Stop buttons), the plan grant made idempotent by its request id;
- ``routes``: parse, call the service, answer JSON;
- ``server``: the aiohttp runner (also the metrics endpoint's, ``control_bot.metrics``).
"""

from control_bot.api.routes import build_api
from control_bot.api.service import ApiContext

__all__ = ["ApiContext", "build_api"]
