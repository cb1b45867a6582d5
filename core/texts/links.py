"""The wording of refused post links (``core.links``) and group references (``core.group_refs``), and of
what is known of a group's chat.

Plain text: these become ``AdbotError.user_message``, which the bot's error handler escapes. Each text is
one whole sentence per case: what was wanted (a post link or a group) and which number of a link is wrong
are keys that choose the sentence, never words glued into one.
"""

from __future__ import annotations

from typing import Literal

from core.i18n import _

POST_EXAMPLE = "https://t.me/name/123"
PRIVATE_POST_EXAMPLE = "https://t.me/c/1234567890/123"
PRIVATE_GROUP_EXAMPLE = "https://t.me/c/1234567890"
GROUP_ID_EXAMPLE = "-1001234567890"


def GROUP_EXAMPLES() -> str:
    """The forms that can work, each with when: an id is usable only by a session that is in that group
    (it alone knows the group's access hash); a public group is found by its name."""
    return _(
        "@name or t.me/name for a public group, a -100… id for a group one of your sessions is in "
        "(add #<topic> or /<topic> for a forum topic)"
    )


# What the input should have been (keys: each text says it in a whole sentence of its own).
Wanted = Literal["post_link", "group"]
A_POST_LINK: Wanted = "post_link"
A_GROUP: Wanted = "group"

# Which number of a link is wrong (keys).
Number = Literal["message", "topic", "channel"]
MESSAGE_NUMBER: Number = "message"
TOPIC_NUMBER: Number = "topic"
CHANNEL_NUMBER: Number = "channel"


def GROUPS_NOT_TEXT() -> str:
    return _("Send the groups as text, one per line.")


def NO_GROUPS_FOUND() -> str:
    return _("No groups found. Send one per line, like: {examples}", examples=GROUP_EXAMPLES())


# Why a name breaks Telegram's username rules (completes "is not a valid Telegram username (...)").


def USERNAME_EMPTY() -> str:
    return _("it is empty")


def USERNAME_CHARS() -> str:
    return _("only letters a-z, digits and _ are allowed")


def USERNAME_LENGTH() -> str:
    return _("it must be 4 to 32 characters long")


def USERNAME_FIRST() -> str:
    return _("it must start with a letter")


def USERNAME_TRAILING_UNDERSCORE() -> str:
    return _("it cannot end with _")


def USERNAME_DOUBLE_UNDERSCORE() -> str:
    return _("it cannot contain __")


def echo(shown: str | None) -> str:
    """The user's input quoted, or "That" when it was not text at all."""
    return _("That") if shown is None else _('"{text}"', text=shown)


def too_many_groups(max_items: int) -> str:
    return _(
        "Too many groups at once: at most {limit} per message. Split the list and send the rest in another message.",
        limit=max_items,
    )


def send_as_text(what: str) -> str:
    if what == A_POST_LINK:
        return _("Send a post link as text.")
    return _("Send a group as text.")


def empty_input(what: str) -> str:
    if what == A_POST_LINK:
        return _("That is empty: send a post link.")
    return _("That is empty: send a group.")


def input_too_long(chars: int, what: str) -> str:
    if what == A_POST_LINK:
        return _("That is too long ({count} characters) to be a post link.", count=chars)
    return _("That is too long ({count} characters) to be a group.", count=chars)


def post_unreadable(shown: str) -> str:
    return _(
        "{shown} could not be read as a post link. Open the post, use Copy Link and send that, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def post_has_spaces(shown: str) -> str:
    return _(
        "{shown} has spaces in it. Send just the post link on its own, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def post_not_telegram(shown: str) -> str:
    return _(
        "{shown} is not a Telegram link (t.me). Send a post link like {example}", shown=shown, example=POST_EXAMPLE
    )


def post_only_number(shown: str) -> str:
    return _(
        "{shown} is only a number. Send the whole post link (open the post, use Copy Link), like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def not_a_post_link(shown: str) -> str:
    return _(
        "{shown} is not a Telegram post link. Open the post, use Copy Link and send that, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def private_post_needs_numbers(shown: str) -> str:
    return _(
        "{shown} needs the channel number and the message number, like {example} (a private channel's post "
        "is forwarded only by a session of yours that is in that channel)",
        shown=shown,
        example=PRIVATE_POST_EXAMPLE,
    )


def app_link_no_chat(shown: str) -> str:
    return _(
        "{shown} does not name a channel or group. Send a post link like {example}", shown=shown, example=POST_EXAMPLE
    )


def app_link_no_channel(shown: str) -> str:
    return _(
        "{shown} has no channel number. Send a post link like {example}", shown=shown, example=PRIVATE_POST_EXAMPLE
    )


def app_link_not_post(shown: str) -> str:
    return _(
        "{shown} is a Telegram app link, not a post link. Open the post, use Copy Link and send that, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def needs_message_number(shown: str) -> str:
    return _(
        "{shown} is not a post link: a post link needs the message number at the end, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def post_invite(shown: str) -> str:
    return _(
        "{shown}: that is an invite link, not a post link: open the post, use Copy Link and send that, like {example}",
        shown=shown,
        example=POST_EXAMPLE,
    )


def too_many_parts(shown: str) -> str:
    return _(
        "{shown} has too many parts for a post link. Use {example} or, for a post in a forum topic, "
        "https://t.me/name/<topic>/123",
        shown=shown,
        example=POST_EXAMPLE,
    )


def group_unreadable(shown: str) -> str:
    return _("{shown} could not be read as a group. Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES())


def group_has_spaces(shown: str) -> str:
    return _(
        "{shown} has spaces in it. Send one group per line, like: {examples}", shown=shown, examples=GROUP_EXAMPLES()
    )


def group_not_telegram(shown: str) -> str:
    return _("{shown} is not a Telegram link (t.me). Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES())


def bare_word(shown: str, name: str) -> str:
    """``name``: the word shortened, to show it with an @."""
    return _(
        "{shown} is ambiguous: a bare word could be anything. Add @ in front of a username, like @{name}",
        shown=shown,
        name=name,
    )


def not_a_group(shown: str) -> str:
    return _("{shown} is not a group. Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES())


def group_no_name(shown: str) -> str:
    return _("{shown} has no group name after t.me/. Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES())


def group_fragment(shown: str) -> str:
    return _(
        "{shown} has a #part that adbot does not read. For a forum topic use t.me/name/<topic> or @name#<topic>",
        shown=shown,
    )


def group_needs_number(shown: str) -> str:
    return _(
        "{shown} needs the group number after /c/, like {example} (it works for a group one of your sessions is in)",
        shown=shown,
        example=PRIVATE_GROUP_EXAMPLE,
    )


def group_no_name_after_s(shown: str) -> str:
    return _("{shown} has no name after /s/. Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES())


def app_link_not_group(shown: str) -> str:
    return _(
        "{shown} is a Telegram app link, not a group. Use one of: {examples}", shown=shown, examples=GROUP_EXAMPLES()
    )


def group_id_not_digits(shown: str) -> str:
    return _(
        "{shown} is not a group id: ids are digits after a minus sign, like {example}",
        shown=shown,
        example=GROUP_ID_EXAMPLE,
    )


def group_id_positive(shown: str) -> str:
    return _(
        "{shown} is not a group id: group ids are negative, like {example} for a supergroup (an id works for "
        "a group one of your sessions is in). Or send a public group as @name",
        shown=shown,
        example=GROUP_ID_EXAMPLE,
    )


def group_id_out_of_range(shown: str) -> str:
    return _(
        "{shown} is out of range for a group id, which looks like {example}", shown=shown, example=GROUP_ID_EXAMPLE
    )


def never_joins(shown: str) -> str:
    return _(
        "{shown} is an invite link, not a group: adbot does not join groups by itself. Ask the admin to have "
        "one of your sessions join it, then add the group by @username or by its -100… id",
        shown=shown,
    )


def post_as_group(shown: str) -> str:
    return _(
        "{shown} is a link to a post, not to a group. Send the group itself: {examples}",
        shown=shown,
        examples=GROUP_EXAMPLES(),
    )


def group_is_channel(shown: str, chat: str) -> str:
    """``chat``: the chat as stored ('@name', '-100<id>'), known from a session's dialogs or the Bot API."""
    return _("{shown}: {chat} is a channel, not a group: only its admins post there.", shown=shown, chat=chat)


def group_is_bot(shown: str, chat: str) -> str:
    return _(
        '{shown}: {chat} is a bot (bot usernames end in "bot"), not a group: nothing can be posted to it. If it '
        "really is a group, ask the admin to check it.",
        shown=shown,
        chat=chat,
    )


def group_is_person(shown: str, chat: str) -> str:
    """Telegram says ``chat`` is a person's (or a bot's) account, not a group."""
    return _("{shown}: {chat} is a person's account, not a group: posts go to groups only.", shown=shown, chat=chat)


def message_link_not_topic(shown: str, chat: str, number: int) -> str:
    """A number after a chat that is not a forum: the link of a message, not a forum topic."""
    return _(
        "{shown}: that is a message link, not a topic: {chat} is not a forum, so {number} is the number of a "
        "message. To post in the group itself, send {chat}",
        shown=shown,
        chat=chat,
        number=number,
    )


def service_link(shown: str, head: str, *, post: bool) -> str:
    """A t.me/<head> link of a Telegram feature (``head`` shortened); ``post``: a post link was wanted."""
    if post:
        return _(
            "{shown} is a Telegram t.me/{head} link, not a post link. Use one like: {example}",
            shown=shown,
            head=head,
            example=POST_EXAMPLE,
        )
    return _(
        "{shown} is a Telegram t.me/{head} link, not a group. Use one like: {examples}",
        shown=shown,
        head=head,
        examples=GROUP_EXAMPLES(),
    )


def empty_part(shown: str) -> str:
    return _("{shown} has an empty part (//). Copy the link again, like {example}", shown=shown, example=POST_EXAMPLE)


def parameter_twice(shown: str, key: str) -> str:
    return _(
        "{shown} gives {key} twice with different values. Copy the link again, or send it as {example}",
        shown=shown,
        key=key,
        example=POST_EXAMPLE,
    )


def bad_username(shown: str, name: str, problem: str) -> str:
    """``name`` quoted like ``shown``; ``problem``: one of the ``USERNAME_*`` texts."""
    return _(
        "{shown}: {name} is not a valid Telegram username ({problem}); a valid one looks like ads_chat",
        shown=shown,
        name=name,
        problem=problem,
    )


def not_a_number(shown: str, what: str, raw: str) -> str:
    """``what``: ``MESSAGE_NUMBER``, ``TOPIC_NUMBER`` or ``CHANNEL_NUMBER``; ``raw`` quoted like ``shown``."""
    if what == TOPIC_NUMBER:
        return _("{shown}: the topic number must be a number, not {raw}.", shown=shown, raw=raw)
    if what == CHANNEL_NUMBER:
        return _("{shown}: the channel number after /c/ must be a number, not {raw}.", shown=shown, raw=raw)
    return _("{shown}: the message number must be a number, not {raw}.", shown=shown, raw=raw)


def number_out_of_range(shown: str, what: str) -> str:
    """A number no message, topic or channel of Telegram has (0, or beyond what Telegram counts to): said
    without the bound, which means nothing to a person."""
    if what == TOPIC_NUMBER:
        return _("{shown}: that is not a topic number Telegram uses. Open the topic and copy its link.", shown=shown)
    if what == CHANNEL_NUMBER:
        return _("{shown}: the number after /c/ is not one of a channel Telegram knows. Copy the post's link again.",
                 shown=shown)
    return _("{shown}: that is not a message number Telegram uses. Open the post, use Copy Link and send that.",
             shown=shown)
