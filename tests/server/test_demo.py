"""`cunyi demo`: every kind of record, visits through the push path, every SPEC §4 status."""

from __future__ import annotations

import pytest

from server.demo import make_demo
from server.models import (
    Assignment,
    Change,
    County,
    CoverageRevision,
    CoverageWeek,
    Device,
    Exemption,
    Township,
    User,
    Village,
    Visit,
    VisitVersion,
)
from server.settings import Settings

STATUSES = {"exempt", "self_served", "unassigned", "covered", "partial", "uncovered"}


async def test_the_demo_loads_every_kind_of_record(db: None, settings: Settings) -> None:
    code = await make_demo(settings)

    assert code == 0
    assert (await County.get(code="450225")).name == "融水苗族自治县"
    assert await Township.all().count() == 3
    assert await Village.all().count() == 30
    assert await Village.filter(needs_coverage=False).count() == 6
    roles = set(await User.all().values_list("role", flat=True))
    assert roles == {"admin", "supervisor", "doctor"}
    kinds = set(await Assignment.all().values_list("kind", flat=True))
    assert kinds == {"roster", "patrol"}
    assert await Assignment.filter(kind="patrol", slots=[]).exists()
    assert await Exemption.all().count() == 1
    assert await Visit.all().count() > 200
    assert await VisitVersion.all().count() >= await Visit.all().count()
    assert await Device.filter(last_push_at__isnull=False).count() == 10
    assert await Change.filter(type="visit").exists()


async def test_demo_visits_carry_every_realistic_flag(db: None, settings: Settings) -> None:
    await make_demo(settings)

    flags = {f for row in await Visit.all().values_list("flags", flat=True) for f in row}

    assert {"unassigned", "overlap", "late", "open", "clock_skew", "far_from_village"} <= flags


async def test_every_coverage_status_appears_and_a_late_sync_made_a_revision(
    db: None, settings: Settings
) -> None:
    await make_demo(settings)

    statuses = set(await CoverageWeek.all().values_list("status", flat=True))

    assert statuses >= STATUSES
    assert await CoverageRevision.all().exists()


async def test_last_week_stays_provisional_where_a_doctor_has_not_synced(
    db: None, settings: Settings
) -> None:
    await make_demo(settings)
    jia = await User.get(id="demo-jia")
    others = await User.filter(role="doctor").exclude(id="demo-jia").values_list("last_sync_at", flat=True)
    weeks = sorted(set(await CoverageWeek.all().values_list("week", flat=True)))
    last_week = weeks[-2]

    waiting = await CoverageWeek.get(village_id="450225101201", week=last_week)

    assert waiting.provisional is True
    assert jia.last_sync_at is not None and all(t > jia.last_sync_at for t in others)
    synced = await CoverageWeek.get(village_id="450225100201", week=last_week)
    assert synced.provisional is False


async def test_the_demo_refuses_a_database_with_villages(
    db: None, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_demo(settings)

    code = await make_demo(settings)

    assert code == 1
    assert "already has villages" in capsys.readouterr().err
    assert await Village.all().count() == 30
