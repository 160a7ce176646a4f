"""The one error body of SPEC §6 and the exception handlers that produce it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import DBConnectionError, OperationalError

log = logging.getLogger("cunyi")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


def _is_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection: the request may be retried, nothing was acknowledged."""
    if isinstance(exc, DBConnectionError | ConnectionError | OSError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        return any(
            words in text
            for words in (
                "connection",
                "terminat",
                "readonly",
                "read-only",
                "disk",
                "database is locked",
                "shutting down",
            )
        )
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and _is_unavailable(cause)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    if _is_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        return error_response(
            503,
            "unavailable",
            "The database is unavailable; nothing from this request was stored. Retry shortly.",
            headers={"Retry-After": "5"},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "An unexpected error occurred; nothing was lost.")
