"""Data for the reminder tests: stored visits and coverage rows in 2026-W46/W47, and fixed instants."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from server.models import CoverageWeek, User, Village, Visit

CST = timezone(timedelta(hours=8))
W46, W47 = "2026-W46", "2026-W47"
MON = date(2026, 11, 16)
MONDAY_0805 = datetime(2026, 11, 16, 8, 5, tzinfo=CST)
MONDAY_0700 = datetime(2026, 11, 16, 7, 0, tzinfo=CST)
THURSDAY_1805 = datetime(2026, 11, 19, 18, 5, tzinfo=CST)


def day(offset: int) -> date:
    """A date of 2026-W47: 0 = Monday 16 November."""
    return MON + timedelta(days=offset)


async def add_visit(
    doctor: User, village: Village, kind: str, on: date, start_hour: int, hours: float
) -> Visit:
    started = datetime(on.year, on.month, on.day, start_hour, 0, tzinfo=CST)
    iso = on.isocalendar()
    return await Visit.create(
        id=str(uuid.uuid4()),
        doctor=doctor,
        village=village,
        kind=kind,
        started_at=started,
        ended_at=started + timedelta(hours=hours),
        local_date=on,
        week=f"{iso.year}-W{iso.week:02d}",
        hlc=f"{int(started.timestamp() * 1000):015d}-00000-phone-1",
        device_id="phone-1",
        first_received_at=started + timedelta(hours=hours),
        updated_at=started + timedelta(hours=hours),
    )


async def store_coverage(
    village: Village,
    week: str,
    status: str,
    *,
    mode: str = "roster",
    provisional: bool = False,
    duty: tuple[int, int] = (0, 0),
    patrol: tuple[int, int] = (0, 0),
) -> CoverageWeek:
    return await CoverageWeek.create(
        village=village,
        township=village.township_id,  # type: ignore[attr-defined]
        week=week,
        mode=mode,
        status=status,
        provisional=provisional,
        duty_days=duty[0],
        duty_required=duty[1],
        patrol_days=patrol[0],
        patrol_required=patrol[1],
        computed_at=MONDAY_0805,
    )
