"""Failed sign-ins counted per phone and per client address, in the database so every process agrees.

A phone locks after PHONE_LIMIT failures in a window: that protects each account from guessing.
An address locks after ADDRESS_LIMIT failures, but only for wrong passwords: a whole township may
sign in from one office network, and SPEC §6 says successful sign-ins are never throttled. Every
try from a locked address still counts against its phone, so guessing stays bounded per account.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from server.models import LoginFailure

WINDOW = timedelta(minutes=15)
PHONE_LIMIT = 5
ADDRESS_LIMIT = 30


def phone_key(phone: str) -> str:
    return f"phone:{phone}"


def address_key(address: str) -> str:
    return f"addr:{address}"


async def seconds_locked(key: str, limit: int, now: datetime | None = None) -> int:
    """Seconds until `key` may try again; 0 when it is not locked."""
    now = now or datetime.now(UTC)
    row = await LoginFailure.get_or_none(key=key)
    if row is None or row.count < limit:
        return 0
    remaining = (row.window_start + WINDOW - now).total_seconds()
    return max(0, math.ceil(remaining))


async def record_failure(key: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    row, created = await LoginFailure.get_or_create(
        key=key, defaults={"count": 1, "window_start": now}
    )
    if created:
        return
    if row.window_start + WINDOW <= now:
        await LoginFailure.filter(key=key).update(count=1, window_start=now)
    else:
        await LoginFailure.filter(key=key).update(count=F("count") + 1)


async def clear(key: str) -> None:
    await LoginFailure.filter(key=key).delete()
