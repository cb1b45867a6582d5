"""What a customer reads while setting their post (/post): the question, the refusals, the saved post.

HTML; anything that came from a user goes through ``esc()``.
"""

from __future__ import annotations

from core.i18n import _
from core.texts.customer import post_summary
from core.texts.fmt import esc


def POST_ASK() -> str:
    return _(
        "Send the post now:\n"
        "• a link to a message in a channel or group (Copy Link in Telegram), like https://t.me/channel/123: "
        "it is forwarded (a private channel's post, t.me/c/…, only by a session of yours that is in it);\n"
        "• or the text itself, formatted as you like: it is sent as is.\n"
        "\n"
        "/cancel to keep the current post.",
    )


def POST_NOT_TEXT() -> str:
    return _("Send the post as a link or as text (photos and files are not supported). /cancel to stop.")


def POST_EMPTY() -> str:
    return _("The post is empty: send a link or some text.")


def post_too_long(units: int, limit: int) -> str:
    return _(
        "That text is too long for one Telegram message: {units} characters, at most {limit}. Nothing was changed.",
        units=units,
        limit=limit,
    )


def post_current(kind: str | None, link: str | None, text: str | None) -> str:
    return _("<b>Your post</b>: {post_summary}", post_summary=post_summary(kind, link, text))


def post_question(kind: str | None, link: str | None, text: str | None) -> str:
    """The current post, then the question for the new one."""
    return f"{post_current(kind, link, text)}\n\n{POST_ASK()}"


def POST_SOURCE_NOT_MEMBER() -> str:
    return _(
        "⚠ This post is in a private channel that none of your sessions is in. It is saved, but it cannot be "
        "forwarded until a session that is in that channel is added to your campaign. The admin can help: "
        "ask them to add such a session, or to have one of yours join the channel.",
    )


def POST_SOURCE_UNCHECKED() -> str:
    return _(
        "ℹ This post is in a private channel: only a session of yours that is in that channel can forward "
        "it. That is not known yet: your sessions' chats have not all been read.",
    )


# Worded when shown, in the reader's language.
_POST_SOURCE_NOTES = {"not_member": POST_SOURCE_NOT_MEMBER, "unchecked": POST_SOURCE_UNCHECKED}


def post_saved_link(link: str, running: bool, source: str | None = None) -> str:
    """``source``: for a private channel's post, whether a session of the customer's is in it:
    "member" (nothing to say), "not_member" or "unchecked" (their dialogs are not all read)."""
    more = _(" The next cycle uses it.") if running else _(" Start with /run when ready.")
    worded = _POST_SOURCE_NOTES.get(source or "")
    note = f"\n\n{worded()}" if worded else ""
    return _("✅ Post set: the bot will forward {link}.{more}", link=esc(link), more=more) + note


def post_saved_text(text: str, running: bool) -> str:
    more = _(" The next cycle uses it.") if running else _(" Start with /run when ready.")
    return _("✅ Post set: a text of {count} characters, formatting kept.{more}", count=len(text), more=more)
