"""What every manage action does after its own write, in the same transaction: an audit entry,
the recompute of the village-weeks it touched, then the change notes phones pull (last)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from server.caller import Caller
from server.changes import ChangeNote, append_changes
from server.models import AuditEntry
from server.recompute import recompute
from server.settings import Settings


async def after_change(
    conn: BaseDBAsyncClient,
    *,
    caller: Caller,
    settings: Settings,
    action: str,
    target: str,
    details: dict[str, Any],
    touched: Iterable[tuple[str, str]] = (),
    notes: Iterable[ChangeNote] = (),
) -> None:
    await AuditEntry.create(
        actor=caller.user.id, action=action, target=target, details=details, using_db=conn
    )
    pairs = sorted(set(touched))
    if pairs:
        # recompute appends its own `coverage` notes; ours follow, still inside the transaction.
        await recompute(pairs, cause=action, settings=settings, connection=conn)
    await append_changes(list(notes), conn)

