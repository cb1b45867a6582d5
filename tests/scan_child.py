"""A child process for ``tests/test_scan_kill_telethon.py``: one real Telethon scan of a session file.

``python -m tests.scan_child <session file> <chats> <hang at>``: the engine's Telethon adapter (``TelethonFactory``,
``build_client`` on the file itself: Telethon's own ``SQLiteSession``) with only the network sender
replaced by the offline fake (``tests/fake_sender.py``) and Telegram's getDialogs played by
``tests/fake_dialogs.DialogsServer``. It connects, then reads the account's dialogs; before answering
each page it prints ``page <n>`` (flushed), and page ``<hang at>`` is never answered (0: every page is):
the test kills the process there, with the entities of the pages before it processed into the session
file by Telethon (in a transaction Telethon commits only when it saves or closes the session). A run
that is not killed reads every page, prints ``read <dialogs>`` and closes the account.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from telethon import functions

from core.ports import SessionCredentials
from engine.telethon_adapter import ClientSettings, TelethonFactory, build_client
from tests.fake_dialogs import DialogsServer, supergroups
from tests.fake_sender import FakeSender


async def main(path: Path, chats: int, hang_at: int) -> None:
    server = DialogsServer(main=supergroups(chats))
    asked = 0

    def answer(request: Any) -> Any:
        nonlocal asked
        asked += 1
        print(f"page {asked}", flush=True)
        if asked == hang_at:
            time.sleep(3600)  # the process is killed here
        return server.answer(request)

    def builder(credentials: SessionCredentials, settings: ClientSettings) -> Any:
        client = build_client(credentials, settings)
        FakeSender.install(client).always(functions.messages.GetDialogsRequest, answer)
        return client

    account = TelethonFactory(client_builder=builder).open(
        SessionCredentials(session_id=1, path=path, api_id=1, api_hash="0" * 32)
    )
    await account.connect()
    print("connected", flush=True)
    found = await account.dialogs()
    await account.close()
    print(f"read {len(found)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
