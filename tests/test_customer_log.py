"""The customer's own log: lines stored as a key and values, rendered in the reader's language; lines of the
old plain format shown as they were written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from control_bot.logfiles import customer_log_path, flush_logging, setup_logging, tail_customer_log
from core.customer_log import LogKey, parse
from core.outcomes import OutcomeKind
from core.texts.customer_log import line_text, render_line
from engine.customer_log import customer_log


@pytest.fixture
def logs(tmp_path: Path, restore_logging: None) -> Path:
    setup_logging(tmp_path / "logs", console=False)
    return tmp_path / "logs"


def test_a_line_is_stored_as_key_and_values_and_rendered_in_words(logs: Path) -> None:
    log = customer_log(logging.getLogger("engine.test"))
    log(7, logging.WARNING, LogKey.POST_FAILED, group="@cats", kind=OutcomeKind.GROUP_FAILED,
        error="ChatWriteForbiddenError")
    log(7, logging.INFO, LogKey.CYCLE_DONE, cycle=3, sent=1, failed=1, waiting=0, skipped=0, in_doubt=0)
    flush_logging()
    stored = customer_log_path(logs, 7).read_text(encoding="utf-8").splitlines()
    assert stored[0].split(" ", 3)[3] == (
        '{"key":"post_failed","group":"@cats","kind":"group_failed","error":"ChatWriteForbiddenError"}'
    )
    first, second = (parse(line) for line in tail_customer_log(logs, 7))
    assert first.key is LogKey.POST_FAILED and first.values["group"] == "@cats" and first.level == "WARNING"
    shown = render_line(first)
    assert shown.endswith("⚠ The post to @cats failed: the account may not write there.")
    assert "Error" not in shown
    assert render_line(second).endswith("Cycle 3 done: sent 1, failed 1, waiting 0, skipped 0, unconfirmed 0.")
    # The operator's log keeps the names (it is theirs to debug with).
    assert "ChatWriteForbiddenError" in (logs / "adbot.log").read_text(encoding="utf-8")


def test_old_plain_lines_are_shown_as_written() -> None:
    old = "2026-12-01 10:00:00 INFO posted to @cats (message 5) via session 3"
    line = parse(old)
    assert line.key is None and render_line(line) == old
    assert render_line(parse("garbage without a time")) == "garbage without a time"
    assert render_line(parse('2026-12-01 10:00:00 INFO {"key":"no_such_key"}')).endswith('{"key":"no_such_key"}')


def test_unknown_error_names_and_broken_values_never_show_a_name() -> None:
    text = line_text(LogKey.SEND_FAILED, {"group": "@x", "attempts": 3, "kind": "transient",
                                          "error": "AuthKeyUnregisteredError"})
    assert text == "The post to @x failed after 3 attempts: Telegram no longer knows the session's key."
    text = line_text(LogKey.SEND_FAILED, {"group": "@x", "attempts": 3, "kind": "transient", "error": "OddNewError"})
    assert text == "The post to @x failed after 3 attempts: a temporary network or server error."
    assert line_text(LogKey.POST_FAILED, {"group": "@x", "error": "SomeNewError"}).endswith("an unexpected error.")
    shown = line_text(LogKey.SEND_FAILED, {"attempts": "x"})
    assert shown == "The post to ? failed after 0 attempts: an unexpected error."
    assert line_text(LogKey.INTERVAL_SET, {"seconds": 150}) == "Interval set to 2 min 30 s."


def test_every_key_has_words() -> None:
    from core.texts.customer_log import _LINES

    assert set(_LINES) == set(LogKey)


@pytest.mark.parametrize("code", ["en", "ru"])
async def test_the_bots_own_lines_read_in_the_readers_language(tmp_path: Path, code: str) -> None:
    """Setting the post and adding, removing, resuming groups write keys, not English: /logs says them in
    the reader's language."""
    from storage import groups as group_rows
    from tests.botkit import bot_harness, in_locale

    async with bot_harness(tmp_path) as h:
        await h.grant(501)
        olga = h.user(501, "Olga", language_code=code)
        # /post answers twice (the preview, then the saved line): each answer is in before the next step
        await olga.ask("/post Big sale today")
        await h.idle()
        await olga.ask("/post https://t.me/alicechannel/1")
        await h.idle()
        await olga.ask("/addgroups @cats_group @dogs_group")
        await olga.ask("/delgroup @dogs_group")
        gid = (await h.rows("SELECT id FROM groups WHERE ref = '@cats_group'"))[0]["id"]
        async with h.db.tx() as conn:
            await group_rows.pause(conn, gid, "send_failed", h.clock.now())
        from control_bot.services.groups import resume_group

        await resume_group(h.db, 501, gid, h.clock.now())
        logs = await olga.ask("/logs")
        flush_logging()
        stored = customer_log_path(h.settings.paths.logs_dir, 501).read_text(encoding="utf-8")
        with in_locale(code):
            expected = [
                line_text(LogKey.POST_SET_TEXT, {"characters": 14}),
                line_text(LogKey.POST_SET_LINK, {"link": "https://t.me/alicechannel/1", "checked": False}),
                line_text(LogKey.GROUPS_ADDED, {"n": 2, "groups": ["@cats_group", "@dogs_group"]}),
                line_text(LogKey.GROUP_REMOVED, {"group": "@dogs_group"}),
                line_text(LogKey.GROUP_RESUMED, {"group": "@cats_group"}),
            ]
        for line in expected:
            assert line in logs.text, (line, logs.text)
        assert "post set to" not in stored and "added 2 group" not in stored and "removed group" not in stored
    if code == "ru":
        assert "Пост" in expected[0] and "Post set" not in logs.text
    else:
        assert expected[0] == "Post set: a text of 14 characters."
        assert expected[2] == "2 groups added: @cats_group, @dogs_group."


def test_media_and_long_group_lists_in_words() -> None:
    assert line_text(LogKey.POST_SET_MEDIA, {"kinds": ["photo"]}) == "Post set: a photo."
    assert line_text(LogKey.POST_SET_MEDIA, {"kinds": ["photo", "video"]}) == "Post set: an album of 2 items."
    assert line_text(LogKey.GROUPS_ADDED, {"n": 30, "groups": ["@a", "@b"]}) == "30 groups added, the first: @a, @b."
    assert line_text(LogKey.GROUPS_REFUSED, {"n": 1}) == "1 group was not added: it cannot be posted to."
