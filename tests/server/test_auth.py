"""Sign-in, tokens, revocation, throttling and the error body (SPEC §6)."""

from __future__ import annotations

import httpx

from server.models import AuthToken, Device
from server.tokens import revoke_device, token_digest
from tests.world import PASSWORD, login, make_world


async def test_login_returns_a_token_and_stores_only_its_hash(client: httpx.AsyncClient) -> None:
    world = await make_world()

    response = await client.post(
        "/api/auth/login",
        json={"phone": world.doctor.phone, "password": PASSWORD, "device_id": "phone-韦",
              "device_name": "红米 Note 12"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["name"] == "韦医生"
    assert body["user"]["role"] == "doctor"
    token = body["token"]
    assert not await AuthToken.filter(token_hash=token).exists()
    assert await AuthToken.filter(token_hash=token_digest(token)).exists()
    device = await Device.get(device_id="phone-韦")
    assert device.device_name == "红米 Note 12"
    assert device.last_seen_at is not None


async def test_stored_password_is_an_argon2id_hash(client: httpx.AsyncClient) -> None:
    world = await make_world()

    assert world.doctor.password_hash.startswith("$argon2id$")


async def test_wrong_password_is_401_with_the_error_body(client: httpx.AsyncClient) -> None:
    world = await make_world()

    response = await client.post(
        "/api/auth/login",
        json={"phone": world.doctor.phone, "password": "wrong", "device_id": "p"},
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_credentials"
    assert isinstance(error["message"], str) and error["details"] == []


async def test_unknown_token_is_401_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_missing_token_is_401_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    logout = await client.post("/api/auth/logout", headers=headers)
    after = await client.get("/api/me", headers=headers)

    assert logout.status_code == 200
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"


async def test_revoking_a_device_stops_its_token_at_once(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor, device_id="lost-phone")
    assert (await client.get("/api/me", headers=headers)).status_code == 200

    await revoke_device(await Device.get(device_id="lost-phone"))
    after = await client.get("/api/me", headers=headers)

    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"


async def test_failed_logins_per_phone_are_throttled_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wrong = {"phone": world.doctor.phone, "password": "wrong", "device_id": "p"}

    statuses = [(await client.post("/api/auth/login", json=wrong)).status_code for _ in range(5)]
    locked = await client.post("/api/auth/login", json=wrong)
    right_but_locked = await client.post(
        "/api/auth/login", json={**wrong, "password": PASSWORD}
    )

    assert statuses == [401] * 5
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert right_but_locked.status_code == 429


async def test_failures_per_address_throttle_wrong_tries_but_never_a_correct_sign_in(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()

    for i in range(30):
        await client.post(
            "/api/auth/login",
            json={"phone": f"1390000{i:04d}", "password": "x", "device_id": "p"},
        )
    wrong = await client.post(
        "/api/auth/login", json={"phone": "13999999999", "password": "x", "device_id": "p"}
    )
    right = await client.post(
        "/api/auth/login",
        json={"phone": world.supervisor.phone, "password": PASSWORD, "device_id": "office-pc"},
    )

    assert wrong.status_code == 429
    assert "retry-after" in wrong.headers
    assert right.status_code == 200


async def test_successful_sign_ins_from_one_office_are_never_throttled(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()

    statuses = [
        (await login(client, user, device_id=f"pc-{i}")) and 200
        for i, user in enumerate([world.doctor, world.patrol_doctor, world.supervisor] * 5)
    ]

    assert statuses == [200] * 15


async def test_malformed_json_is_400_invalid_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_invalid_utf8_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b'{"phone": "\xff"}')

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_encoding"


async def test_deeply_nested_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b"[" * 5000 + b"]" * 5000)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("too_deep", "invalid_json")


async def test_wrong_types_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"phone": 13800000004, "password": "x", "device_id": "p"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "phone"


async def test_oversized_login_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b"x" * (17 * 1024))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


async def test_body_over_the_global_cap_is_413_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/auth/logout", content=b"x" * (65 * 1024 * 1024)
    )

    assert response.status_code == 413


async def test_every_response_has_a_strict_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")

    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
