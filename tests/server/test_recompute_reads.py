"""The coverage engine's raw SQL reads (server/recompute.py) give what reading through the ORM gives."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import connections

from server.models import Assignment, CoverageWeek, Exemption, User, Village, Visit
from server.rawsql import Dialect
from server.recompute import (
    ASSIGNMENT_FIELDS,
    STORED_FIELDS,
    VISIT_FIELDS,
    Pair,
    VillageWeek,
    _visits,
    assignment_of,
    compute,
    recompute,
    restored,
    stored,
    stored_of,
    synced_weeks,
    visit_of,
)
from server.settings import Settings
from sync import model
from sync.coverage import (
    doctors_assigned,
    is_provisional,
    unsynced_doctors,
    village_week,
    visit_flag_counts,
)
from sync.weeks import week_dates, week_range
from tests.world import World, make_world

CST = timezone(timedelta(hours=8))
WEEKS = week_range("2026-W44", "2026-W48")
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # Thursday of W48: W44–W47 are over
NO_SUCH_VILLAGE = "450225100299"


async def add_visit(
    doctor: User,
    village: Village,
    on: date,
    hours: float | None,
    *,
    kind: str = "duty",
    **fields: Any,
) -> None:
    started = datetime(on.year, on.month, on.day, 8, 0, tzinfo=CST)
    ended = None if hours is None else started + timedelta(hours=hours)
    iso = on.isocalendar()
    await Visit.create(
        id=str(uuid.uuid4()),
        doctor=doctor,
        village=village,
        kind=kind,
        started_at=started,
        ended_at=ended,
        local_date=on,
        week=f"{iso.year}-W{iso.week:02d}",
        hlc=f"{int(started.timestamp() * 1000):015d}-00000-phone-1",
        device_id="phone-1",
        first_received_at=started,
        updated_at=started,
        **fields,
    )


async def a_county_of_every_kind_of_row() -> tuple[World, list[Pair]]:
    """Villages with and without coordinates or need of coverage; assignments starting, ending
    (on a Sunday, mid-week, before the weeks asked, after them); an exemption; doctors synced and
    never synced; visits open, deleted, dismissed, flagged, resolved, of both kinds."""
    world = await make_world()
    guding, xinguo, shuidong = world.villages
    await User.filter(id=world.doctor.id).update(last_sync_at=datetime(2026, 11, 24, tzinfo=UTC))
    await Assignment.create(
        id="asg-ended", doctor=world.patrol_doctor, village=guding, kind="patrol",
        start=date(2026, 10, 1), end=date(2026, 11, 11), slots=[{"weekday": 3, "half": "am"}],
    )  # fmt: skip
    await Assignment.create(
        id="asg-sunday", doctor=world.other_doctor, village=shuidong, kind="roster",
        start=date(2026, 11, 1), end=date(2026, 11, 1), slots=[],
    )  # fmt: skip
    await Assignment.create(
        id="asg-later", doctor=world.other_doctor, village=xinguo, kind="roster",
        start=date(2027, 1, 4), end=None, slots=[],
    )  # fmt: skip
    # One ends on the first day asked for, one starts on the last.
    await Assignment.create(
        id="asg-gone", doctor=world.other_doctor, village=guding, kind="roster",
        start=date(2026, 1, 5), end=date(2026, 10, 26), slots=[],
    )  # fmt: skip
    await Assignment.create(
        id="asg-last-day", doctor=world.other_doctor, village=xinguo, kind="patrol",
        start=date(2026, 11, 29), end=None, slots=[],
    )  # fmt: skip
    await Exemption.create(village=xinguo, week="2026-W46", reason="台风停诊")
    for week in WEEKS:
        monday, *_ = week_dates(week)
        for offset in range(5):
            await add_visit(world.doctor, guding, monday + timedelta(days=offset), 9)
        await add_visit(world.patrol_doctor, guding, monday + timedelta(days=2), 4.5,
                        kind="patrol", flags=["overlap"], overlap_resolved=True)  # fmt: skip
        await add_visit(world.patrol_doctor, xinguo, monday + timedelta(days=1), 5,
                        kind="patrol")  # fmt: skip
    monday = week_dates("2026-W46")[0]
    await add_visit(world.doctor, guding, monday, 3, flags=["overlap", "late"])
    await add_visit(world.doctor, guding, monday, None, flags=["open"])
    await add_visit(world.doctor, guding, monday, 8, deleted=True)
    await add_visit(world.doctor, guding, monday, 8, dismissed=True, flags=["unassigned"])
    await add_visit(world.doctor, shuidong, monday, 8, flags=["unassigned"])
    await add_visit(world.patrol_doctor, xinguo, monday, 6, kind="patrol",
                    flags=["far_from_village", "clock_skew"])  # fmt: skip
    codes = [v.code for v in world.villages] + [world.other_village.code, NO_SUCH_VILLAGE]
    return world, [(code, week) for code in codes for week in WEEKS]


async def through_the_orm(
    pairs: list[Pair], settings: Settings, synced_now: set[str]
) -> dict[Pair, VillageWeek]:
    """The rows of `pairs` from every village, assignment, exemption, visit and user read through
    the ORM and converted by visit_of and assignment_of, ranges and weeks filtered in Python."""
    places = {
        row["code"]: row
        for row in await Village.all().values(
            "code", "township_id", "township__county_id", "name", "needs_coverage", "lat", "lon"
        )
    }
    held: defaultdict[str, list[model.Assignment]] = defaultdict(list)
    for row in await Assignment.all().values(*ASSIGNMENT_FIELDS):
        held[row["village_id"]].append(assignment_of(row))
    exempt = set(await Exemption.all().values_list("village_id", "week"))
    visits: defaultdict[Pair, list[model.Visit]] = defaultdict(list)
    for row in await Visit.all().values(*VISIT_FIELDS):
        visits[(row["village_id"], row["week"])].append(visit_of(row))
    last_sync = dict(await User.all().values_list("id", "last_sync_at"))
    last_sync.update(dict.fromkeys(synced_now, NOW))
    result = {}
    for code, week in pairs:
        if code not in places:
            continue
        place = places[code]
        village = model.Village(
            code, place["township_id"], place["name"], place["needs_coverage"],
            place["lat"], place["lon"],
        )  # fmt: skip
        tz = settings.tz
        cell = village_week(
            village, week, held[code], visits[(code, week)], exempt=(code, week) in exempt,
            tz=tz, policy=settings.policy,
        )  # fmt: skip
        assigned = doctors_assigned(held[code], code, week)
        result[(code, week)] = VillageWeek(
            village=code,
            township=village.township,
            county=place["township__county_id"],
            week=week,
            mode=cell.mode,
            status=cell.status,
            provisional=is_provisional(week, NOW, tz, assigned, last_sync),
            duty_days=cell.duty_days,
            duty_required=cell.duty_required,
            patrol_days=cell.patrol_days,
            patrol_required=cell.patrol_required,
            flags=visit_flag_counts(visits[(code, week)]),
            unsynced=unsynced_doctors(week, assigned, last_sync, tz=tz),
        )
    return result


async def test_computed_rows_are_those_the_orm_reads_give(db: None, settings: Settings) -> None:
    world, pairs = await a_county_of_every_kind_of_row()

    for synced_now in (set(), {world.patrol_doctor.id}):
        computed = await compute(pairs, settings=settings, now=NOW, synced_now=synced_now)
        expected = await through_the_orm(pairs, settings, synced_now)

        assert computed.keys() == expected.keys()
        for key, row in expected.items():
            assert computed[key] == row, key
    assert len(computed) == len(pairs) - len(WEEKS)  # the unknown village is left out
    statuses = {row.status for row in computed.values()}
    assert statuses >= {"covered", "partial", "exempt", "self_served"}, statuses
    assert any(row.flags for row in computed.values())
    assert any(row.unsynced for row in computed.values())
    assert any(not row.provisional for row in computed.values())


async def test_the_visits_read_are_those_visit_of_converts(db: None, settings: Settings) -> None:
    _, pairs = await a_county_of_every_kind_of_row()
    codes, weeks = sorted({c for c, _ in pairs}), sorted({w for _, w in pairs})

    read = await _visits(Dialect(connections.get("default")), codes, weeks)
    expected: defaultdict[Pair, list[model.Visit]] = defaultdict(list)
    for row in await Visit.all().values(*VISIT_FIELDS):
        expected[(row["village_id"], row["week"])].append(visit_of(row))

    assert read.keys() == expected.keys()
    for key, visits in expected.items():
        assert sorted(read[key], key=lambda v: v.id) == sorted(visits, key=lambda v: v.id), key
    every = [v for visits in read.values() for v in visits]
    assert {(v.deleted, v.dismissed) for v in every} == {
        (False, False),
        (True, False),
        (False, True),
    }
    assert any(v.ended_at is None for v in every) and any(v.overlap_resolved for v in every)


async def test_stored_rows_read_back_as_the_orm_reads_them(db: None, settings: Settings) -> None:
    _, pairs = await a_county_of_every_kind_of_row()
    await recompute(pairs, cause="rebuild", settings=settings)

    found = await stored(pairs)
    expected = {
        (row["village_id"], row["week"]): stored_of(row, None)
        for row in await CoverageWeek.all().values(*STORED_FIELDS)
    }

    assert found == expected
    assert len(found) == len(pairs) - len(WEEKS)
    assert any(row.unsynced for row in found.values())
    assert any(row.flags for row in found.values())


SAMPLES: dict[type, dict[str, Any]] = {
    model.Visit: {
        "id": "8f9c2a4e-1b7d-4c3e-9a5f-2d6e8b1c0a7f", "doctor": "doc-1", "village": "450225100201",
        "kind": "duty", "started_at": datetime(2026, 11, 16, 0, tzinfo=UTC),
        "ended_at": datetime(2026, 11, 16, 9, tzinfo=UTC), "deleted": False, "dismissed": True,
        "flags": frozenset({"overlap"}), "overlap_resolved": True,
    },
    VillageWeek: {
        "village": "450225100201", "township": "450225100", "county": "450225",
        "week": "2026-W47", "mode": "roster", "status": "covered", "provisional": False,
        "duty_days": 5, "duty_required": 5, "patrol_days": 0, "patrol_required": 0,
        "flags": {"late": 1}, "unsynced": ("doc-1",),
    },
}  # fmt: skip


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda cls: cls.__name__)
def test_a_restored_instance_is_the_one_its_constructor_makes(cls: type) -> None:
    fields = SAMPLES[cls]

    made = restored(cls, fields)

    # restored() skips __init__: it may only do so while __init__ does nothing but set each field.
    assert not hasattr(cls, "__post_init__")
    assert {f.name for f in dataclasses.fields(cls) if f.init} == set(fields)
    assert made == cls(**fields)
    assert vars(made) == vars(cls(**fields))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, next(iter(fields)), None)  # still frozen


async def store_row(village: str, week: str, *, provisional: bool, unsynced: list[str]) -> None:
    await CoverageWeek.create(
        village_id=village, township="450225100", week=week, mode="roster", status="partial",
        provisional=provisional, unsynced=unsynced, computed_at=NOW,
    )  # fmt: skip


async def test_a_sync_finalises_the_weeks_waiting_for_that_doctor_since_their_last_sync(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    guding, xinguo = world.villages[0].code, world.villages[1].code
    doctor, other = world.doctor.id, world.patrol_doctor.id
    await store_row(guding, "2026-W44", provisional=True, unsynced=[doctor])
    await store_row(guding, "2026-W45", provisional=True, unsynced=[other, doctor])
    await store_row(guding, "2026-W46", provisional=False, unsynced=[doctor])
    await store_row(guding, "2026-W47", provisional=True, unsynced=[other])
    await store_row(xinguo, "2026-W45", provisional=True, unsynced=[doctor])  # not theirs
    in_w45 = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)

    async def waiting(previous_sync_at: datetime | None) -> set[Pair]:
        return await synced_weeks(
            doctor, previous_sync_at, settings=settings, connection=connections.get("default"),
            now=NOW,
        )  # fmt: skip

    assert await waiting(in_w45) == {(guding, "2026-W45"), (guding, "2026-W47")}
    assert await waiting(None) == {(guding, w) for w in ("2026-W44", "2026-W45", "2026-W47")}
    assert await waiting(datetime(2026, 11, 24, tzinfo=UTC)) == set()  # synced since W47 ended
