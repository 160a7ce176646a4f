"""GET /api/openapi.json describes every API route of the app (keeps every engineer honest)."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from server.app import routes

# The document itself is the one route it need not describe.
SELF = "/api/openapi.json"


def api_operations() -> set[tuple[str, str]]:
    """(method, path) of every /api route, with Starlette's `{id:int}` written as `{id}`."""
    found = set()
    for route in routes():
        if isinstance(route, Route) and route.path.startswith("/api/") and route.path != SELF:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method.lower(), path))
    return found


async def test_the_document_has_the_openapi_3_1_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] and document["info"]["version"]
    assert isinstance(document["paths"], dict) and document["paths"]
    for path, operations in document["paths"].items():
        assert path.startswith("/")
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert "responses" in operation and operation["operationId"]


async def test_every_api_route_is_described_with_a_response_schema(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]

    missing = sorted(
        f"{method.upper()} {path}"
        for method, path in api_operations()
        if method not in paths.get(path, {})
    )
    assert missing == [], f"routes without an OpenAPI operation: {missing}"
    for method, path in api_operations():
        ok = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"], f"{method.upper()} {path} has no response schema"


async def test_operations_with_a_body_describe_it(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]

    body = paths["/api/admin/import"]["post"]["requestBody"]["content"]["application/json"]

    assert set(body["schema"]["properties"]) == {
        "counties", "townships", "villages", "users", "assignments", "exemptions"
    }
    assert "401" in paths["/api/admin/import"]["post"]["responses"]
    assert "422" in paths["/api/admin/import"]["post"]["responses"]


async def test_path_parameters_are_declared(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]

    for path, operations in paths.items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
