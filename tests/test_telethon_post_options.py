"""The Telethon adapter's post options against a real TelegramClient (network sender faked,
tests/fake_sender.py): copy mode as ForwardMessages' ``drop_author`` / ``drop_media_captions`` flags, a text
without its link preview (``no_webpage``), custom emoji sent as MessageEntityCustomEmoji, and the account's
Premium read from the self user connect already asks for (no request of its own)."""

from __future__ import annotations

from pathlib import Path

from telethon import functions, types

from engine.telethon_adapter import TelethonFactory
from tests.fake_sender import channel_message_sent, self_user
from tests.test_telethon_adapter import (  # noqa: F401  (factory, rig: the fixtures)
    DEST,
    RANDOM_ID,
    SOURCE,
    Rig,
    connected,
    credentials,
    factory,
    rig,
)

Forward = functions.messages.ForwardMessagesRequest
Send = functions.messages.SendMessageRequest


async def test_copy_mode_rides_in_the_forward_flags(
    factory: TelethonFactory, rig: Rig, tmp_path: Path  # noqa: F811
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Forward, channel_message_sent(DEST.id, 80, RANDOM_ID), channel_message_sent(DEST.id, 81, RANDOM_ID))
    await account.forward(source=SOURCE, msg_id=55, dest=DEST, topic_id=None, random_id=RANDOM_ID, drop_author=True,
                          drop_media_captions=True)
    await account.forward(source=SOURCE, msg_id=55, dest=DEST, topic_id=None, random_id=RANDOM_ID, drop_author=True)
    first, second = rig.fake.of(Forward)[-2:]
    assert (first.drop_author, first.drop_media_captions) == (True, True)
    assert (second.drop_author, bool(second.drop_media_captions)) == (True, False)
    # the flags really go out: Telethon serialises them into the request's flags word
    assert bytes(first) != bytes(second)
    await account.close()


async def test_a_text_without_link_preview_and_with_custom_emoji(
    factory: TelethonFactory, rig: Rig, tmp_path: Path  # noqa: F811
) -> None:
    account = await connected(factory, tmp_path)
    rig.fake.script(Send, channel_message_sent(DEST.id, 90, RANDOM_ID))
    entities = [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}]
    await account.send_text(dest=DEST, topic_id=None, text="👍 https://example.com", entities=entities,
                            random_id=RANDOM_ID, no_webpage=True)
    request = rig.fake.of(Send)[-1]
    assert request.no_webpage is True
    assert request.entities == [types.MessageEntityCustomEmoji(0, 2, 5368324170671202286)]
    await account.close()


async def test_premium_is_read_from_the_self_user_without_a_request_of_its_own(
    factory: TelethonFactory, rig: Rig, tmp_path: Path  # noqa: F811
) -> None:
    plain = factory.open(credentials(tmp_path, 1))
    assert (await plain.connect()).premium is False
    plain_requests = [type(r).__name__ for r in rig.fake.requests]
    await plain.close()

    account = factory.open(credentials(tmp_path, 2))
    account._client_or_build()  # the client (and its fake sender) exist before the first connect
    premium_user = self_user()
    premium_user.premium = True
    rig.fake.always(functions.users.GetUsersRequest, lambda _r: [premium_user])
    assert (await account.connect()).premium is True
    assert [type(r).__name__ for r in rig.fake.requests] == plain_requests  # the same connect, nothing more
    await account.close()
