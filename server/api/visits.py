"""GET /api/visits/{id} (SPEC §7): a visit as a pull returns it, with every earlier version and
every conflict loser."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server import openapi
from server.api.sync import RECORD
from server.caller import api_caller
from server.errors import ApiError
from server.http import path_uuid
from server.models import Village, Visit, VisitVersion
from server.pull import visit_record
from server.responses import JSONResponse


async def visit_detail(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    visit_id = path_uuid(request)
    visit = await Visit.get_or_none(id=visit_id)
    if visit is None:
        raise ApiError(404, "not_found", f"Unknown visit {visit_id}.")
    if visit.doctor_id != caller.user.id:  # type: ignore[attr-defined]
        # Not theirs: only a role covering the visit's township may read it (never another doctor).
        if caller.role == "doctor":
            raise ApiError(403, "forbidden", "This visit belongs to another doctor.")
        village = await Village.get(code=visit.village_id)  # type: ignore[attr-defined]
        await caller.require_township(village.township_id)  # type: ignore[attr-defined]
    tz = request.app.state.settings.tz
    versions = await VisitVersion.filter(visit_id=visit.id).order_by("id")
    history = [
        _version_json(v, tz)
        for v in versions
        if not (v.outcome == "version" and v.rev == visit.rev)
    ]
    return JSONResponse({**visit_record(visit, tz), "history": history})


def _version_json(version: VisitVersion, tz: str) -> dict[str, Any]:
    from sync.weeks import zone

    return {
        "rev": version.rev,
        "hlc": version.hlc,
        "device": version.device_id,
        "received_at": version.received_at.astimezone(zone(tz)).isoformat(),
        "deleted": version.deleted,
        # `version`: an earlier version of the record; `conflict_loser`: lost a conflict (SPEC §6).
        "outcome": version.outcome,
        "data": version.data,
    }


openapi.register(
    "get",
    "/api/visits/{id}",
    {
        "summary": "A visit with its earlier versions and conflict losers.",
        "response": {
            "allOf": [
                RECORD,
                {
                    "type": "object",
                    "required": ["history"],
                    "properties": {
                        "history": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "rev",
                                    "hlc",
                                    "device",
                                    "received_at",
                                    "deleted",
                                    "outcome",
                                    "data",
                                ],
                                "properties": {
                                    "rev": {"type": "integer"},
                                    "hlc": {"type": "string"},
                                    "device": {"type": "string"},
                                    "received_at": {"type": "string", "format": "date-time"},
                                    "deleted": {"type": "boolean"},
                                    "outcome": {
                                        "type": "string",
                                        "enum": ["version", "conflict_loser"],
                                    },
                                    "data": {"type": "object"},
                                },
                            },
                        }
                    },
                },
            ]
        },
        "errors": [403, 404],
    },
)
