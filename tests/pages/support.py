"""Signing in to the pages the way a browser does, and reading their forms' CSRF token."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from server.models import CoverageWeek, User, Visit
from sync.weeks import local_date, previous_week, week_monday, week_of
from tests.world import PASSWORD

TZ = "Asia/Shanghai"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, user: User) -> str:
    """Sign in through /login (the client keeps the cookie); returns the session's CSRF token."""
    page = await client.get("/login")
    token = csrf_of(page.text)
    response = await client.post(
        "/login", data={"csrf": token, "phone": user.phone, "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/login")).text)


def this_week() -> str:
    return week_of(datetime.now(UTC))


def last_week() -> str:
    return previous_week(this_week())


async def store_row(
    village: str,
    township: str,
    week: str,
    status: str,
    *,
    mode: str = "roster",
    duty: tuple[int, int] = (0, 5),
    patrol: tuple[int, int] = (0, 0),
    provisional: bool = False,
    unsynced: list[str] | None = None,
    flags: dict[str, int] | None = None,
) -> CoverageWeek:
    """A stored coverage row, as the coverage engine would have left it."""
    return await CoverageWeek.create(
        village_id=village, township=township, week=week, mode=mode, status=status,
        provisional=provisional, duty_days=duty[0], duty_required=duty[1],
        patrol_days=patrol[0], patrol_required=patrol[1], flags=flags or {},
        unsynced=unsynced or [], computed_at=datetime.now(UTC),
    )


async def store_visit(
    doctor: str,
    village: str,
    kind: str,
    started_at: datetime,
    hours: float,
    *,
    flags: list[str] | None = None,
    visit_id: str | None = None,
) -> Visit:
    """A visit as a push would have stored it (times are aware; the local week in Asia/Shanghai)."""
    ended_at = started_at + timedelta(hours=hours)
    now = datetime.now(UTC)
    return await Visit.create(
        id=visit_id or str(uuid.uuid4()), doctor_id=doctor, village_id=village, kind=kind,
        started_at=started_at, ended_at=ended_at, local_date=local_date(started_at, TZ),
        week=week_of(started_at, TZ), patients_seen=4, services=["bp_check"], notes="",
        flags=flags or [], hlc=f"{int(now.timestamp() * 1000):015d}-00000-phone-1",
        device_id="phone-1", first_received_at=now, updated_at=now,
    )  # fmt: skip


def at(week: str, weekday: int, hour: int, minute: int = 0) -> datetime:
    """Local time in Asia/Shanghai on the given ISO weekday (Mon = 1) of `week`."""
    day = week_monday(week) + timedelta(days=weekday - 1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(TZ))
