"""Where a session connects: its DC id's published address (``core.dcs``), never its file's.

A stored file's ``server_address``/``port`` are not trusted, even in files an older version stored as
uploaded (any IP and port, ``127.0.0.1:6379``, would become a connection target). ``build_client`` opens
Telethon's ``SQLiteSession`` itself and, when the file's address or port differ from the table's for
its DC id in the configured family, sets the table's (``set_dc``, saved) before the client exists.
The family must also match the client's ``use_ipv6``: Telethon's ``connect`` resets a session whose
address family differs to DC 2's default address, losing its DC (and the key then fails).

A test-server session (its row's ``test_mode``, ``[pool] allow_test_servers``) is pinned to the test DC
table instead, and only to it: its key exists on Telegram's test servers alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from telethon.sessions import Session, SQLiteSession

from core import dcs

logger = logging.getLogger(__name__)


def pin_address(session: Session, *, ipv6: bool, test: bool = False) -> None:
    """Point ``session`` at the table's address for its DC id (saved when it changes): the production
    table, or the test one for a test-server session (``test``). A session without a DC id of that table
    (an empty one: not logged in) is left to Telethon."""
    dc_id: Any = session.dc_id
    if dc_id not in (dcs.TEST_DC_IDS if test else dcs.DC_IDS):
        return
    address = dcs.address_for(dc_id, ipv6=ipv6, test=test)
    if (session.server_address, session.port) != (address, dcs.PORT):
        session.set_dc(dc_id, address, dcs.PORT)  # keeps the auth key (Telethon re-reads it)
        session.save()
        logger.info("session file's server address replaced by data centre %d's published one", dc_id)


def open_session_file(file: Path, *, ipv6: bool, test: bool = False) -> SQLiteSession:
    """Telethon's ``SQLiteSession`` for a stored file, pointed at its DC's published address (the test
    table's for a test-server session)."""
    session = SQLiteSession(str(file))
    try:
        pin_address(session, ipv6=ipv6, test=test)
    except BaseException:
        session.close()
        raise
    return session
