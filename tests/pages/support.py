"""Signing in to the pages the way a browser does, and reading their forms' CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from server.models import CoverageWeek, User
from sync.weeks import previous_week, week_of
from tests.world import PASSWORD

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
