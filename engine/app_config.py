"""The account's standing from ``help.getAppConfig``: whether Telegram froze it.

The answer is ``help.appConfig`` holding a ``JSONValue`` (``jsonObject`` of ``jsonObjectValue`` key/value
pairs). A frozen account's config carries ``freeze_since_date`` and ``freeze_until_date`` (unix seconds:
when it was frozen, and when it is deleted unless an appeal succeeds) and ``freeze_appeal_url`` (the
link an admin follows to appeal). An account that is not frozen has none of them.
"""

from __future__ import annotations

from typing import Any

from telethon import types

from core.ports import AccountStatus

__all__ = ["json_value", "status_from_app_config"]


def json_value(value: Any) -> Any:
    """A TL ``JSONValue`` as plain Python (dict, list, str, float, bool, None)."""
    if isinstance(value, types.JsonObject):
        return {item.key: json_value(item.value) for item in value.value}
    if isinstance(value, types.JsonArray):
        return [json_value(item) for item in value.value]
    if isinstance(value, types.JsonString | types.JsonNumber | types.JsonBool):
        return value.value
    return None  # JsonNull, or a type this layer does not know


def status_from_app_config(answer: Any) -> AccountStatus:
    """The freeze fields of a ``help.getAppConfig`` answer (``help.appConfigNotModified``: nothing known)."""
    if not isinstance(answer, types.help.AppConfig):
        return AccountStatus()
    config = json_value(answer.config)
    if not isinstance(config, dict):
        return AccountStatus()
    appeal = config.get("freeze_appeal_url")
    return AccountStatus(
        frozen_since=_time(config.get("freeze_since_date")),
        frozen_until=_time(config.get("freeze_until_date")),
        appeal_url=appeal if isinstance(appeal, str) and appeal else None,
    )


def _time(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
