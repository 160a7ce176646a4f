"""POST /api/sync/push and GET /api/sync/pull (SPEC §6): thin handlers over server.push and server.pull."""

from __future__ import annotations

from starlette.requests import Request

from server import openapi
from server.caller import api_caller
from server.http import read_json_object
from server.pull import DEFAULT_LIMIT, MAX_LIMIT, parse_limit
from server.pull import pull as pull_changes
from server.push import MAX_RECORDS, apply_push
from server.responses import JSONResponse


async def push(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    # Only doctors log visits; a supervisor's phone has nothing to push (403 before the body).
    caller.require("doctor")
    body = await read_json_object(request)
    settings = request.app.state.settings
    return JSONResponse(await apply_push(caller.user, caller.device, body, settings=settings))


async def pull(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    limit = parse_limit(request.query_params.get("limit"))
    cursor = request.query_params.get("cursor", "")
    settings = request.app.state.settings
    return JSONResponse(
        await pull_changes(
            caller.user, caller.device, cursor=cursor, limit=limit, settings=settings
        )
    )


VISIT_DATA = {
    "type": "object",
    "required": [
        "village",
        "kind",
        "started_at",
        "ended_at",
        "patients_seen",
        "services",
        "notes",
        "location",
    ],
    "properties": {
        "village": {"type": "string"},
        "kind": {"type": "string", "enum": ["duty", "patrol"]},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "patients_seen": {"type": "integer", "minimum": 0, "maximum": 500},
        "services": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string", "maxLength": 2000},
        "location": {
            "type": ["object", "null"],
            "properties": {
                "lat": {"type": "number"},
                "lon": {"type": "number"},
                "accuracy_m": {"type": ["number", "null"]},
            },
        },
    },
}
RECORD = {
    "type": "object",
    "required": ["type", "id", "rev", "deleted", "data"],
    "properties": {
        "type": {
            "type": "string",
            "enum": [
                "township",
                "village",
                "assignment",
                "exemption",
                "visit",
                "coverage",
                "reminder",
            ],
        },
        "id": {"type": "string"},
        "rev": {"type": "integer"},
        "deleted": {"type": "boolean"},
        "hlc": {"type": "string", "description": "visits only: the winning version's clock"},
        "data": {"type": ["object", "null"]},
    },
}
FIELD_ERROR = {
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": "string"},
        "code": {"type": "string"},
        "message": {"type": "string"},
    },
}

openapi.register(
    "post",
    "/api/sync/push",
    {
        "summary": "Push visit edits from a phone's outbox; one result per record, in order.",
        "request": {
            "type": "object",
            "required": ["device_id", "device_time", "records"],
            "properties": {
                "device_id": {"type": "string"},
                "device_time": {"type": "string", "format": "date-time"},
                "device": {
                    "type": "object",
                    "properties": {
                        "app_version": {"type": "string"},
                        "outbox": {"type": "integer", "minimum": 0},
                        "storage_used_mb": {"type": "number"},
                        "storage_quota_mb": {"type": "number"},
                    },
                },
                "records": {
                    "type": "array",
                    "maxItems": MAX_RECORDS,
                    "items": {
                        "type": "object",
                        "required": ["type", "id", "change_id", "base_rev", "hlc", "deleted"],
                        "properties": {
                            "type": {"type": "string", "enum": ["visit"]},
                            "id": {"type": "string", "format": "uuid"},
                            "change_id": {"type": "string", "format": "uuid"},
                            "base_rev": {"type": "integer", "minimum": 0},
                            "hlc": {"type": "string"},
                            "deleted": {"type": "boolean"},
                            "data": {"oneOf": [VISIT_DATA, {"type": "null"}]},
                        },
                    },
                },
            },
        },
        "response": {
            "type": "object",
            "required": ["server_time", "results"],
            "properties": {
                "server_time": {"type": "string", "format": "date-time"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "status", "rev", "flags", "errors", "record"],
                        "properties": {
                            "id": {"type": ["string", "null"]},
                            "status": {
                                "type": "string",
                                "enum": ["applied", "duplicate", "conflict", "rejected"],
                            },
                            "rev": {"type": "integer"},
                            "flags": {"type": "array", "items": {"type": "string"}},
                            "errors": {"type": "array", "items": FIELD_ERROR},
                            "record": {"oneOf": [RECORD, {"type": "null"}]},
                        },
                    },
                },
            },
        },
        "errors": [400, 403, 413, 422],
    },
)

openapi.register(
    "get",
    "/api/sync/pull",
    {
        "summary": "The changes after a cursor that the caller may see, in order.",
        "query": [
            ("cursor", {"type": "string"}, False),
            (
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                False,
            ),
        ],
        "response": {
            "type": "object",
            "required": ["changes", "cursor", "more"],
            "properties": {
                "changes": {"type": "array", "items": RECORD},
                "cursor": {"type": "string"},
                "more": {"type": "boolean"},
            },
        },
        "errors": [422],
    },
)
