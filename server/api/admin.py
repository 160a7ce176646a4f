"""POST /api/admin/import (SPEC §7): a JSON bundle, or one uploaded CSV/XLSX file."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from server import openapi
from server.bundle_files import BUNDLE_KEYS, Bundle, InvalidImport, bundle_from_value, read_bundle
from server.caller import api_caller
from server.errors import ApiError
from server.http import parse_json, read_body
from server.importer import import_bundle
from server.responses import JSONResponse
from server.settings import MAX_IMPORT_BYTES

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _bundle_of(request: Request) -> Bundle:
    """The bundle in the request, by Content-Type: JSON, multipart (field `file`), or a raw file
    named by `?filename=villages.csv`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_IMPORT_BYTES)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ApiError(422, "invalid", "Send the file in a form field named 'file'.")
        return read_bundle(upload.filename, await upload.read())
    body = await read_body(request, MAX_IMPORT_BYTES)
    if content_type in ("text/csv", XLSX_TYPE):
        filename = request.query_params.get("filename", "")
        if not filename:
            raise ApiError(422, "invalid", "Name the file: ?filename=villages.csv")
        return read_bundle(filename, body)
    if content_type not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", "Send JSON, CSV, XLSX or a multipart form.")
    return bundle_from_value(parse_json(body))


async def import_data(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    caller.require("admin")
    try:
        bundle = await _bundle_of(request)
        counts = await import_bundle(
            bundle,
            settings=request.app.state.settings,
            scope_county=caller.user.county_id,  # type: ignore[attr-defined]
        )
    except InvalidImport as invalid:
        raise ApiError(
            422,
            "invalid_import",
            f"Nothing was imported: {len(invalid.problems)} problem(s) to fix first.",
            [problem.as_json() for problem in invalid.problems],
        ) from invalid
    return JSONResponse({"counts": counts})


_COUNT = {
    "type": "object",
    "required": ["created", "updated", "unchanged"],
    "properties": {k: {"type": "integer"} for k in ("created", "updated", "unchanged")},
}
_SLOT = {
    "type": "object",
    "required": ["weekday", "half"],
    "properties": {
        "weekday": {"type": "integer", "minimum": 1, "maximum": 7},
        "half": {"type": "string", "enum": ["am", "pm"]},
    },
}
_ITEMS: dict[str, dict[str, Any]] = {
    "counties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}, "name": {"type": "string"}},
    "townships": {
        "code": {"type": "string", "pattern": "^[0-9]{9}$"},
        "county": {"type": "string"},
        "name": {"type": "string"},
    },
    "villages": {
        "code": {"type": "string", "pattern": "^[0-9]{12}$"},
        "township": {"type": "string"},
        "name": {"type": "string"},
        "population": {"type": "integer", "minimum": 0},
        "needs_coverage": {"type": "boolean"},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
    },
    "users": {
        "id": {"type": "string", "maxLength": 64},
        "name": {"type": "string"},
        "phone": {"type": "string", "maxLength": 32},
        "role": {"type": "string", "enum": ["doctor", "supervisor", "admin"]},
        "township": {"type": ["string", "null"]},
        "county": {"type": ["string", "null"]},
        "qualification": {"type": "string"},
        "password": {"type": "string"},
    },
    "assignments": {
        "id": {"type": "string", "maxLength": 64},
        "doctor": {"type": "string"},
        "village": {"type": "string"},
        "kind": {"type": "string", "enum": ["roster", "patrol"]},
        "start": {"type": "string", "format": "date"},
        "end": {"type": ["string", "null"], "format": "date"},
        "slots": {"type": "array", "items": _SLOT},
    },
    "exemptions": {
        "village": {"type": "string"},
        "week": {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
        "reason": {"type": "string"},
    },
}

openapi.register(
    "post",
    "/api/admin/import",
    {
        "summary": "Import counties, townships, villages, users, assignments and exemptions, "
        "all or nothing (also a CSV/XLSX file as multipart field 'file').",
        "request": {
            "type": "object",
            "properties": {
                key: {"type": "array", "items": {"type": "object", "properties": _ITEMS[key]}}
                for key in BUNDLE_KEYS
            },
        },
        "response": {
            "type": "object",
            "required": ["counts"],
            "properties": {
                "counts": {"type": "object", "properties": {key: _COUNT for key in BUNDLE_KEYS}}
            },
        },
        "errors": [400, 403, 413, 415, 422],
    },
)
