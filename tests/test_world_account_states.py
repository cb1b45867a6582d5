"""The simulated Telegram's frozen and dead accounts, as strict as Telegram: a frozen account connects
and reads its app config but every other request is FROZEN_METHOD_INVALID (asking again is a
violation); -404 and 401 at connect are dead accounts."""

from __future__ import annotations

import pytest
from telethon import errors

from core.clock import FakeClock
from core.outcomes import OutcomeKind
from core.ports import AccountStatus
from engine.outcomes import classify
from sandbox.world import World
from sandbox.world import frozen as frozen_rules
from sandbox.world.faults import Fault
from sandbox.world.port import SimPort

T0 = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture
def world() -> World:
    made = World(FakeClock(T0))
    made.add_account("acc")
    made.add_channel("ads", posts=[1], members=["acc"])
    made.add_group("cats")
    return made


async def connected(world: World, key: str = "acc") -> SimPort:
    port = SimPort(world, key, 1)
    await port.connect()
    return port


async def test_a_frozen_account_connects_and_its_app_config_says_so(world: World) -> None:
    frozen_rules.freeze(world.accounts["acc"], T0 - 10, until=T0 + 30 * DAY, appeal_url="https://t.me/spambot")
    port = await connected(world)

    status = await port.account_status()

    assert status == AccountStatus(T0 - 10, T0 + 30 * DAY, "https://t.me/spambot") and status.frozen
    assert world.request_count("acc", "app_config") == 1
    assert world.violations == []


async def test_every_other_request_is_frozen_method_invalid_and_a_repeat_is_a_violation(world: World) -> None:
    port = await connected(world)
    assert not (await port.account_status()).frozen  # not frozen yet: no freeze keys
    cats = await port.resolve("@cats")
    ads = await port.resolve("@ads")
    frozen_rules.freeze(world.accounts["acc"], T0)

    with pytest.raises(errors.FrozenMethodInvalidError) as caught:
        await port.forward(source=ads, msg_id=1, dest=cats, topic_id=None, random_id=1, drop_author=False)
    assert classify(caught.value).kind is OutcomeKind.ACCOUNT_FROZEN
    assert world.violations == []  # the first answer is how a client learns it
    assert world.deliveries == []

    for request in (port.dialogs(), port.resolve("@cats"), port.join("@cats")):
        with pytest.raises(errors.FrozenMethodInvalidError):
            await request
    assert [v.kind for v in world.violations] == ["frozen"] * 3
    assert (await port.account_status()).frozen  # still allowed

    frozen_rules.unfreeze(world.accounts["acc"])
    assert await port.send_text(dest=cats, topic_id=None, text="hi", entities=[], random_id=2) >= 1


async def test_a_frozen_fault_freezes_the_account_for_good(world: World) -> None:
    world.add_fault(Fault(kind="frozen", account="acc"))
    port = await connected(world)
    cats = await port.resolve("@cats")  # the fault hits the first send, not this
    ads = await port.resolve("@ads")
    with pytest.raises(errors.FrozenMethodInvalidError):
        await port.forward(source=ads, msg_id=1, dest=cats, topic_id=None, random_id=1, drop_author=False)
    assert (await port.account_status()).frozen


@pytest.mark.parametrize(("fault", "error"), [
    (Fault(kind="key_not_found", method="connect"), errors.AuthKeyNotFound),
    (Fault(kind="dead", method="connect"), errors.AuthKeyUnregisteredError),
    (Fault(kind="error", error="SessionRevokedError", method="connect"), errors.SessionRevokedError),
])
async def test_dead_at_connect(world: World, fault: Fault, error: type[BaseException]) -> None:
    world.add_fault(fault)
    port = SimPort(world, "acc", 1)
    with pytest.raises(error) as caught:
        await port.connect()
    assert classify(caught.value).kind is OutcomeKind.ACCOUNT_DEAD

