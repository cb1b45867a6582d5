"""Webhooks, as Telegram runs them: ``setWebhook`` / ``deleteWebhook`` / ``getWebhookInfo``, ``getUpdates``
refused while a webhook is set, and the updates POSTed to the webhook one at a time, in order, with the
``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set. An update leaves the queue only when the
bot answered 2xx; any other answer (or none) is kept, written into ``getWebhookInfo``'s last error and
tried again after a pause, as Telegram does.

Strict like api.telegram.org: the URL must be HTTPS on port 443, 80, 88 or 8443 and not a reserved
address. ``local=True`` is a local Bot API server (``telegram-bot-api --local``, what ``[bot] api_base``
may point to), which also takes HTTP, any port and local addresses: the only way a test can be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from urllib.parse import urlsplit

import aiohttp

from sandbox.botapi.methods import BotMethods
from sandbox.botapi.models import JsonDict
from sandbox.botapi.protocol import ApiError, Params, bad_request

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_SECRET = re.compile(r"[A-Za-z0-9_-]*")
_PORTS = (80, 88, 443, 8443)
RETRY_PAUSE = 0.2  # seconds before a failed delivery is tried again (Telegram waits longer; tests wait on events)


class WebhookMethods(BotMethods):
    """The webhook's state and its delivery task (one per emulator)."""

    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        super().__init__(bot_id, bot_username, bot_name)
        self.local_mode = False
        self._webhook_url = ""
        self._webhook_secret = ""
        self._webhook_max_connections = 40
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_posts: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None: no answer)

    @property
    def webhook_url(self) -> str:
        return self._webhook_url

    # ---- methods ---------------------------------------------------------------------------------

    def _poll_refused(self) -> ApiError | None:
        # also ends a long poll that was waiting when the webhook was set: no update goes both ways
        if not self._webhook_url:
            return None
        return ApiError(
            409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
            "the webhook first"
        )

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        refused = self._poll_refused()
        if refused is not None:
            raise refused
        return await super()._get_updates(params)

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if self.local_mode:
            return
        if parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in _PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return
        if not address.is_global:
            raise bad_request(f"bad webhook: IP address {address} is reserved")

    async def _set_webhook(self, params: Params) -> bool:
        url = (params.get_str("url") or "").strip()
        secret = params.get_str("secret_token") or ""
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get_int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get_json("allowed_updates", "can't parse allowed_updates JSON object")
        if url:
            self._check_url(url)
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("allowed_updates must be an array of strings")
            self._allowed_updates = frozenset(allowed) if allowed else None
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._webhook_url, self._webhook_secret = url, secret
        self._webhook_max_connections = max_connections
        self._webhook_error = None
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._deliver(), name="emulator-webhook")
        self.notify_changed()  # a long poll waiting now ends with the conflict
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self._webhook_url, self._webhook_secret = "", ""
        self.notify_changed()
        return await super()._delete_webhook(params)

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        info: JsonDict = {"url": self._webhook_url, "has_custom_certificate": False,
                          "pending_update_count": len(self._updates)}
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ---- delivery --------------------------------------------------------------------------------

    async def _next_update(self) -> JsonDict | None:
        """The next update to post, or None once the webhook is gone or the emulator stops."""
        while True:
            if self._stopping or not self._webhook_url:
                return None
            batch = self._deliverable(1)
            if batch:
                return batch[0]
            await self._changed.wait()

    async def _deliver(self) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while (update := await self._next_update()) is not None:
                url, secret = self._webhook_url, self._webhook_secret
                headers = {SECRET_HEADER: secret} if secret else {}
                status: int | None = None
                try:
                    async with http.post(url, json=update, headers=headers) as response:
                        status = response.status
                        await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self._webhook_error = (int(time.time()), _connection_error(exc))
                self.webhook_posts.append((int(update["update_id"]), status))
                if status is not None and 200 <= status < 300:
                    self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    self.notify_changed()
                    continue
                if status is not None:
                    self._webhook_error = (int(time.time()), f"Wrong response from the webhook: {status}")
                self.notify_changed()
                logger.debug("webhook delivery of update %s failed (%s); retrying", update["update_id"], status)
                await asyncio.sleep(RETRY_PAUSE)

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _connection_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "Read timeout expired"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "Connection refused"
    return "Connection error"
