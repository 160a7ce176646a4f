"""GET /api/openapi.json: every API route with its request and response schemas.

Each API module declares its operations in `OPERATIONS` below (kept beside one another so the
whole contract reads in one place); a test checks that every /api route of the app is described.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.responses import JSONResponse

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array"},
            },
        }
    },
}

USER = {
    "type": "object",
    "required": ["id", "name", "role"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": ["doctor", "supervisor", "admin"]},
        "phone": {"type": "string"},
        "township": {"type": ["string", "null"]},
        "county": {"type": ["string", "null"]},
        "qualification": {"type": "string"},
        "language": {"type": "string"},
        "tz": {"type": "string"},
    },
}

# (method, path) -> operation. Query parameters are listed as (name, schema, required).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/auth/login"): {
        "summary": "Sign in a phone; returns a bearer token bound to the device.",
        "auth": False,
        "request": {
            "type": "object",
            "required": ["phone", "password", "device_id"],
            "properties": {
                "phone": {"type": "string", "maxLength": 32},
                "password": {"type": "string", "maxLength": 200},
                "device_id": {"type": "string", "maxLength": 100},
                "device_name": {"type": "string", "maxLength": 200},
            },
        },
        "response": {
            "type": "object",
            "required": ["token", "user"],
            "properties": {"token": {"type": "string"}, "user": USER},
        },
        "errors": [400, 401, 413, 422, 429],
    },
    ("post", "/api/auth/logout"): {
        "summary": "Revoke the token this request carries.",
        "response": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "errors": [401],
    },
    ("get", "/api/me"): {
        "summary": "The signed-in user.",
        "response": {"type": "object", "required": ["user"], "properties": {"user": USER}},
        "errors": [401],
    },
}


def register(method: str, path: str, operation: dict[str, Any]) -> None:
    OPERATIONS[(method, path)] = operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in sorted(OPERATIONS.items(), key=lambda item: (item[0][1], item[0][0])):
        responses: dict[str, Any] = {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": op.get("response", {"type": "object"})}},
            }
        }
        errors = set(op.get("errors", [])) | ({401} if op.get("auth", True) else set())
        for status in sorted(errors):
            responses[str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": ERROR}},
            }
        operation: dict[str, Any] = {
            "summary": op.get("summary", ""),
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "responses": responses,
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_names(path)
        ]
        for name, schema, required in op.get("query", []):
            parameters.append({"name": name, "in": "query", "required": required, "schema": schema})
        if parameters:
            operation["parameters"] = parameters
        if "request" in op:
            content_type = op.get("content_type", "application/json")
            operation["requestBody"] = {
                "required": True,
                "content": {content_type: {"schema": op["request"]}},
            }
        if op.get("auth", True):
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "cunyi", "version": "1", "description": "村医 — village doctor coverage"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
    }


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document())
