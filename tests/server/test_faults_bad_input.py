"""Bad input on the two endpoints that take big bodies, push (SPEC §6) and import (SPEC §7):
bodies over the limit, deeply nested JSON and invalid UTF-8 get clear 4xx errors in the SPEC §6
shape, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from server.models import Visit
from tests.server.pushing import envelope, push_ok, visit
from tests.world import World, login, make_world

MIB = 1024 * 1024


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world()


@pytest.fixture
async def doctor(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    return await login(client, world.doctor)


@pytest.fixture
async def admin(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    return await login(client, world.admin, device_id="pc-1")


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


def nested(depth: int) -> bytes:
    return b'{"records": ' + b"[" * depth + b"]" * depth + b"}"


async def chunks(total: int, size: int = MIB) -> AsyncIterator[bytes]:
    """A streamed body with no Content-Length: the server must count it as it arrives."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_push_over_one_mebibyte_is_413_and_stores_nothing(
    client: httpx.AsyncClient, doctor: dict[str, str]
) -> None:
    records = [visit(notes="测血压" * 600) for _ in range(200)]  # ~1.2 MiB of UTF-8

    response = await client.post("/api/sync/push", json=envelope(records), headers=doctor)

    assert response.status_code == 413
    assert error_code(response) == "too_large"
    assert await Visit.all().count() == 0


async def test_a_streamed_push_over_the_limit_without_a_length_is_413(
    client: httpx.AsyncClient, doctor: dict[str, str]
) -> None:
    response = await client.post(
        "/api/sync/push",
        content=chunks(2 * MIB),
        headers={**doctor, "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert error_code(response) == "too_large"


async def test_a_push_of_more_than_500_records_is_413(
    client: httpx.AsyncClient, doctor: dict[str, str]
) -> None:
    records = [visit(notes="") for _ in range(501)]

    response = await client.post("/api/sync/push", json=envelope(records), headers=doctor)

    assert response.status_code == 413
    assert error_code(response) == "too_large"
    assert await Visit.all().count() == 0


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/admin/import"])
async def test_deeply_nested_json_is_400(
    client: httpx.AsyncClient, doctor: dict[str, str], admin: dict[str, str], path: str
) -> None:
    headers = doctor if path == "/api/sync/push" else admin

    response = await client.post(
        path, content=nested(100_000), headers={**headers, "content-type": "application/json"}
    )

    assert response.status_code == 400
    assert error_code(response) in ("too_deep", "invalid_json")


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/admin/import"])
async def test_json_nested_just_past_the_limit_is_400_too_deep(
    client: httpx.AsyncClient, doctor: dict[str, str], admin: dict[str, str], path: str
) -> None:
    headers = doctor if path == "/api/sync/push" else admin

    response = await client.post(
        path, content=nested(40), headers={**headers, "content-type": "application/json"}
    )

    assert response.status_code == 400
    assert error_code(response) == "too_deep"


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/admin/import"])
async def test_invalid_utf8_is_400(
    client: httpx.AsyncClient, doctor: dict[str, str], admin: dict[str, str], path: str
) -> None:
    headers = doctor if path == "/api/sync/push" else admin
    body = '{"device_id": "phone-1", "notes": "古鼎村'.encode() + b"\xff\xfe" + b'"}'

    response = await client.post(
        path, content=body, headers={**headers, "content-type": "application/json"}
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_encoding"


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", '"\\ud800"'], ids=["nan", "inf", "-inf", "surrogate"]
)
async def test_json_that_is_not_json_proper_is_400_and_stores_nothing(
    client: httpx.AsyncClient, doctor: dict[str, str], value: str
) -> None:
    """NaN, Infinity and a lone surrogate are not JSON (RFC 8259): refused whole (a surrogate
    could not be stored as UTF-8 text anyway)."""
    record = visit()
    record["data"]["patients_seen"] = "@@"
    body = json.dumps(envelope([record])).replace('"@@"', value, 1)

    response = await client.post(
        "/api/sync/push",
        content=body.encode(),
        headers={**doctor, "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_json"
    assert await Visit.all().count() == 0


async def test_an_import_over_64_mebibytes_is_413_before_it_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/api/admin/import",
        content=chunks(65 * MIB, size=4 * MIB),
        headers={**admin, "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert error_code(response) == "too_large"


async def test_an_import_that_is_not_a_json_object_is_a_clear_4xx(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/api/admin/import", json=[1, 2, 3], headers=admin)

    assert 400 <= response.status_code < 500
    assert error_code(response)


async def test_a_nul_character_in_a_pushed_note_is_dropped_and_the_visit_kept(
    client: httpx.AsyncClient, doctor: dict[str, str]
) -> None:
    record = visit(notes="上午测血压\u0000下午随访")

    results = await push_ok(client, doctor, [record])

    assert results[0]["status"] == "applied"
    stored = await Visit.get(id=record["id"])
    assert stored.notes == "上午测血压下午随访"
