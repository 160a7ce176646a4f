"""The caller's reminders (SPEC §11 inbox), marking one read, and a township's webhook URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from starlette.requests import Request
from tortoise.transactions import in_transaction

from server import openapi
from server.caller import TOWNSHIP_CODE, api_caller
from server.changes import ChangeNote, append_changes
from server.errors import ApiError
from server.http import read_json_object
from server.models import AuditEntry, Reminder, Township
from server.responses import JSONResponse

MAX_URL = 500
LIST_LIMIT = 100

REMINDER = {
    "type": "object",
    "required": ["id", "kind", "week", "title", "body", "url", "created_at", "read"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["weekly", "nudge"]},
        "week": {"type": "string"},
        "title": {"type": "string"},
        "body": {"type": "string"},
        "url": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
    },
}

openapi.register("get", "/api/reminders", {
    "summary": "The caller's reminders, newest first (at most 100).",
    "response": {"type": "object", "required": ["reminders"],
                 "properties": {"reminders": {"type": "array", "items": REMINDER}}},
})
openapi.register("post", "/api/reminders/{id}/read", {
    "summary": "Mark one of the caller's reminders read (every device sees it in the next pull).",
    "response": {"type": "object", "required": ["reminder"], "properties": {"reminder": REMINDER}},
    "errors": [404],
})
openapi.register("put", "/api/townships/{code}/webhook", {
    "summary": "Set or clear the township's reminder webhook (its supervisor, or an admin of its county).",
    "request": {"type": "object", "required": ["url"],
                "properties": {"url": {"type": ["string", "null"], "maxLength": MAX_URL}}},
    "response": {"type": "object", "required": ["township", "url"],
                 "properties": {"township": {"type": "string"}, "url": {"type": ["string", "null"]}}},
    "errors": [400, 403, 404, 413, 422],
})


def reminder_json(reminder: Reminder, tz: str) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "kind": reminder.kind,
        "week": reminder.week,
        "title": reminder.title,
        "body": reminder.body,
        "url": reminder.url,
        "created_at": reminder.created_at.astimezone(ZoneInfo(tz)).isoformat(),
        "read": reminder.read_at is not None,
    }


def webhook_url_error(url: str) -> str | None:
    """Why `url` cannot be a webhook, or None. Plain http is allowed: a township's SMS gateway
    may sit on its own network."""
    if len(url) > MAX_URL:
        return f"The URL is longer than {MAX_URL} characters."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The webhook must be an http:// or https:// URL."
    if any(c.isspace() for c in url):
        return "The URL must not contain spaces."
    return None


async def list_reminders(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    tz = request.app.state.settings.tz
    rows = await Reminder.filter(user_id=caller.user.id).order_by("-created_at").limit(LIST_LIMIT)
    return JSONResponse({"reminders": [reminder_json(r, tz) for r in rows]})


async def mark_read(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    reminder = await Reminder.get_or_none(id=request.path_params["id"], user_id=caller.user.id)
    if reminder is None:
        raise ApiError(404, "not_found", "No such reminder of yours.")
    if reminder.read_at is None:
        async with in_transaction() as connection:
            reminder.read_at = datetime.now(UTC)
            await reminder.save(update_fields=["read_at"], using_db=connection)
            await append_changes(
                [ChangeNote(type="reminder", entity_id=reminder.id, user_id=caller.user.id)],
                connection,
            )
    return JSONResponse({"reminder": reminder_json(reminder, request.app.state.settings.tz)})


async def set_township_webhook(code: str, url: str | None, actor: str) -> None:
    async with in_transaction() as connection:
        await Township.filter(code=code).using_db(connection).update(webhook_url=url)
        await AuditEntry.create(
            actor=actor, action="township.webhook", target=code,
            details={"url": url}, using_db=connection,
        )


async def put_webhook(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    caller.require("supervisor", "admin")
    code = request.path_params["code"]
    if not TOWNSHIP_CODE.fullmatch(code) or not await Township.exists(code=code):
        raise ApiError(404, "not_found", f"Unknown township {code}.")
    await caller.require_township(code)
    body = await read_json_object(request, limit=16 * 1024)
    if "url" not in body:
        raise ApiError(422, "invalid", "'url' is required (null clears it).",
                       [{"field": "url", "code": "required"}])
    url = body["url"]
    if isinstance(url, str):
        url = url.strip() or None
    if url is not None:
        problem = webhook_url_error(url) if isinstance(url, str) else "'url' must be a string or null."
        if problem:
            raise ApiError(422, "invalid", problem, [{"field": "url", "code": "invalid", "message": problem}])
    await set_township_webhook(code, url, caller.user.id)
    return JSONResponse({"township": code, "url": url})
