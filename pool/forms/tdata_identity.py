"""The identity a session read from a tdata folder brings: Telegram Desktop's own app, as a sidecar's
app would (``pool.identity``: chosen once, at intake).

A tdata stores no app id because it is always the official Telegram Desktop app (api_id 2040). Such a
session keeps looking like that app only with the same app id, a desktop device and the ``tdesktop``
language pack; a ``.json`` sidecar for it, when there is one, wins (as for any form).
"""

from __future__ import annotations

from pool import devices
from pool.forms.tdata import TDESKTOP_API_HASH, TDESKTOP_API_ID, TDESKTOP_LANG_PACK
from pool.sidecar import Sidecar


def tdesktop_sidecar(auth_key_sha: str) -> Sidecar:
    """What a sidecar for this tdata account would say: Telegram Desktop, a desktop device."""
    device = {**devices.tdesktop_profile(auth_key_sha), "lang_pack": TDESKTOP_LANG_PACK}
    return Sidecar(api_id=TDESKTOP_API_ID, api_hash=TDESKTOP_API_HASH, device=device, phone=None)
