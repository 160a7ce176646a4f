"""Recompute the stored coverage rows of the village-weeks a change touched.

PLACEHOLDER until the coverage engine's storage lands (issue "Coverage engine…"): the push calls
`recompute` inside its transaction; this version stores nothing yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from server.settings import Settings


async def recompute(
    touched: Iterable[tuple[str, str]],
    *,
    cause: str,
    settings: Settings,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Recompute (village code, ISO week) pairs in the caller's transaction."""
    return None


async def on_doctor_synced(
    doctor_id: str,
    previous_sync_at: datetime | None,
    *,
    settings: Settings,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """A doctor's completed push or pull may make ended weeks final (SPEC §4 provisional)."""
    return None
