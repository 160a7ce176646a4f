"""A push runs a bounded number of SQL statements, whatever the number of records (issue 4)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx

from server.models import Device, User, Visit
from server.push import apply_push
from server.settings import Settings
from tests.server.pushing import XINGUO, days_ago, edit, envelope, local, visit
from tests.world import login, make_world


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.statements += 1


@contextmanager
def counting_statements() -> Iterator[_Counter]:
    """Counts what Tortoise sends to the database: every statement is logged by its client."""
    logger = logging.getLogger("tortoise.db_client")
    counter, level = _Counter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def _batch(n: int, first_day: int) -> list[dict[str, object]]:
    # Every fifth visit is at another village overlapping the one before: partners get flagged.
    start = local(days_ago(first_day), 8)
    records = []
    for i in range(n):
        at = start + timedelta(hours=3 * i)
        if i % 5 == 4:
            records.append(visit(XINGUO, at - timedelta(hours=2), at - timedelta(hours=1)))
        else:
            records.append(visit(started_at=at, ended_at=at + timedelta(hours=2)))
    return records


async def _statements_for(records: list[dict[str, object]], settings: Settings) -> int:
    doctor = await User.get(id="doc-1")
    device = await Device.get(device_id="phone-1")
    with counting_statements() as counter:
        result = await apply_push(
            doctor, device, envelope(records), settings=settings, now=datetime.now(UTC)
        )
    assert all(r["status"] in ("applied", "conflict") for r in result["results"])
    return counter.statements


async def test_a_push_of_500_records_runs_as_many_statements_as_a_push_of_10(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await login(client, world.doctor)
    small, large = _batch(10, 100), _batch(500, 90)
    await _statements_for([], settings)  # the first sync of a doctor does its own one-off work

    new_small = await _statements_for(small, settings)
    new_large = await _statements_for(large, settings)
    edits_small = await _statements_for([edit(r, 1) for r in small], settings)
    edits_large = await _statements_for([edit(r, 1) for r in large], settings)

    assert await Visit.all().count() == 510
    assert any("overlap" in v.flags for v in await Visit.all())
    # The same statements whatever the size; a few more may come from the coverage engine when
    # a batch spans more village-weeks, but never one (or more) per record.
    assert new_large <= new_small + 3
    assert edits_large <= edits_small + 3
    assert max(new_small, new_large, edits_small, edits_large) <= 30
