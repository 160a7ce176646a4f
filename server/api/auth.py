"""POST /api/auth/login and /api/auth/logout (SPEC §6)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server import throttle
from server.caller import api_caller
from server.errors import ApiError
from server.http import read_json_object, require_str
from server.models import User
from server.passwords import verify_password
from server.responses import JSONResponse
from server.tokens import issue_token, revoke_token


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def user_json(user: User, tz: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "phone": user.phone,
        "township": user.township_id,  # type: ignore[attr-defined]
        "county": user.county_id,  # type: ignore[attr-defined]
        "qualification": user.qualification,
        "language": user.language,
        "tz": tz,
    }


async def check_credentials(phone: str, password: str, address: str) -> User:
    """The user for a phone and password, or 401/429; counts failures per phone and address."""
    phone_key, address_key = throttle.phone_key(phone), throttle.address_key(address)
    wait = await throttle.seconds_locked(phone_key, throttle.PHONE_LIMIT)
    user = await User.get_or_none(phone=phone)
    ok = verify_password(user.password_hash if user else None, password)
    if ok and user is not None and user.active and wait == 0:
        await throttle.clear(phone_key)
        return user
    await throttle.record_failure(phone_key)
    await throttle.record_failure(address_key)
    wait = max(wait, await throttle.seconds_locked(address_key, throttle.ADDRESS_LIMIT))
    if wait:
        raise ApiError(
            429,
            "too_many_attempts",
            f"Too many failed sign-ins; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    raise ApiError(401, "invalid_credentials", "Wrong phone number or password.")


async def login(request: Request) -> JSONResponse:
    body = await read_json_object(request, limit=16 * 1024)
    phone = require_str(body, "phone", 32)
    password = require_str(body, "password", 200)
    device_id = require_str(body, "device_id", 100)
    device_name = body.get("device_name") or ""
    if not isinstance(device_name, str) or len(device_name) > 200:
        raise ApiError(422, "invalid", "'device_name' must be a string of at most 200 characters.")
    user = await check_credentials(phone.strip(), password, client_address(request))
    token = await issue_token(user, device_id, device_name)
    return JSONResponse({"token": token, "user": user_json(user, request.app.state.settings.tz)})


async def logout(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    await revoke_token(caller.token)
    return JSONResponse({"ok": True})


async def me(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    return JSONResponse({"user": user_json(caller.user, request.app.state.settings.tz)})
