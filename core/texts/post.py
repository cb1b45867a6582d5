"""What a customer reads while setting their post (/post): the question, the refusals, the saved post and
its preview.

HTML; anything that came from a user goes through ``esc()``. One whole sentence per message id.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.i18n import _, n_, num
from core.texts.fmt import esc
from core.texts.posts import rotation_name
from core.texts.split import char_count, clip, over_limit, too_long_words

EXCERPT_SHOWN = 80  # characters of a post's text a summary or a preview line shows


def POST_ASK() -> str:
    return _(
        "Send the post now, whichever way is easiest:\n"
        "• forward it here from your channel: it is sent as that channel's post;\n"
        "• or paste a link to it (Copy Link in Telegram), like https://t.me/channel/123 (a private channel's "
        "post, t.me/c/…, only by a session of yours that is in it);\n"
        "• or send the post itself: a text formatted as you like, a photo, a video, a file or an album, "
        "with a caption: it is sent as your own message.\n\n"
        "/cancel to keep the current post."
    )


def POST_NOT_SUPPORTED() -> str:
    return _(
        "That kind of message cannot be a post. Send a text, a photo, a video, a GIF, a file or an album, "
        "forward a channel's post, or paste a link to it. /cancel to stop."
    )


def POST_EMPTY() -> str:
    return _("The post is empty: send a link, a text or a photo.")


def post_too_long(text: str) -> str:
    return _("That text is too long for one Telegram message. {why} Nothing was changed.", why=too_long_words(text))


def caption_too_long(caption: str, limit: int) -> str:
    """A caption over Telegram's limit (counted in UTF-16 units): its length as people count it, and how
    much to cut in Telegram's unit."""
    length = n_(
        "That caption has {n} character, and a caption under a photo, video or file holds at most {limit}; "
        "most emoji count as two.",
        "That caption has {n} characters, and a caption under a photo, video or file holds at most {limit}; "
        "most emoji count as two.",
        char_count(caption), limit=num(limit),
    )
    cut = n_(
        "Shorten the caption by about {n} character.", "Shorten the caption by about {n} characters.",
        over_limit(caption, limit),
    )
    return _("{length} {cut} Nothing was changed.", length=length, cut=cut)


def media_too_big(megabytes: int) -> str:
    return _(
        "That file is too big for the bot to take: at most {limit} MB. Send a smaller one, or post it in "
        "your channel and forward it here. Nothing was changed.",
        limit=megabytes,
    )


def media_over_cap(megabytes: int, limit: int) -> str:
    return _(
        "The files of that post take {size} MB together, and one post may keep at most {limit} MB. Send "
        "fewer or smaller files. Nothing was changed.",
        size=num(megabytes), limit=num(limit),
    )


def ALBUM_MIXED() -> str:
    return _("An album can hold photos and videos, or files only: send the files as an album of their own.")


def post_summary(kind: str | None, link: str | None, text: str | None, media: Sequence[str] = ()) -> str:
    """The post on one line (the menu, /status, /post): the link it forwards, its media, or the start of
    its text and its length (characters as people count them)."""
    if kind == "link" and link:
        return _("a forward of {link}", link=esc(link))
    if kind == "text" and media:
        return _media_summary(media, text or "")
    if kind == "text" and text:
        first = text.strip().splitlines()[0] if text.strip() else ""
        return n_(
            "a text «{excerpt}» ({n} character)", "a text «{excerpt}» ({n} characters)", char_count(text),
            excerpt=esc(clip(first, EXCERPT_SHOWN)),
        )
    return _("<i>not set yet</i> (/post)")


def _media_summary(media: Sequence[str], caption: str) -> str:
    what = _media_word(media[0]) if len(media) == 1 else n_("an album of {n} item", "an album of {n} items", len(media))
    if not caption:
        return what
    return n_("{what} with a caption of {n} character", "{what} with a caption of {n} characters",
              char_count(caption), what=what)


def _media_word(kind: str) -> str:
    if kind == "photo":
        return _("a photo")
    if kind == "video":
        return _("a video")
    if kind == "animation":
        return _("a GIF")
    return _("a file")


def posts_summary(
    count: int, rotation: str, kind: str | None, link: str | None, text: str | None, media: Sequence[str] = ()
) -> str:
    """The campaign's posts on one line (the menu, /status): the post itself when there is one, else how
    many and how the cycles take turns (``kind``... describe the first post)."""
    if count <= 1:
        return post_summary(kind, link, text, media)
    return n_("{n} post, {how} (/posts)", "{n} posts, {how} (/posts)", count, how=rotation_name(rotation))


def post_current(
    kind: str | None, link: str | None, text: str | None, media: Sequence[str] = (), *, count: int = 1,
    rotation: str = "order",
) -> str:
    if count > 1:
        return _(
            "<b>Your posts</b>: {posts}\nA post sent here replaces all of them or is added to them: you choose "
            "after sending it.",
            posts=posts_summary(count, rotation, kind, link, text, media),
        )
    return _("<b>Your post</b>: {post}", post=post_summary(kind, link, text, media))


def post_question(
    kind: str | None, link: str | None, text: str | None, media: Sequence[str] = (), *, count: int = 1,
    rotation: str = "order",
) -> str:
    """The current post (or posts), then the question for the new one."""
    current = post_current(kind, link, text, media, count=count, rotation=rotation)
    return _("{current}\n\n{ask}", current=current, ask=POST_ASK())


# --- a link checked when it is saved ------------------------------------------------------------------


def post_missing(link: str) -> str:
    return _(
        "There is no post at {link}: it was deleted, or the number is wrong. Nothing was changed.",
        link=esc(link),
    )


def post_unreadable(link: str) -> str:
    return _(
        "Your sessions cannot read {link}: the channel is private and none of them is in it. Nothing was "
        "changed. Forward the post from a public channel, or send the post itself here.",
        link=esc(link),
    )


def post_no_forwards(link: str) -> str:
    return _(
        "The channel of {link} does not allow forwarding, so it cannot be sent as a forward. Nothing was "
        "changed. Send the post itself here instead: it is then sent as your own message.",
        link=esc(link),
    )


def POST_SOURCE_NOT_MEMBER() -> str:
    return _(
        "⚠ This post is in a private channel that none of your sessions is in. It is saved, but it cannot be "
        "forwarded until a session that is in that channel is added to your campaign. The admin can help: "
        "ask them to add such a session, or to have one of yours join the channel."
    )


def POST_SOURCE_UNCHECKED() -> str:
    return _(
        "ℹ This post is in a private channel: only a session of yours that is in that channel can forward "
        "it. That is not known yet: your sessions' chats have not all been read."
    )


def post_saved_link(link: str, running: bool, source: str | None = None, *, checked: bool = False,
                    album: int = 1) -> str:
    """A link post saved. ``checked``: a session of the customer's read it just now (``album``: how many
    messages it forwards); ``source``, for a private channel's post: whether a session of theirs is in it
    ("member": nothing to say, "not_member", "unchecked": their dialogs are not all read)."""
    if checked and album > 1:
        head = n_(
            "✅ Post set: the bot will forward {link}, an album of {n} message. A session of yours read it: it "
            "exists and may be forwarded.",
            "✅ Post set: the bot will forward {link}, an album of {n} messages. A session of yours read it: it "
            "exists and may be forwarded.",
            album, link=esc(link),
        )
    elif checked:
        head = _(
            "✅ Post set: the bot will forward {link}. A session of yours read it: it exists and may be forwarded.",
            link=esc(link),
        )
    else:
        head = _(
            "✅ Post set: the bot will forward {link}. None of your sessions could read it right now, so it is "
            "checked at the first cycle.",
            link=esc(link),
        )
    text = _("{saved} {next}", saved=head, next=_next_step(running))
    if source == "not_member":
        return _("{saved}\n\n{note}", saved=text, note=POST_SOURCE_NOT_MEMBER())
    if source == "unchecked":
        return _("{saved}\n\n{note}", saved=text, note=POST_SOURCE_UNCHECKED())
    return text


def post_saved_text(text: str, running: bool) -> str:
    return n_(
        "✅ Post set: a text of {n} character, formatting kept. {next}",
        "✅ Post set: a text of {n} characters, formatting kept. {next}",
        char_count(text), next=_next_step(running),
    )


def post_saved_own(running: bool, summary: str) -> str:
    return _("✅ Post set: {post}. {next}", post=summary, next=_next_step(running))


def _next_step(running: bool) -> str:
    return _("The next cycle uses it.") if running else _("Start with /run when ready.")


def FROM_A_PERSON() -> str:
    return _(
        "ℹ This was forwarded from a person, not from a channel: it cannot be forwarded as theirs, so it is "
        "kept as your own post."
    )


def FROM_A_GROUP_ADMIN() -> str:
    return _(
        "ℹ This was forwarded from a group's anonymous admin: Telegram does not say which message it was, "
        "so it is kept as your own post."
    )


# --- the preview -------------------------------------------------------------------------------------


def PREVIEW_OWN() -> str:
    return _("👆 This is how groups will see it: sent as your own message, as you sent it here.")


def preview_of_link(link: str, excerpt: str, album: int) -> str:
    """A link post whose message the bot cannot show (the bot is in no channel): what is known of it."""
    if not excerpt:
        return n_(
            "Preview of {link}: the bot cannot show it here (it is not in that channel); it is an album of "
            "{n} item.",
            "Preview of {link}: the bot cannot show it here (it is not in that channel); it is an album of "
            "{n} items.",
            album, link=esc(link),
        ) if album > 1 else _(
            "Preview of {link}: the bot cannot show it here (it is not in that channel).", link=esc(link)
        )
    shown = clip(excerpt, EXCERPT_SHOWN)
    if album > 1:
        return n_(
            "Preview of {link}: an album of {n} message, «{excerpt}»",
            "Preview of {link}: an album of {n} messages, «{excerpt}»",
            album, link=esc(link), excerpt=esc(shown),
        )
    return _("Preview of {link}: «{excerpt}»", link=esc(link), excerpt=esc(shown))


def header_line(drop_author: bool) -> str:
    return _("It is sent copied, without the “Forwarded from” header.") if drop_author else _(
        "It is sent as a forward, with the “Forwarded from” header."
    )


def BTN_DROP_AUTHOR() -> str:
    return _("Send without header")


def BTN_KEEP_AUTHOR() -> str:
    return _("Send as a forward")


def header_changed(drop_author: bool) -> str:
    return _("Done: copied without the header from now on.") if drop_author else _(
        "Done: sent as a forward with the header from now on."
    )


def NO_LINK_POST() -> str:
    return _("Your post is not a link any more: there is no header to change.")


# --- several posts (issue 19 part A): what the service refuses and the one-line titles --------------------

TITLE_SHOWN = 40  # characters of a post's text its one-line title shows


def posts_full(limit: int) -> str:
    return n_(
        "Your campaign already has {n} post, as many as it can hold. Remove one to add another. Nothing was "
        "changed.",
        "Your campaign already has {n} posts, as many as it can hold. Remove one to add another. Nothing was "
        "changed.",
        limit,
    )


def POST_NOT_FOUND() -> str:
    return _("That post is not in your campaign any more. Open /posts again.")


def ROTATION_UNKNOWN() -> str:
    return _("That is not a way to take turns between posts. Choose one of the buttons.")


def group_not_found(ref: str) -> str:
    return _("{group} is not one of your groups. Open /groups to see them.", group=esc(ref))


def LINK_PREVIEW_ONLY_TEXT() -> str:
    return _("Only a text post has a link preview to switch: a forward shows what its channel shows.")


def post_title(kind: str, link: str | None, text: str | None, media: Sequence[str] = ()) -> str:
    """A post on one short line, plain text (not HTML: escape it where HTML is sent): the link it
    forwards, its media, or the first words of its text."""
    if kind == "link":
        return link or ""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    excerpt = clip(first, TITLE_SHOWN)
    if media:
        what = _media_word(media[0]) if len(media) == 1 else n_("album of {n}", "album of {n}", len(media))
        return _("{what}: {caption}", what=what, caption=excerpt) if excerpt else what
    return excerpt


def custom_emoji_needs_premium(count: int) -> str:
    """Own content with custom emoji and a session that may not send them (no Premium)."""
    return n_(
        "Your post has {n} custom emoji, and custom emoji can only be sent by a Telegram Premium account. Sessions "
        "without Premium send it with the plain emoji in their place.",
        "Your post has {n} custom emoji, and custom emoji can only be sent by a Telegram Premium account. Sessions "
        "without Premium send it with the plain emoji in their place.",
        count,
    )


def post_current_one(position: int, summary: str) -> str:
    """One of the campaign's posts (``position`` 0 first), as its preview's line says it."""
    return _("<b>Post {number}</b>: {post}", number=num(position + 1), post=summary)


# --- /post with several posts: replace them all or add, as the customer chooses (issue 19 part A) ---------


def post_choice(count: int, title: str, *, can_add: bool) -> str:
    """A post received on /post while the campaign has ``count`` (2+) posts: nothing is saved until a
    button says what it does. ``title``: the received post on one line (plain text)."""
    head = n_(
        "Your campaign has {n} post. What should this one do?\n<b>New post</b>: {post}",
        "Your campaign has {n} posts. What should this one do?\n<b>New post</b>: {post}",
        count, post=esc(title),
    )
    if can_add:
        return _("{head}\n\nNothing changes until you choose.", head=head)
    return _(
        "{head}\n\nYour campaign holds no more posts: this one can replace them all, or remove one on /posts "
        "and send it again to add it. Nothing changes until you choose.",
        head=head,
    )


def btn_replace_all(count: int) -> str:
    return n_("Replace the {n} post", "Replace all {n} posts", count)


def btn_add_as(number: int) -> str:
    return _("Add as post {number}", number=num(number))


def choice_cancelled(count: int) -> str:
    return n_(
        "Cancelled: nothing was changed, your campaign still has its {n} post.",
        "Cancelled: nothing was changed, your campaign still has its {n} posts.",
        count,
    )


def CHOICE_GONE() -> str:
    return _("That choice is no longer open: nothing was changed. Send the post again with /post.")
