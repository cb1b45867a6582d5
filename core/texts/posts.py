"""What a customer reads on /posts: the campaign's posts, each post's screen, removing one, the rotation
picker, the copy options and the post chosen per group.

HTML; anything that came from a user (a post's title, a group's name) goes through ``esc()``. One whole
sentence per message id; button labels at most 24 characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.i18n import _, n_
from core.texts.fmt import esc
from core.texts.outcomes import reason_text
from core.texts.split import clip

TITLE_SHOWN = 60  # characters of a post's one-line title on the list
BUTTON_TITLE = 14  # characters of a title inside a 24-character button


# --- the list ----------------------------------------------------------------------------------------


def posts_head(count: int, max_posts: int) -> str:
    return _("<b>Your posts</b>: {count} of {max_posts}", count=count, max_posts=max_posts)


def NO_POSTS() -> str:
    return _(
        "You have no post yet. Add one with the button below: forward it from your channel, paste a link "
        "to it, or send the post itself."
    )


def post_line(
    number: int, title: str, *, preview_off: bool = False, custom_emoji: bool = False, unusable: str | None = None
) -> str:
    """One post on the list: its number and title, then what is special about it (``unusable``: the error
    Telegram refused it with for good, ``storage.posts.unusable_error``: it is left out of the rotation)."""
    line = _("{number}. {title}", number=number, title=esc(clip(title, TITLE_SHOWN)))
    if unusable is not None:
        why = reason_text(unusable) if unusable else esc(_("the message is not reachable"))
        line = _("{line} · ⚠ cannot be sent ({why}): left out, replace it", line=line, why=why)
    if preview_off:
        line = _("{line} · no link preview", line=line)
    if custom_emoji:
        line = _("{line} · custom emoji", line=line)
    return line


def rotation_name(mode: str) -> str:
    if mode == "random":
        return _("at random")
    if mode == "fixed":
        return _("fixed per group")
    return _("in order")


def copy_name(drop_author: bool, drop_media_captions: bool) -> str:
    if drop_author and drop_media_captions:
        return _("copied, without the header and media captions")
    if drop_author:
        return _("copied, without the header")
    return _("forwarded, with the header")


def posts_foot(rotation: str, drop_author: bool, drop_media_captions: bool) -> str:
    return _(
        "Each cycle sends one post to each group: {rotation}.\nChannel posts are {copy}.\nTap a post to "
        "preview, move or remove it.",
        rotation=rotation_name(rotation), copy=copy_name(drop_author, drop_media_captions),
    )


def posts_screen(
    lines: Sequence[str], max_posts: int, rotation: str, drop_author: bool, drop_media_captions: bool
) -> str:
    """``lines``: ``post_line`` of each post, in order."""
    head = posts_head(len(lines), max_posts)
    if not lines:
        return head + "\n\n" + NO_POSTS()
    return head + "\n\n" + "\n".join(lines) + "\n\n" + posts_foot(rotation, drop_author, drop_media_captions)


def posts_full(max_posts: int) -> str:
    """Add pressed with the list full: the cap in the customer's words."""
    return n_(
        "Your campaign already has {n} post, as many as it can hold. Remove one to add another.",
        "Your campaign already has {n} posts, as many as it can hold. Remove one to add another.",
        max_posts,
    )


def ADD_ASK() -> str:
    return _(
        "Send the new post, whichever way is easiest:\n"
        "• forward it here from your channel: it is sent as that channel's post;\n"
        "• or paste a link to it (Copy Link in Telegram), like https://t.me/channel/123;\n"
        "• or send the post itself: a text formatted as you like, a photo, a video, a file or an album, "
        "with a caption: it is sent as your own message.\n\n"
        "It is added after your other posts. /cancel to add nothing."
    )


def post_added(number: int, title: str) -> str:
    return _("✅ Post {number} added: {title}", number=number, title=esc(clip(title, TITLE_SHOWN)))


# --- one post ----------------------------------------------------------------------------------------


def post_kind_line(kind: str, media_count: int) -> str:
    if kind == "link":
        return _("A channel's post: your sessions forward it (or copy it, as the copy options say).")
    if kind == "media":
        return n_(
            "Your own post with {n} file: your sessions send it as their own message.",
            "Your own post with {n} files: your sessions send it as their own message.",
            media_count,
        )
    return _("Your own text: your sessions send it as their own message.")


def link_preview_line(on: bool) -> str:
    if on:
        return _("A link in it shows its preview (the page's title and picture).")
    return _("A link in it is sent without its preview.")


def CUSTOM_EMOJI_NOTE() -> str:
    return _(
        "ℹ It has custom emoji: a session with Telegram Premium sends them as they are; a session without "
        "Premium sends the ordinary emoji they stand for."
    )


def post_screen(
    number: int, total: int, title: str, kind: str, media_count: int, *, link_preview: bool,
    custom_emoji: bool,
) -> str:
    parts = [
        _("<b>Post {number} of {total}</b>: {title}", number=number, total=total, title=esc(title)),
        post_kind_line(kind, media_count),
    ]
    if kind == "text":
        parts.append(link_preview_line(link_preview))
    if custom_emoji:
        parts.append(CUSTOM_EMOJI_NOTE())
    return "\n\n".join(parts)


def remove_ask(number: int, title: str, last: bool) -> str:
    if last:
        return _(
            "Remove post {number}, {title}? It is your only post: the campaign has nothing to send until you "
            "add another.",
            number=number, title=esc(clip(title, TITLE_SHOWN)),
        )
    return _(
        "Remove post {number}, {title}? Your other posts stay as they are.",
        number=number, title=esc(clip(title, TITLE_SHOWN)),
    )


def POST_REMOVED() -> str:
    return _("Post removed.")


def POST_GONE() -> str:
    return _("That post is not in your list any more.")


def link_preview_changed(on: bool) -> str:
    return _("Link preview on.") if on else _("Link preview off.")


# --- rotation ----------------------------------------------------------------------------------------


def rotation_screen(current: str) -> str:
    return _(
        "<b>Which post each cycle sends</b>\n\n"
        "• In order: each cycle the next post of your list, then from the top again.\n"
        "• At random: each cycle one of your posts, drawn at random.\n"
        "• Fixed per group: each group always gets the post you chose for it; a group without one follows "
        "the order.\n\n"
        "Now: {current}.",
        current=rotation_name(current),
    )


def rotation_changed(mode: str) -> str:
    return _("Done: {mode} from the next cycle.", mode=rotation_name(mode))


# --- copy options ------------------------------------------------------------------------------------


def copy_screen(drop_author: bool, drop_media_captions: bool) -> str:
    return _(
        "<b>How channel posts are sent</b>\n\n"
        "• With the header: forwarded, with “Forwarded from” and the channel's name above it.\n"
        "• Without the header: copied, as your session's own message; the channel is not named.\n"
        "• Without captions: copied without the header, and photos and videos without their captions.\n\n"
        "Your own posts are always sent as your sessions' own messages.\n\n"
        "Now: {current}.",
        current=copy_name(drop_author, drop_media_captions),
    )


def copy_changed(drop_author: bool, drop_media_captions: bool) -> str:
    return _("Done: channel posts are {copy} from now on.", copy=copy_name(drop_author, drop_media_captions))


# --- the post of each group (rotation fixed per group) -----------------------------------------------


def group_post_line(number: int, ref: str, post_number: int | None, title: str) -> str:
    """One group on the per-group screen; ``post_number`` None: it follows the order."""
    if post_number is None:
        return _("{number}. <code>{group}</code>: follows the order", number=number, group=esc(ref))
    return _(
        "{number}. <code>{group}</code>: post {post}, {title}",
        number=number, group=esc(ref), post=post_number, title=esc(clip(title, BUTTON_TITLE * 2)),
    )


def group_posts_screen(lines: Sequence[str], page: int, pages: int, fixed: bool) -> str:
    head = _("<b>The post of each group</b>")
    if pages > 1:
        head = _("{head} (page {page} of {pages})", head=head, page=page + 1, pages=pages)
    if not lines:
        return head + "\n\n" + NO_GROUPS()
    foot = GROUP_POSTS_HINT() if fixed else GROUP_POSTS_NOT_FIXED()
    return head + "\n\n" + "\n".join(lines) + "\n\n" + foot


def NO_GROUPS() -> str:
    return _("You have no groups yet: add them with /addgroups.")


def GROUP_POSTS_HINT() -> str:
    return _("Tap a group's number to choose its post.")


def GROUP_POSTS_NOT_FIXED() -> str:
    return _(
        "These choices count only while the rotation is “fixed per group”; now every group follows the "
        "rotation. Tap a group's number to choose its post."
    )


def group_post_ask(ref: str) -> str:
    return _("Which post does <code>{group}</code> always get?", group=esc(ref))


def group_post_changed(ref: str, post_number: int | None) -> str:
    if post_number is None:
        return _("Done: {group} follows the order.", group=ref)
    return _("Done: {group} gets post {post}.", group=ref, post=post_number)


def GROUP_GONE() -> str:
    return _("That group is not in your list any more.")


# --- buttons (at most 24 characters) ----------------------------------------------------------------


def BTN_POSTS() -> str:
    return _("🗂 Posts")


def BTN_ADD_POST() -> str:
    return _("➕ Add post")


def BTN_ROTATION() -> str:
    return _("🔁 Rotation")


def BTN_COPY() -> str:
    return _("✉ Copy options")


def BTN_GROUP_POSTS() -> str:
    return _("📌 Post per group")


def btn_post(number: int, title: str) -> str:
    return _("{number}. {title}", number=number, title=clip(title, BUTTON_TITLE))


def BTN_PREVIEW() -> str:
    return _("👁 Preview")


def BTN_UP() -> str:
    return _("⬆ Up")


def BTN_DOWN() -> str:
    return _("⬇ Down")


def BTN_REMOVE() -> str:
    return _("🗑 Remove")


def BTN_REMOVE_YES() -> str:
    return _("🗑 Yes, remove")


def BTN_REMOVE_NO() -> str:
    return _("↩ Keep it")


def btn_link_preview(on: bool) -> str:
    """The switch shows what pressing it does."""
    return _("🔗 Preview: turn off") if on else _("🔗 Preview: turn on")


def BTN_ALL_POSTS() -> str:
    return _("⬅ All posts")


def btn_rotation(mode: str, current: bool) -> str:
    label = _("In order") if mode == "order" else (_("At random") if mode == "random" else _("Fixed per group"))
    return "✅ " + label if current else label


def btn_copy(drop_author: bool, drop_media_captions: bool, current: bool) -> str:
    if drop_author and drop_media_captions:
        label = _("Without captions")
    elif drop_author:
        label = _("Without header")
    else:
        label = _("With header")
    return "✅ " + label if current else label


def btn_group(number: int, ref: str) -> str:
    return _("{number}. {group}", number=number, group=clip(ref, 18))


def btn_group_post(number: int, title: str, current: bool) -> str:
    label = btn_post(number, title)
    return "✅ " + label if current else label


def btn_follow_order(current: bool) -> str:
    label = _("Follow the order")
    return "✅ " + label if current else label


def BTN_BACK() -> str:
    return _("⬅ Back")
