"""Web Push subscriptions (SPEC §11): the key the phone subscribes with, subscribe, unsubscribe.

pwa/push.js calls these after the doctor turns reminders on, and again on every start (browsers
drop subscriptions silently).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from server import openapi
from server.caller import api_caller
from server.errors import ApiError
from server.http import read_json_object, require_str
from server.models import PushSubscription
from server.responses import JSONResponse

MAX_ENDPOINT = 600

SUBSCRIPTION = {
    "type": "object",
    "required": ["endpoint", "keys"],
    "properties": {
        "endpoint": {"type": "string", "maxLength": MAX_ENDPOINT},
        "expirationTime": {"type": ["number", "null"]},
        "keys": {
            "type": "object",
            "required": ["p256dh", "auth"],
            "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
        },
    },
}
OK = {"type": "object", "properties": {"ok": {"type": "boolean"}}}

openapi.register("get", "/api/push/key", {
    "summary": "The server's VAPID public key (base64url), the phone's applicationServerKey.",
    "auth": False,
    "response": {"type": "object", "required": ["public_key"],
                 "properties": {"public_key": {"type": "string"}}},
})
openapi.register("post", "/api/push/subscribe", {
    "summary": "Keep the signed-in user's push subscription (upsert by endpoint).",
    "request": {"type": "object", "required": ["subscription"],
                "properties": {"subscription": SUBSCRIPTION}},
    "response": OK,
    "errors": [400, 413, 422],
})
openapi.register("post", "/api/push/unsubscribe", {
    "summary": "Forget one of the signed-in user's push subscriptions.",
    "request": {"type": "object", "required": ["endpoint"],
                "properties": {"endpoint": {"type": "string", "maxLength": MAX_ENDPOINT}}},
    "response": OK,
    "errors": [400, 413, 422],
})


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid", message, [{"field": field, "code": "invalid", "message": message}])


def key_bytes(value: object, field: str, length: int) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise invalid(field, f"'{field}' must be a base64url string.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise invalid(field, f"'{field}' is not base64url.") from exc
    if len(raw) != length:
        raise invalid(field, f"'{field}' must encode {length} bytes.")
    return value


def read_subscription(body: dict[str, Any]) -> tuple[str, str, str]:
    sub = body.get("subscription")
    if not isinstance(sub, dict):
        raise invalid("subscription", "'subscription' must be PushSubscription.toJSON().")
    endpoint = require_str(sub, "endpoint", MAX_ENDPOINT)
    parts = urlsplit(endpoint)
    # Push services are always https; refusing anything else keeps the server from being told
    # to POST to addresses inside its own network.
    if parts.scheme != "https" or not parts.hostname:
        raise invalid("subscription.endpoint", "The endpoint must be an https URL.")
    keys = sub.get("keys")
    if not isinstance(keys, dict):
        raise invalid("subscription.keys", "'keys' with 'p256dh' and 'auth' is required.")
    p256dh = key_bytes(keys.get("p256dh"), "subscription.keys.p256dh", 65)  # an uncompressed P-256 point
    auth = key_bytes(keys.get("auth"), "subscription.keys.auth", 16)
    return endpoint, p256dh, auth


async def public_key(request: Request) -> JSONResponse:
    return JSONResponse({"public_key": request.app.state.settings.vapid_public_key})


async def subscribe(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    endpoint, p256dh, auth = read_subscription(await read_json_object(request, limit=16 * 1024))
    # Upsert by endpoint: a phone signed in as someone else now gets that person's reminders.
    await PushSubscription.bulk_create(
        [PushSubscription(user_id=caller.user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)],
        on_conflict=["endpoint"],
        update_fields=["user_id", "p256dh", "auth"],
    )
    return JSONResponse({"ok": True})


async def unsubscribe(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    body = await read_json_object(request, limit=16 * 1024)
    endpoint = require_str(body, "endpoint", MAX_ENDPOINT)
    await PushSubscription.filter(user_id=caller.user.id, endpoint=endpoint).delete()
    return JSONResponse({"ok": True})
