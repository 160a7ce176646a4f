"""Bearer tokens: random, shown once, stored only as a SHA-256 hash, revocable per token or device."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from server.errors import ApiError
from server.models import AuthToken, Device, User


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(user: User, device_id: str, device_name: str) -> str:
    device, _ = await Device.get_or_create(
        user=user, device_id=device_id, defaults={"device_name": device_name}
    )
    device.device_name = device_name or device.device_name
    device.revoked_at = None  # signing in again on a revoked phone makes it trusted again
    device.last_seen_at = datetime.now(UTC)
    await device.save()
    token = secrets.token_urlsafe(32)
    await AuthToken.create(token_hash=token_digest(token), user=user, device=device)
    return token


async def user_for_token(token: str) -> tuple[User, Device, AuthToken]:
    row = await AuthToken.get_or_none(token_hash=token_digest(token)).prefetch_related(
        "user", "device"
    )
    if row is None:
        raise ApiError(401, "unauthenticated", "Sign in first: the token is unknown.")
    if row.revoked_at is not None or row.device.revoked_at is not None or not row.user.active:
        raise ApiError(401, "token_revoked", "This sign-in was revoked; sign in again.")
    return row.user, row.device, row


async def revoke_token(row: AuthToken) -> None:
    row.revoked_at = datetime.now(UTC)
    await row.save(update_fields=["revoked_at"])


async def revoke_device(device: Device) -> None:
    now = datetime.now(UTC)
    device.revoked_at = now
    await device.save(update_fields=["revoked_at"])
    await AuthToken.filter(device=device, revoked_at=None).update(revoked_at=now)
