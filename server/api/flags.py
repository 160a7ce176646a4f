"""POST /api/visits/{id}/resolve-overlap and /api/visits/{id}/dismiss: supervisors' flag decisions."""

from __future__ import annotations

from starlette.requests import Request

from server import openapi
from server.caller import api_caller
from server.errors import ApiError
from server.flags import dismiss_visit, resolve_overlap
from server.http import path_uuid, read_json_object
from server.models import Visit
from server.responses import JSONResponse


async def _state(visit_id: str) -> dict[str, object]:
    row = await Visit.filter(id=visit_id).values(
        "id", "dismissed", "dismiss_reason", "overlap_resolved"
    )
    return dict(row[0]) if row else {"id": visit_id}


async def resolve(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    caller.require("supervisor", "admin")
    body = await read_json_object(request, limit=64 * 1024)
    counting = body.get("counting")
    if not isinstance(counting, list) or not all(isinstance(c, str) for c in counting):
        raise ApiError(
            422,
            "invalid",
            "'counting' must list the ids of the visits that count.",
            [{"field": "counting", "code": "required"}],
        )
    visit_id = path_uuid(request)
    await resolve_overlap(
        visit_id, counting, actor=caller.user, settings=request.app.state.settings
    )
    return JSONResponse({"visit": await _state(visit_id)})


async def dismiss(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    caller.require("supervisor", "admin")
    body = await read_json_object(request, limit=64 * 1024)
    reason = body.get("reason")
    visit_id = path_uuid(request)
    await dismiss_visit(
        visit_id,
        reason if isinstance(reason, str) else "",
        actor=caller.user,
        settings=request.app.state.settings,
    )
    return JSONResponse({"visit": await _state(visit_id)})


VISIT_STATE = {
    "type": "object",
    "required": ["visit"],
    "properties": {
        "visit": {
            "type": "object",
            "required": ["id", "dismissed", "dismiss_reason", "overlap_resolved"],
            "properties": {
                "id": {"type": "string"},
                "dismissed": {"type": "boolean"},
                "dismiss_reason": {"type": ["string", "null"]},
                "overlap_resolved": {"type": "boolean"},
            },
        }
    },
}

openapi.register(
    "post",
    "/api/visits/{id}/resolve-overlap",
    {
        "summary": "Choose which of overlapping visits count (one or several); the others are dismissed.",
        "request": {
            "type": "object",
            "required": ["counting"],
            "properties": {
                "counting": {"type": "array", "minItems": 1, "items": {"type": "string"}}
            },
        },
        "response": VISIT_STATE,
        "errors": [400, 403, 404, 413, 422],
    },
)
openapi.register(
    "post",
    "/api/visits/{id}/dismiss",
    {
        "summary": "Dismiss a visit with a reason: it no longer counts for coverage.",
        "request": {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}},
        },
        "response": VISIT_STATE,
        "errors": [400, 403, 404, 413, 422],
    },
)
