"""First contact: what a stranger reads (/start, /help, requesting access), the card every admin gets for
a request and what the person is told when it is answered, an admin's /start and an admin's stray file.

HTML unless a text says it is plain (``not_a_customer`` and ``plan_ended`` become an error's
``user_message``, which the error handler escapes). Anything that came from a user or the config goes
through ``esc()`` in the caller.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from core.i18n import _, locale, n_
from core.texts.fmt import fmt_time

# --- a stranger (or a customer whose plan ended) ----------------------------------------------------


def welcome(first_name: str) -> str:
    """A stranger's /start. ``first_name`` escaped by the caller."""
    return _(
        "👋 Hello, {first_name}!\n\n"
        "This bot posts your ad to Telegram groups on a schedule, from sessions (Telegram accounts) the "
        "service gives you with a plan. You set the post and the groups and choose how often; the bot "
        "does the rest and tells you when something needs you.\n\n"
        "You do not have a plan yet. Press <b>Request access</b> and the admins will get your request.",
        first_name=first_name,
    )


def help_not_customer() -> str:
    """A stranger's /help."""
    return _(
        "<b>How to start</b>\n"
        "1. Press <b>Request access</b>: the admins get your request.\n"
        "2. When an admin gives you a plan, you get a message here.\n"
        "3. Then set your post (/post), add your groups (/addgroups) and start the campaign (/run).\n\n"
        "/settings changes the language and the time zone."
    )


def plan_ended_screen(ended_at: float) -> str:
    """/start of a customer whose plan ended."""
    return _(
        "Your plan ended on {ended_at}: the campaign features are off and your campaign is stopped.\n"
        "To renew it, press <b>Request access</b>.",
        ended_at=fmt_time(ended_at),
    )


def contact_line(contact: str) -> str:
    """``[bot] contact``, escaped by the caller."""
    return _("Questions? Write to {contact}.", contact=contact)


def not_a_customer(user_id: int) -> str:
    """Plain text: any customer command from a stranger. ``user_id`` kept for the callers' signature."""
    del user_id
    return _("This bot is for customers with a plan, and you do not have one yet. Send /start to request access.")


def plan_ended(user_id: int, ended_at: float) -> str:
    """Plain text: any customer command after the plan ended. ``user_id`` kept for the callers' signature."""
    del user_id
    return _(
        "Your plan ended on {ended_at}, so the campaign features are off and your campaign is stopped. "
        "To renew it, send /start and press Request access.",
        ended_at=fmt_time(ended_at),
    )


def BTN_REQUEST_ACCESS() -> str:
    return _("🙋 Request access")


def REQUEST_SENT() -> str:
    return _("✅ Your request went to the admins. You will get a message here when they answer.")


def request_pending(requested_at: float) -> str:
    return _(
        "⏳ Your request of {requested_at} is still with the admins. You will get a message here when they answer.",
        requested_at=fmt_time(requested_at),
    )


def declined_recently(again_at: float) -> str:
    """A press of Request access less than a day after an admin declined: no new request, no cards."""
    return _(
        "Your last request was declined recently, so a new one cannot be sent yet. You can ask again "
        "after {again_at}.",
        again_at=fmt_time(again_at),
    )


def REQUEST_UNSENT() -> str:
    return _("⚠️ I could not reach the admins just now, so your request was not sent.")


def TRY_LATER() -> str:
    return _("Please try again in a while.")


def ALREADY_CUSTOMER() -> str:
    return _("You already have a plan: /start opens your menu.")


def access_declined() -> str:
    """To the person, when an admin declined their request."""
    return _("Thank you for your interest. The admins cannot give you access right now.")


# --- the admins' card -------------------------------------------------------------------------------


def language_name(code: str | None) -> str:
    """The person's Telegram language, named in the reader's language ("Russian", "русский")."""
    if not code:
        return _("not shared")
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(locale())
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name or code


def access_card(name: str, username: str | None, user_id: int, language: str) -> str:
    """A new access request, for one admin. ``name``/``username`` escaped by the caller."""
    lines = [_("🙋 <b>Access request</b>")]
    if username:
        lines.append(_("From: {name}, @{username}", name=name, username=username))
    else:
        lines.append(_("From: {name} (no username)", name=name))
    lines.append(_("User id: <code>{user_id}</code>", user_id=user_id))
    lines.append(_("Language: {language}", language=language))
    lines.append("")
    lines.append(_("Pick a plan, or Other… for a different one."))
    return "\n".join(lines)


def card_plan_ended(ended_at: float) -> str:
    """A line of the card when the person had a plan that ended."""
    return _("Their plan ended on {ended_at}.", ended_at=fmt_time(ended_at))


def plan_label(sessions: int, days: int) -> str:
    """A plan button: "3 sessions · 30 days" (a label, not a sentence)."""
    # Two translated quantities side by side: no wording between them to translate.
    sessions_text = n_("{n} session", "{n} sessions", sessions)
    days_text = n_("{n} day", "{n} days", days)
    return sessions_text + " · " + days_text


def BTN_OTHER_PLAN() -> str:
    return _("✏️ Other…")


def BTN_DECLINE() -> str:
    return _("❌ Decline")


def card_granted(admin: str, plan: str, until: float) -> str:
    """Appended to the card of the admin who granted. ``admin`` escaped by the caller; ``plan`` from
    ``plan_label``."""
    return _(
        "✅ {admin} gave a plan: {plan}, until {until}. The person is being told.",
        admin=admin,
        plan=plan,
        until=fmt_time(until),
    )


def card_declined(admin: str) -> str:
    return _("❌ Declined by {admin}. The person was told.", admin=admin)


def card_declined_untold(admin: str) -> str:
    return _("❌ Declined by {admin}. The person could not be told (they may have blocked the bot).", admin=admin)


def card_has_plan(sessions: int, until: float, user_id: int) -> str:
    """The person got a plan since they asked: nothing granted here."""
    return n_(
        "ℹ️ This person already has a plan: {n} session until {until}. To change it, send "
        "<code>/grant {user_id} sessions days</code>: /grant shows the change before making it.",
        "ℹ️ This person already has a plan: {n} sessions until {until}. To change it, send "
        "<code>/grant {user_id} sessions days</code>: /grant shows the change before making it.",
        sessions,
        until=fmt_time(until),
        user_id=user_id,
    )


def CARD_ALREADY_ANSWERED() -> str:
    return _("This request was already answered.")


def other_plan(user_id: int) -> str:
    """What to send for a plan that is not on the buttons."""
    return _(
        "To give another plan, send <code>/grant {user_id} SESSIONS DAYS</code>, for example "
        "<code>/grant {user_id} 2 60</code> for 2 sessions for 60 days.",
        user_id=user_id,
    )


# --- admins -----------------------------------------------------------------------------------------


def BTN_CUSTOMER_SIDE() -> str:
    return _("👤 My campaign")


def not_a_session_file(file_name: str) -> str:
    """An admin's document the pool does not take. ``file_name`` escaped by the caller."""
    return _(
        "📎 <code>{file_name}</code> is not a session file. The pool takes .session files, .txt files of "
        "session strings, .json sidecars and .zip archives.",
        file_name=file_name,
    )
