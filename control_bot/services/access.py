"""Access requests (issue 18 part D): a stranger asks for a plan, an admin answers from a card.

One open request per person (``storage.users.open_request``). An answer closes it; the first admin to
answer wins and any later press on another admin's card finds it closed. A plan button grants through
the admin grant service (``services.admin.grant_plan``: the customer is told through the outbox) only
when the person has no active plan by then: changing an existing plan is /grant's (which shows the
change first). Answers are serialised in this process by ``Answering.lock`` (one bot process polls one
token), so two admins pressing at once never grant twice.
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


class Asked(StrEnum):
    SENT = "sent"  # opened: send the cards
    PENDING = "pending"  # one is already open
    CUSTOMER = "customer"  # they have an active plan: nothing to ask


@dataclass(frozen=True)
class AskResult:
    outcome: Asked
    request: AccessRequest | None  # the new one (SENT) or the open one (PENDING)
    ended_at: float | None = None  # when they had a plan that ended


async def ask(db: Database, user_id: int, now: float) -> AskResult:
    async with db.tx() as conn:
        customer = await customers.get(conn, user_id)
        if customer is not None and customer.plan_active(now):
            return AskResult(Asked.CUSTOMER, None)
        opened = await users.open_request(conn, user_id, now)
        ended = min(customer.plan_expires_at, now) if customer is not None else None
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
        async with self.lock:
            async with db.read() as conn:
                pending = await users.pending_request(conn, user_id)
                customer = await customers.get(conn, user_id)
            if pending is None:
                return AnswerResult(Answer.CLOSED)
            if customer is not None and customer.plan_active(now):
                async with db.tx() as conn:
                    await users.close_request(conn, user_id, admin_id, HAS_PLAN, now)
                return AnswerResult(Answer.HAS_PLAN, customer=customer)
            result = await admin_service.grant_plan(
                db, user_id, sessions, days, now=now, default_interval=default_interval
            )
            async with db.tx() as conn:
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
