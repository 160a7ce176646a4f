"""Coverage reads and recomputes take a fixed number of SQL statements, however many visits there are."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import httpx

from server.models import Assignment, Township, User, Village, Visit
from server.recompute import recompute
from server.settings import Settings
from sync.weeks import week_dates
from tests.server.pushing import TZ
from tests.server.test_coverage_api import last_week
from tests.world import World, login, make_world

CALLER = 3  # the token, its user and its device
READ = 2  # the villages in scope and their stored rows
COMPUTE = 4  # villages, assignments (with doctors' syncs), exemptions, visits: not stored yet
ADMIN_SCOPE = 1  # the townships of an admin's county
MAX_RECOMPUTE_STATEMENTS = COMPUTE + 5  # + stored rows, upsert, revisions, change log, BEGIN


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement Tortoise sends while the block runs (its db_client debug log)."""
    seen: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if not text.startswith(("Created connection", "Closed connection")):
                seen.append(text)

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Recorder(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def add_villages(world: World, township: Township, count: int, start: int) -> list[str]:
    """`count` more villages in `township`, each with its own rostered doctor."""
    codes = [f"{township.code}{n:03d}" for n in range(start, start + count)]
    await Village.bulk_create(
        [Village(code=c, township=township, name=f"六合{n}村") for n, c in enumerate(codes)]
    )
    await User.bulk_create(
        [
            User(
                id=f"doc-{c}",
                name="韦医生",
                phone=f"139{c[-8:]}",
                password_hash="-",
                role="doctor",
                township=township,
            )
            for c in codes
        ]  # fmt: skip
    )
    await Assignment.bulk_create(
        [
            Assignment(
                id=f"asg-{c}",
                doctor_id=f"doc-{c}",
                village_id=c,
                kind="roster",
                start=datetime(2026, 6, 1).date(),
                end=None,
                slots=[],
            )
            for c in codes
        ]  # fmt: skip
    )
    return codes


async def add_duty_week(codes: list[str], week: str, per_day: int = 1) -> None:
    """Monday to Friday at each village, `per_day` check-ins a day (a lunch split and more)."""
    now = datetime.now(UTC)
    rows = []
    for code in codes:
        for day in week_dates(week)[:5]:
            for n in range(per_day):
                start = datetime.combine(day, time(8 + n), TZ)
                rows.append(
                    Visit(
                        id=str(uuid.uuid4()),
                        doctor_id=f"doc-{code}",
                        village_id=code,
                        kind="duty",
                        started_at=start,
                        ended_at=start + timedelta(minutes=50),
                        local_date=day,
                        week=week,
                        flags=[],
                        hlc="0",
                        first_received_at=now,
                        updated_at=now,
                    )  # fmt: skip
                )
    await Visit.bulk_create(rows, batch_size=500)


async def test_a_township_week_read_takes_the_same_statements_for_5_or_500_visits(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    few = await add_villages(world, world.township, 1, 300)
    await add_duty_week(few, week)
    await recompute([(c, week) for c in few], cause="test", settings=settings)
    headers = await login(client, world.supervisor)
    await client.get("/api/coverage", params={"week": week}, headers=headers)  # warm the caller

    with statements() as small:
        await client.get("/api/coverage", params={"week": week}, headers=headers)
    many = await add_villages(world, world.township, 20, 400)
    await add_duty_week(few + many, week, per_day=5)
    await recompute([(c, week) for c in few + many], cause="test", settings=settings)
    with statements() as large:
        answer = await client.get("/api/coverage", params={"week": week}, headers=headers)

    assert len(answer.json()["villages"]) == 3 + 21
    assert len(small) == len(large) <= CALLER + READ + COMPUTE, "\n".join(s[:90] for s in large)


async def test_a_county_week_read_takes_a_fixed_number_of_statements(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    headers = await login(client, world.admin)
    await client.get("/api/coverage", params={"week": week}, headers=headers)

    # Nothing stored yet: every row is computed on reading, still in a fixed number of statements.
    with statements() as computed_small:
        await client.get("/api/coverage", params={"week": week}, headers=headers)
    codes = await add_villages(world, world.township, 10, 300)
    codes += await add_villages(world, world.other_township, 10, 300)
    await add_duty_week(codes, week, per_day=3)
    with statements() as computed_large:
        await client.get("/api/coverage", params={"week": week}, headers=headers)
    await recompute(
        [(c, week) for c in await Village.all().values_list("code", flat=True)],  # type: ignore[misc]
        cause="test",
        settings=settings,
    )
    with statements() as stored:
        answer = await client.get("/api/coverage", params={"week": week}, headers=headers)

    assert len(answer.json()["villages"]) == 4 + 20
    assert {r["status"] for r in answer.json()["villages"] if r["village"] in codes} == {
        "uncovered"
    }
    assert len(computed_small) == len(computed_large)
    assert len(stored) <= CALLER + ADMIN_SCOPE + READ
    assert len(computed_large) <= CALLER + ADMIN_SCOPE + READ + COMPUTE


async def test_recomputing_many_village_weeks_takes_as_many_statements_as_a_few(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    codes = await add_villages(world, world.township, 40, 300)
    await add_duty_week(codes, week, per_day=2)

    with statements() as few:
        await recompute([(c, week) for c in codes[:2]], cause="test", settings=settings)
    with statements() as many:
        await recompute([(c, week) for c in codes], cause="test", settings=settings)

    assert len(few) == len(many) <= MAX_RECOMPUTE_STATEMENTS, "\n".join(s[:90] for s in many)
