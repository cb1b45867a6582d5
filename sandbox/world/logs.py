"""The world's two JSON-lines logs, so that a world outlives the processes of a crash test.

Delivered posts go to the log file itself, the chats a lenient world made up to ``<log>.chats.jsonl``
beside it. Every line is flushed as it is written, and read back when the next process builds its
world: a process killed with SIGKILL and restarted can be checked for double posts, and a peer the
engine cached in its database stays valid, as on Telegram.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

from sandbox.world.model import Delivery, SimChat

T = TypeVar("T")

logger = logging.getLogger(__name__)


class WorldLogs:
    """Writer and reader of both logs; a file is opened on its first line and kept open until close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.chats_path = path.with_name(path.stem + ".chats.jsonl")
        self._deliveries: IO[str] | None = None
        self._chats: IO[str] | None = None

    def deliveries(self) -> Iterator[Delivery]:
        return _read_jsonl(self.path, lambda item: Delivery(**item), "world log")

    def chats(self) -> Iterator[SimChat]:
        return _read_jsonl(self.chats_path, _made_up_chat, "world chats")

    def append_delivery(self, delivery: Delivery) -> None:
        self._deliveries = _append_jsonl(self._deliveries, self.path, delivery._asdict())

    def append_chat(self, chat: SimChat) -> None:
        """A chat a lenient world made up (its peer must stay valid in the next process)."""
        item = {"id": chat.id, "kind": chat.kind, "username": chat.username}
        self._chats = _append_jsonl(self._chats, self.chats_path, item)

    def close(self) -> None:
        for log in (self._deliveries, self._chats):
            if log is not None:
                log.close()
        self._deliveries = self._chats = None


def _append_jsonl(handle: IO[str] | None, path: Path, item: Mapping[str, Any]) -> IO[str]:
    """Append one line to ``path`` and flush it (the next process reads it back); opens the file on
    first use and returns the handle to keep."""
    if handle is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a", encoding="utf-8")
    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    handle.flush()
    return handle


def _read_jsonl(path: Path, parse: Callable[[Any], T], what: str) -> Iterator[T]:
    """What ``parse`` makes of each line of ``path`` (none when it does not exist); a line it cannot
    read, as a write torn by a kill leaves, is skipped with a warning."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        if not line.strip():
            continue
        try:
            item = parse(json.loads(line))
        except (ValueError, TypeError, KeyError):
            logger.warning("%s %s: skipping an unreadable line (torn write?)", what, path)
            continue
        yield item


def _made_up_chat(item: Mapping[str, Any]) -> SimChat:
    return SimChat(
        id=int(item["id"]),
        kind=item["kind"],
        username=item["username"],
        title=item["username"] or "",
        everyone=True,
        any_topic=True,
        any_post=True,
    )
