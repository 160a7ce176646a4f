"""A pull never skips a change while other pushes commit concurrently (SPEC §6), on PostgreSQL too.

Four doctors push at once, each push in its own transaction on its own pooled connection, while
a supervisor pulls in a loop. Each push holds its transaction open a little after appending its
change rows, as a slow disk does before a commit: without the change log's advisory lock, a later
seq then commits before an earlier one and the puller's cursor passes the earlier one for good.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

import server.push
from server.changes import ChangeNote, append_changes
from server.models import Change, Device, User, Visit
from server.pull import pull
from server.push import apply_push
from server.settings import Settings
from tests.server.pushing import GUDING, days_ago, envelope, local, visit
from tests.world import make_user, make_world

PUSHERS = 4
PUSHES_EACH = 12
RECORDS_PER_PUSH = 3


async def _slow_commit(
    notes: list[ChangeNote], connection: BaseDBAsyncClient | None = None
) -> None:
    await append_changes(notes, connection=connection)
    await asyncio.sleep(random.uniform(0, 0.03))


async def _doctors() -> list[tuple[User, Device]]:
    world = await make_world()
    doctors = [world.doctor, world.patrol_doctor]
    for n in range(PUSHERS - len(doctors)):
        doctors.append(
            await make_user(
                f"doc-extra-{n}", f"黄医生{n}", f"1390000000{n}", "doctor", township=world.township
            )
        )
    return [(d, await Device.create(user=d, device_id=f"phone-{d.id}")) for d in doctors]


async def _pusher(doctor: User, device: Device, settings: Settings, start_day: int) -> set[str]:
    pushed: set[str] = set()
    for n in range(PUSHES_EACH):
        day = days_ago(start_day + n)
        records = [
            visit(GUDING, local(day, 8 + 3 * i), local(day, 10 + 3 * i), device=device.device_id)
            for i in range(RECORDS_PER_PUSH)
        ]
        result = await apply_push(
            doctor,
            device,
            envelope(records, device.device_id),
            settings=settings,
            now=datetime.now(UTC),
        )
        assert [r["status"] for r in result["results"]] == ["applied"] * RECORDS_PER_PUSH
        pushed |= {r["id"] for r in records}
    return pushed


async def _puller(
    supervisor: User, device: Device, settings: Settings, done: asyncio.Event
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = ""
    while True:
        finished = done.is_set()  # read before the page: a page after the end sees everything
        page = await pull(supervisor, device, cursor=cursor, limit=7, settings=settings)
        seen += page["changes"]
        cursor = page["cursor"]
        if finished and not page["more"]:
            return seen
        await asyncio.sleep(0)


@pytest.mark.slow
async def test_a_puller_sees_every_change_exactly_once_while_pushes_commit_concurrently(
    db: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.push, "append_changes", _slow_commit)
    doctors = await _doctors()
    supervisor = await User.get(id="sup-1")
    supervisor_device = await Device.create(user=supervisor, device_id="pc-mo")
    done = asyncio.Event()

    async def push_all() -> list[set[str]]:
        try:
            return await asyncio.gather(
                *[
                    _pusher(doctor, device, settings, 20 + 20 * k)
                    for k, (doctor, device) in enumerate(doctors)
                ]
            )
        finally:
            done.set()

    pushed, seen = await asyncio.gather(
        push_all(), _puller(supervisor, supervisor_device, settings, done)
    )

    all_pushed = set().union(*pushed)
    seen_visits = [c["id"] for c in seen if c["type"] == "visit"]
    assert len(all_pushed) == PUSHERS * PUSHES_EACH * RECORDS_PER_PUSH
    assert sorted(seen_visits) == sorted(all_pushed), "a visit change was skipped or repeated"
    in_scope = await Change.filter(township="450225100").exclude(type="reminder").count()
    assert len(seen) == in_scope
    assert await Visit.all().count() == len(all_pushed)
