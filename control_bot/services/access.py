"""Access requests (issue 18 part D): a stranger asks for a plan, an admin answers from a card.

One open request per person (``storage.users.open_request``). An answer closes it; the first admin to
answer wins and any later press on another admin's card finds it closed. A plan button grants through
the admin grant service (``services.admin.grant_in``: the customer is told through the outbox) only
when the person has no active plan by then: changing an existing plan is /grant's (which shows the
change first). The checks, the grant and the close are one ``BEGIN IMMEDIATE`` transaction, as
``plans.confirm``'s are: a card press and a ``/grant`` landing together never grant twice.

A declined person may ask again only ``DECLINE_COOLDOWN`` after the decline (``Asked.DECLINED``): every
request sends a card to every admin, so asking again at once would be a way to spam them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from control_bot.services import admin as admin_service
from control_bot.services.admin import GrantResult
from storage import customers, users
from storage.customers import Customer
from storage.db import Database
from storage.users import AccessRequest

logger = logging.getLogger(__name__)

# ``access_requests.outcome`` keys (never words).
GRANTED = "granted"
DECLINED = "declined"
HAS_PLAN = "has_plan"  # the person got a plan some other way before an admin answered
UNSENT = "unsent"  # no admin could be reached: closed so the person can ask again
NOBODY = 0  # ``handled_by`` of a request no admin answered
DECLINE_COOLDOWN = 86_400.0  # after a decline, the person may ask again only this much later


class Asked(StrEnum):
    SENT = "sent"  # opened: send the cards
    PENDING = "pending"  # one is already open
    CUSTOMER = "customer"  # they have an active plan: nothing to ask
    DECLINED = "declined"  # declined less than DECLINE_COOLDOWN ago: no new request, no cards


@dataclass(frozen=True)
class AskResult:
    outcome: Asked
    request: AccessRequest | None  # the new one (SENT), the open one (PENDING), the declined one (DECLINED)
    ended_at: float | None = None  # when they had a plan that ended
    again_at: float | None = None  # DECLINED: when they may ask again


async def ask(db: Database, user_id: int, now: float) -> AskResult:
    """Open a request (SENT: the caller sends the cards), unless they have a plan, one is open already
    (PENDING: never a second round of cards) or an admin declined them less than ``DECLINE_COOLDOWN`` ago
    (DECLINED). One transaction: two presses at once open one request."""
    async with db.tx() as conn:
        customer = await customers.get(conn, user_id)
        if customer is not None and customer.plan_active(now):
            return AskResult(Asked.CUSTOMER, None)
        ended = min(customer.plan_expires_at, now) if customer is not None else None
        pending = await users.pending_request(conn, user_id)
        if pending is not None:
            return AskResult(Asked.PENDING, pending, ended)
        declined = await users.last_answered(conn, user_id, DECLINED)
        if declined is not None and declined.handled_at is not None:
            again_at = declined.handled_at + DECLINE_COOLDOWN
            if now < again_at:
                return AskResult(Asked.DECLINED, declined, ended, again_at=again_at)
        opened = await users.open_request(conn, user_id, now)
        if opened is None:
            return AskResult(Asked.PENDING, await users.pending_request(conn, user_id), ended)
    logger.info("access request from user %d", user_id)
    return AskResult(Asked.SENT, opened, ended)


async def unsent(db: Database, user_id: int, now: float) -> None:
    """No admin got the card: close the request so the person can ask again."""
    async with db.tx() as conn:
        await users.close_request(conn, user_id, NOBODY, UNSENT, now)
    logger.warning("access request from user %d reached no admin", user_id)


class Answer(StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"
    HAS_PLAN = "has_plan"
    CLOSED = "closed"  # already answered (by another admin, or the request was withdrawn)


@dataclass(frozen=True)
class AnswerResult:
    answer: Answer
    grant: GrantResult | None = None
    customer: Customer | None = None  # HAS_PLAN: their plan


@dataclass
class Answering:
    """The answers of this process, one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def grant(
        self, db: Database, user_id: int, admin_id: int, sessions: int, days: int, *, now: float, default_interval: int
    ) -> AnswerResult:
        """Grant and close the request in ONE transaction: an open request, no active plan, the grant and
        the close are read and written under the same write lock, so a ``/grant`` confirmed by another
        admin at the same moment (``plans.confirm``, also one transaction) either finds the request closed
        and the plan changed (refused), or makes this find it closed: never two grants."""
        admin_service.parse_sessions(str(sessions))  # a card's numbers, checked as /grant checks them
        admin_service.parse_days(str(days))
        async with self.lock, db.tx() as conn:
            if await users.pending_request(conn, user_id) is None:
                return AnswerResult(Answer.CLOSED)
            customer = await customers.get(conn, user_id)
            if customer is not None and customer.plan_active(now):
                await users.close_request(conn, user_id, admin_id, HAS_PLAN, now)
                return AnswerResult(Answer.HAS_PLAN, customer=customer)
            result = await admin_service.grant_in(conn, user_id, sessions, days, now, default_interval)
            await users.close_request(conn, user_id, admin_id, GRANTED, now)
        logger.info("access request of user %d granted by admin %d", user_id, admin_id)
        return AnswerResult(Answer.GRANTED, grant=result)

    async def decline(self, db: Database, user_id: int, admin_id: int, *, now: float) -> AnswerResult:
        async with self.lock, db.tx() as conn:
            closed = await users.close_request(conn, user_id, admin_id, DECLINED, now)
        if closed is None:
            return AnswerResult(Answer.CLOSED)
        logger.info("access request of user %d declined by admin %d", user_id, admin_id)
        return AnswerResult(Answer.DECLINED)


async def audience(db: Database, user_id: int) -> tuple[str | None, str | None]:
    """(language or Telegram language code, time zone) of someone the bot writes to outside their update."""
    async with db.read() as conn:
        return await users.audience(conn, user_id)
