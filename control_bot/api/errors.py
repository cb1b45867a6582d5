"""The API's errors: ``{"error": {"code": "...", "message": "..."}}`` with an HTTP status. The codes are
stable (clients branch on them, ``docs/API.md`` lists them); the message is English for a person reading a log."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

UNAUTHORIZED = "unauthorized"  # 401: no X-API-Key, or not one of [api] keys
NOT_FOUND = "not_found"  # 404: no such path
METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
CUSTOMER_NOT_FOUND = "customer_not_found"  # 404: no customer with this id
BAD_REQUEST = "bad_request"  # 400: the body is not a JSON object, or a field is missing or wrong
REQUEST_ID_REUSED = "request_id_reused"  # 409: this request id was used with other parameters
PLAN_INACTIVE = "plan_inactive"  # 409: the customer's plan has ended (start / stop)
NOT_READY = "not_ready"  # 409: the campaign cannot start (no post, no groups, no sessions...)
CYCLE_RUNNING = "cycle_running"  # 409: a smaller plan waits for the running cycle to end: retry later
BUSY = "busy"  # 503: the database is busy: retry later
INTERNAL = "internal_error"  # 500


class ApiFailure(Exception):
    """Raised by the service and the routes; answered by the error middleware."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response(error_body(code, message), status=status, dumps=dumps)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
