"""Upload names: shown to the admin and used to pair a session with its sidecar, never as a path."""

from __future__ import annotations

import re
from typing import Literal

UploadKind = Literal["session", "sidecar", "zip", "other"]
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
MAX_SHOWN = 120


def display_name(name: str) -> str:
    """The name as it may be shown: no control or bidi characters, bounded length."""
    text = _CONTROL_RE.sub("?", name).strip() or "(unnamed)"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def base_name(name: str) -> str:
    """The last path component, whatever separator the sender's system used."""
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    return parts[-1] if parts else ""


def kind_of(name: str) -> UploadKind:
    lower = base_name(name).lower()
    if lower.endswith(".session"):
        return "session"
    if lower.endswith(".json"):
        return "sidecar"
    if lower.endswith(".zip"):
        return "zip"
    return "other"


def stem_of(name: str) -> str:
    """``+1555.session`` and ``+1555.json`` (also ``+1555.session.json``) share the stem ``+1555``; so do
    ``+1555.txt`` (session strings) and ``+1555.json``."""
    base = base_name(name)
    for suffix in (".json", ".session", ".txt"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base[:200]
