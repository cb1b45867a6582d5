"""Every user-facing text of the control bot, in one place (ready for translation).

HTML parse mode: anything that came from a user (post text, group names, file names, error details)
must go through ``esc()`` before it is put into a text.
"""

from __future__ import annotations

from html import escape


def esc(value: object) -> str:
    return escape(str(value), quote=False)


# ---------------------------------------------------------------------------------------------------
# Common and customer texts (owned by the customer-side work)
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# Admin texts (owned by the admin-side work)
# ---------------------------------------------------------------------------------------------------
