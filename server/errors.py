"""The one error body of SPEC §6 and the exception handlers that produce it."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from tortoise.exceptions import BaseORMException, DBConnectionError, OperationalError

from server.responses import JSONResponse

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
    if isinstance(exc, DBConnectionError | ConnectionError | OSError | TimeoutError):
        return True
    # asyncpg's own errors reach here untranslated by Tortoise. SQLSTATE classes: 08 connection
    # exception, 53 insufficient resources (disk full, too many connections), 57 operator
    # intervention (terminated backend, shutdown, cannot connect now), 58 system/I/O error; and
    # 55000 "database … is not currently accepting connections".
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate[:2] in ("08", "53", "57", "58")
        or (sqlstate == "55000" and "connection" in str(exc).lower())
    ):
        return True
    if type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in (
        "ConnectionDoesNotExistError",
        "InterfaceError",
    ):
        return "connection" in str(exc).lower() or "closed" in str(exc).lower()
    if type(exc).__name__ == "InternalClientError" and "another operation" in str(exc):
        # asyncpg on a pooled connection whose backend was terminated while idle: the pool
        # throws the connection away when it comes back, and the next request gets a new one.
        return True
    # Tortoise translates SQLite's errors inside statements, but not at COMMIT, where a full disk
    # or a read-only file shows up as sqlite3's own OperationalError.
    if isinstance(exc, OperationalError | sqlite3.OperationalError):
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


def _is_storage_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full") or PostgreSQL's disk_full (53100)."""
    if getattr(exc, "sqlstate", None) == "53100" or "disk is full" in str(exc).lower():
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and _is_storage_full(cause)


def _unavailable_response(exc: BaseException) -> Response:
    # Decision: a full disk answers 507 `insufficient_storage`, so an operator reading the log or
    # a phone's status line can tell it from a lost connection (503); both are 5xx, which the
    # phone retries with its outbox kept (pwa/sync.js).
    if _is_storage_full(exc):
        log.error("database storage full: %s", exc)
        return error_response(
            507,
            "insufficient_storage",
            "The server's disk is full; nothing from this request was stored. Retry later.",
            headers={"Retry-After": "60"},
        )
    log.warning("database unavailable: %s", exc)
    return error_response(
        503,
        "unavailable",
        "The database is unavailable; nothing from this request was stored. Retry shortly.",
        headers={"Retry-After": "5"},
    )


def database_error_classes() -> tuple[type[BaseException], ...]:
    """The exceptions a lost, refused, read-only or full database raises, for
    `exception_handlers`: Starlette hands these to `database_error_handler` inside its
    ExceptionMiddleware, which answers and keeps the client's connection open. A handler for
    `Exception` runs in ServerErrorMiddleware instead, which re-raises after answering and so
    makes uvicorn drop the keep-alive connection (a phone's next request would fail too)."""
    import asyncpg
    from asyncpg.exceptions import InternalClientError

    return (
        BaseORMException,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        InternalClientError,
        sqlite3.OperationalError,
        OSError,
    )


async def database_error_handler(request: Request, exc: Exception) -> Response:
    if _is_unavailable(exc):
        return _unavailable_response(exc)
    raise exc  # anything else is a bug: server_error_handler logs it and answers 500


async def server_error_handler(request: Request, exc: Exception) -> Response:
    if _is_unavailable(exc):
        return _unavailable_response(exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "An unexpected error occurred; nothing was lost.")
