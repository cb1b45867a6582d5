"""The API's routes: parse the request, call ``control_bot.api.service``, answer JSON.

Every request passes two middlewares: errors (any failure becomes the JSON envelope of
``control_bot.api.errors``, never a traceback to the client) and then the key check (``auth``: no valid
``X-API-Key``, no answer but 401, whatever the path). Requests are logged by method, path and status only:
headers (the key) and bodies never reach the log.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web

from control_bot.api import errors as codes
from control_bot.api import service
from control_bot.api.auth import HEADER, KeyCheck
from control_bot.api.errors import ApiFailure, dumps, error_response
from control_bot.api.service import ApiContext
from core.errors import StorageBusy

logger = logging.getLogger(__name__)

CONTEXT = web.AppKey("context", ApiContext)
KEYS = web.AppKey("keys", KeyCheck)
MAX_BODY = 16 * 1024  # a plan request is a few dozen bytes
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_MAX_ID = 2**63 - 1


def _answer(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except ApiFailure as failure:
        response = error_response(failure.status, failure.code, failure.message)
    except web.HTTPNotFound:
        response = error_response(404, codes.NOT_FOUND, "no such path")
    except web.HTTPMethodNotAllowed:
        response = error_response(405, codes.METHOD_NOT_ALLOWED, "method not allowed on this path")
    except web.HTTPRequestEntityTooLarge:
        response = error_response(413, codes.BAD_REQUEST, "the body is too large")
    except StorageBusy:
        response = error_response(503, codes.BUSY, "the database is busy: retry later")
    except Exception:
        logger.exception("API: %s %s failed", request.method, request.path)
        response = error_response(500, codes.INTERNAL, "internal error")
    logger.info("API: %s %s -> %d", request.method, request.path, response.status)
    return response


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.app[KEYS].accepts(request.headers.get(HEADER)):
        raise ApiFailure(401, codes.UNAUTHORIZED, f"a valid {HEADER} header is required")
    response: web.StreamResponse = await handler(request)
    return response


def _customer_id(request: web.Request) -> int:
    raw = request.match_info["customer_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= _MAX_ID:
        raise ApiFailure(400, codes.BAD_REQUEST, "the customer id is a positive integer (their Telegram user id)")
    return int(raw)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiFailure(413, codes.BAD_REQUEST, "the body is too large") from None
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiFailure(400, codes.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiFailure(400, codes.BAD_REQUEST, "the body is a JSON object")
    return body


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiFailure(400, codes.BAD_REQUEST, f"{name} is required, an integer")
    return value


async def _health(request: web.Request) -> web.Response:
    return _answer(await service.health(request.app[CONTEXT]))


async def _customer(request: web.Request) -> web.Response:
    return _answer(await service.customer(request.app[CONTEXT], _customer_id(request)))


async def _plan(request: web.Request) -> web.Response:
    customer_id = _customer_id(request)
    body = await _json_body(request)
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise ApiFailure(400, codes.BAD_REQUEST, "request_id is required: 1 to 128 of A-Z a-z 0-9 . _ : -")
    answer = await service.grant_plan(
        request.app[CONTEXT], customer_id, _int_field(body, "sessions"), _int_field(body, "days"), request_id
    )
    return _answer(answer, 200 if answer["replayed"] else 201)


async def _start(request: web.Request) -> web.Response:
    return _answer(await service.start(request.app[CONTEXT], _customer_id(request)))


async def _stop(request: web.Request) -> web.Response:
    return _answer(await service.stop(request.app[CONTEXT], _customer_id(request)))


def build_api(context: ApiContext) -> web.Application:
    """The aiohttp application of the API (served by ``control_bot.api.server``)."""
    app = web.Application(middlewares=[_errors, _auth], client_max_size=MAX_BODY)
    app[CONTEXT] = context
    app[KEYS] = KeyCheck(context.settings.api.keys)
    app.router.add_get("/api/health", _health, allow_head=False)
    app.router.add_get("/api/customers/{customer_id}", _customer, allow_head=False)
    app.router.add_post("/api/customers/{customer_id}/plan", _plan)
    app.router.add_post("/api/customers/{customer_id}/start", _start)
    app.router.add_post("/api/customers/{customer_id}/stop", _stop)
    return app
