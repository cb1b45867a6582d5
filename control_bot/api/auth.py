"""``X-API-Key`` on every call: compared with ``hmac.compare_digest`` against every configured key (no early
exit, so the time taken says nothing about which key nearly matched); keys are never logged."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from pydantic import SecretStr

HEADER = "X-API-Key"


class KeyCheck:
    def __init__(self, keys: Sequence[SecretStr]) -> None:
        self._keys = tuple(k.get_secret_value().encode() for k in keys)

    def __repr__(self) -> str:  # never the keys
        return f"KeyCheck({len(self._keys)} key(s))"

    def accepts(self, presented: str | None) -> bool:
        if not presented or not self._keys:
            return False
        try:
            given = presented.encode("ascii")
        except UnicodeEncodeError:
            return False
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(given, key)
        return matched
