"""The simulated Telegram's post options, as Telegram does them (``sandbox.world.texts``): a forward drops
its media captions only without its author header; an own message from an account without Premium keeps
its text and other formatting and loses its custom emoji; a text may go without its link preview."""

from __future__ import annotations

from core.clock import FakeClock
from sandbox.world import World
from tests.test_world import T0, connected

CUSTOM = {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
ITALIC = {"type": "italic", "offset": 3, "length": 4}


async def test_captions_are_dropped_only_from_a_forward_without_its_header() -> None:
    world = World(FakeClock(T0))
    world.add_account("a")
    world.add_channel("ads", posts=[1])
    world.add_group("cats")
    port = await connected(world, "a")
    src, dest = await port.resolve("@ads"), await port.resolve("@cats")
    for n, (drop_author, drop_captions) in enumerate([(False, True), (True, False), (True, True)]):
        await port.forward(source=src, msg_id=1, dest=dest, topic_id=None, random_id=100 + n,
                           drop_author=drop_author, drop_media_captions=drop_captions)
    shown = [(d.drop_author, d.captions_dropped) for d in world.deliveries_to("@cats")]
    assert shown == [(False, False), (True, False), (True, True)]


async def test_custom_emoji_arrive_from_premium_only_and_no_webpage_is_kept() -> None:
    world = World(FakeClock(T0))
    world.add_account("plain")
    world.add_account("rich").premium = True
    world.add_group("cats")
    plain, rich = await connected(world, "plain", 1), await connected(world, "rich", 2)
    assert (await plain.connect()).premium is False and (await rich.connect()).premium is True
    for n, port in enumerate((plain, rich)):
        dest = await port.resolve("@cats")
        await port.send_text(dest=dest, topic_id=None, text="👍 Sale", entities=[CUSTOM, ITALIC], random_id=200 + n,
                             no_webpage=n == 0)
    from_plain, from_rich = world.deliveries_to("@cats")
    assert (from_plain.text, from_plain.entities, from_plain.no_webpage) == ("👍 Sale", ("italic",), True)
    assert (from_rich.text, from_rich.entities, from_rich.no_webpage) == ("👍 Sale", ("custom_emoji", "italic"), False)
