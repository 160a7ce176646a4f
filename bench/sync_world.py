"""Shared by the sync benches (ingest, load, pull): a throwaway database, a township of doctors each
with a rostered village and a signed-in phone, a real `cunyi serve`, and realistic pushed visits.

Not a bench itself (bench/run.py skips it).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import Tortoise

from server.db import open_database, upgrade_schema
from server.models import Assignment, AuthToken, County, Device, Township, User, Village
from server.tokens import token_digest
from sync.hlc import format_hlc
from tests.live import LiveServer

TZ = ZoneInfo("Asia/Shanghai")
PG_ADMIN_URL = os.environ.get("CUNYI_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
COUNTY = "450225"  # 融水苗族自治县
TOWNSHIP = "450225100"  # 融水镇


@dataclass(frozen=True)
class Phone:
    doctor: str
    device_id: str
    village: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_database(kind: str) -> Iterator[str]:
    """A new database URL of `kind` (sqlite | postgres) with the schema made; removed after."""
    if kind == "postgres":
        name = f"cunyi_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            asyncio.run(upgrade_schema(url))
            yield url
        finally:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        folder = Path(tempfile.mkdtemp(prefix="cunyi-bench-"))
        # The server's own SQLite settings (server/settings.py): WAL, synchronous=FULL.
        url = (
            f"sqlite://{folder / 'cunyi.sqlite3'}"
            "?journal_mode=WAL&synchronous=FULL&foreign_keys=ON&busy_timeout=10000"
        )
        try:
            asyncio.run(upgrade_schema(url))
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)


async def _seed(database_url: str, doctors: int, start: date) -> list[Phone]:
    await open_database(database_url)
    try:
        county = await County.create(code=COUNTY, name="融水苗族自治县")
        township = await Township.create(code=TOWNSHIP, county=county, name="融水镇")
        await Village.bulk_create(
            [
                Village(
                    code=f"{TOWNSHIP}{i + 200:03d}",
                    township=township,
                    name=f"古鼎{i}村",
                    population=1500,
                    needs_coverage=True,
                    lat=25.06 + i / 1000,
                    lon=109.25,
                )
                for i in range(doctors)
            ]
        )
        phones = []
        for i in range(doctors):
            village = f"{TOWNSHIP}{i + 200:03d}"
            user = await User.create(
                id=f"doc-{i}",
                name=f"韦医生{i}",
                phone=f"139{i:08d}",
                password_hash="-",  # the benches sign in by token, not by password
                role="doctor",
                township=township,
                qualification="village_doctor",
            )
            await Assignment.create(
                id=f"asg-{i}",
                doctor=user,
                village_id=village,
                kind="roster",
                start=start,
                end=None,
                slots=[],
            )
            device_id = f"phone-{i}"
            device = await Device.create(user=user, device_id=device_id, device_name="红米 Note 12")
            token = secrets.token_urlsafe(32)
            await AuthToken.create(token_hash=token_digest(token), user=user, device=device)
            phones.append(Phone(user.id, device_id, village, token))
        return phones
    finally:
        await Tortoise.close_connections()


def seed(database_url: str, doctors: int, start: date) -> list[Phone]:
    """`doctors` doctors of 融水镇, each rostered at their own village since `start`, each with a
    phone signed in (a token made directly: argon2 sign-ins are not what these benches time)."""
    return asyncio.run(_seed(database_url, doctors, start))


def duty_visits(phone: Phone, days: list[date], counter: list[int]) -> list[dict[str, Any]]:
    """Two check-ins a day (a lunch split, SPEC §4) at the phone's village, as the phone pushes
    them: 08:00–11:30 and 13:00–17:00 local."""
    records = []
    for day in days:
        for start, end in ((time(8), time(11, 30)), (time(13), time(17))):
            counter[0] += 1
            started = datetime.combine(day, start, tzinfo=TZ)
            records.append(
                {
                    "type": "visit",
                    "id": str(uuid.uuid4()),
                    "change_id": str(uuid.uuid4()),
                    "base_rev": 0,
                    "hlc": format_hlc(1_790_000_000_000 + counter[0], 0, phone.device_id),
                    "deleted": False,
                    "data": {
                        "village": phone.village,
                        "kind": "duty",
                        "started_at": started.isoformat(),
                        "ended_at": datetime.combine(day, end, tzinfo=TZ).isoformat(),
                        "patients_seen": 7,
                        "services": ["consultation", "bp_check", "chronic_followup"],
                        "notes": "上午门诊，下午高血压随访",
                        "location": {"lat": 25.0681, "lon": 109.2563, "accuracy_m": 20},
                    },
                }
            )
    return records


def working_days(last: date, count: int) -> list[date]:
    """`count` weekdays ending with `last`, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def envelope(phone: Phone, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "device_id": phone.device_id,
        "device_time": datetime.now(TZ).isoformat(),
        "records": records,
    }


@contextmanager
def live(database_url: str, workers: int = 1) -> Iterator[LiveServer]:
    folder = Path(tempfile.mkdtemp(prefix="cunyi-bench-server-"))
    server = LiveServer(data_dir=folder, database_url=database_url, workers=workers)
    server.start(timeout=120)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def figure(name: str, value: float, unit: str, baseline: float, baseline_name: str) -> str:
    """One line: the figure, its baseline and the ratio figure / baseline."""
    ratio = value / baseline if baseline else float("nan")
    return (
        f"{name}: {value:,.1f} {unit}  |  baseline {baseline_name}: {baseline:,.1f} {unit}"
        f"  |  ratio {ratio:.2f}"
    )
