"""Print how fast stored coverage reads and recomputes are, next to a raw SELECT of the same rows.

Builds a throwaway database with `--scale` villages (default 1,000; `--full` = 14,000, about
Guangxi's 1,100 townships) and a year of visits by bulk inserts, then times a full rebuild, a
township-week, county-week and province-week read (server.api.coverage.week_rows, what the API
serves) and the incremental recompute of one village-week. Usage:
    .venv/bin/python -m bench.coverage_bench [--scale 1000 | --full] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise import Tortoise, connections  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from server.api.coverage import week_rows  # noqa: E402
from server.db import open_database, upgrade_schema  # noqa: E402
from server.models import Assignment, County, Township, User, Village  # noqa: E402
from server.recompute import rebuild_all, recompute_notes  # noqa: E402
from server.settings import Settings  # noqa: E402
from sync.weeks import previous_week, week_dates, week_of, weeks_ending_with  # noqa: E402

TZ = "Asia/Shanghai"
FULL_SCALE = 14_000
VILLAGES_PER_TOWNSHIP = 13  # 14,000 villages / 1,100 townships
TOWNSHIPS_PER_COUNTY = 10
PG_ADMIN_URL = os.environ.get("CUNYI_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
VISIT_COLUMNS = (
    "id", "doctor_id", "village_id", "kind", "started_at", "ended_at", "local_date", "week",
    "patients_seen", "services", "notes", "location", "flags", "deleted", "dismissed",
    "overlap_resolved", "rev", "hlc", "device_id", "first_received_at", "updated_at",
)  # fmt: skip


def bench_settings(url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=url, data_dir=data_dir, tz=TZ, secret_key="bench",
        vapid_private_key="", vapid_public_key="", vapid_subject="mailto:bench@cunyi.invalid",
        scheduler=False,
    )  # fmt: skip


async def build(scale: int, weeks: list[str], seed: int = 42) -> int:
    """Counties, townships, villages, one doctor and assignment per village, and a year of visits
    (most rostered villages have most days; patrol villages two patrols a week). Returns visits."""
    rng = random.Random(seed)
    townships = math.ceil(scale / VILLAGES_PER_TOWNSHIP)
    counties = math.ceil(townships / TOWNSHIPS_PER_COUNTY)
    await County.bulk_create([County(code=f"45{c:04d}", name=f"县{c}") for c in range(counties)])
    await Township.bulk_create(
        [
            Township(
                code=f"45{t // TOWNSHIPS_PER_COUNTY:04d}{t % TOWNSHIPS_PER_COUNTY + 100:03d}",
                county_id=f"45{t // TOWNSHIPS_PER_COUNTY:04d}",
                name=f"乡镇{t}",
            )
            for t in range(townships)
        ],  # fmt: skip
        batch_size=1000,
    )
    township_codes = [
        f"45{t // TOWNSHIPS_PER_COUNTY:04d}{t % TOWNSHIPS_PER_COUNTY + 100:03d}"
        for t in range(townships)
    ]
    villages, doctors, assignments = [], [], []
    plans: list[tuple[str, str, str]] = []  # (village, doctor, kind)
    first_day = week_dates(weeks[0])[0]
    for n in range(scale):
        township = township_codes[n // VILLAGES_PER_TOWNSHIP]
        code = f"{township}{n % VILLAGES_PER_TOWNSHIP + 200:03d}"
        roll = rng.random()
        villages.append(
            Village(code=code, township_id=township, name=f"村{n}", needs_coverage=roll < 0.95)
        )
        doctor = f"doc-{n}"
        doctors.append(
            User(id=doctor, name="韦医生", phone=f"1{n:010d}", password_hash="-", role="doctor",
                 township_id=township)
        )  # fmt: skip
        if roll < 0.95:
            kind = "roster" if roll < 0.8 else "patrol"
            slots = (
                []
                if kind == "roster"
                else [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}]
            )
            assignments.append(
                Assignment(id=f"asg-{n}", doctor_id=doctor, village_id=code, kind=kind,
                           start=first_day, end=None, slots=slots)
            )  # fmt: skip
            plans.append((code, doctor, kind))
    await Village.bulk_create(villages, batch_size=1000)
    await User.bulk_create(doctors, batch_size=1000)
    await Assignment.bulk_create(assignments, batch_size=1000)

    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(VISIT_COLUMNS)))
    sql = f'INSERT INTO "visit" ({", ".join(VISIT_COLUMNS)}) VALUES ({marks})'
    now = datetime.now(UTC)
    zone = ZoneInfo(TZ)
    total, batch = 0, []
    for week in weeks:
        days = week_dates(week)
        for code, doctor, kind in plans:
            if kind == "roster":
                worked = [(d, 8, 9) for d in days[:5] if rng.random() < 0.9]
            else:
                worked = (
                    [(days[1], 8, 4), (days[4], 14, 4)]
                    if rng.random() < 0.85
                    else [(days[1], 9, 3)]
                )
            for day, hour, hours in worked:
                start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
                batch.append(_visit_row(code, doctor, kind, start, hours, day, week, now, postgres))
        if len(batch) >= 20_000 or week == weeks[-1]:
            async with in_transaction() as tx:
                await tx.execute_many(sql, batch)
            total += len(batch)
            batch = []
    return total


def _visit_row(
    code: str, doctor: str, kind: str, start: datetime, hours: int, day: date, week: str,
    now: datetime, postgres: bool,
) -> list[Any]:  # fmt: skip
    end = start + timedelta(hours=hours)
    values: list[Any] = [
        str(uuid.uuid4()), doctor, code, "duty" if kind == "roster" else "patrol",
        start.astimezone(UTC), end.astimezone(UTC), day, week, 3, '["bp_check"]', "", None,
        "[]", False, False, False, 1, "001790000000000-00000-bench", "bench", now, now,
    ]  # fmt: skip
    if not postgres:  # the text forms Tortoise itself writes to SQLite
        values = [
            v.isoformat(" ")
            if isinstance(v, datetime)
            else v.isoformat()
            if isinstance(v, date)
            else v
            for v in values
        ]
    return values


async def timed(run: Callable[[], Awaitable[Any]], repeat: int = 1) -> float:
    """The median wall time of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def line(figure: str, ms: float, baseline_ms: float, baseline: str) -> str:
    ratio = ms / baseline_ms if baseline_ms > 0 else float("inf")
    return f"{figure:<34} {ms:>10.1f} ms   {baseline:<34} {baseline_ms:>9.1f} ms   ×{ratio:.1f}"


async def measure(settings: Settings, scale: int, db: str) -> list[str]:
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    p = (lambda n: f"${n}") if postgres else (lambda n: "?")
    current = week_of(datetime.now(UTC), TZ)
    weeks = weeks_ending_with(previous_week(current), 52)
    started = time.perf_counter()
    visits = await build(scale, weeks)
    built_s = time.perf_counter() - started
    out = [
        f"coverage_bench db={db} villages={scale} visits={visits} weeks={len(weeks)} "
        f"(built in {built_s:.1f} s)"
    ]

    rebuilt = 0

    async def rebuild() -> None:
        nonlocal rebuilt
        rebuilt = await rebuild_all(settings)

    rebuild_ms = await timed(rebuild)
    raw_visits_ms = await timed(
        lambda: conn.execute_query(
            'SELECT village_id, week, doctor_id, kind, started_at, ended_at, flags FROM "visit"'
        )
    )
    out.append(
        line(
            f"full rebuild ({rebuilt} village-weeks)",
            rebuild_ms,
            raw_visits_ms,
            "raw SELECT of every visit",
        )
    )

    week = weeks[-1]
    rng = random.Random(7)
    townships = await Township.all().values_list("code", "county_id")
    repeat = 15

    async def township_read() -> None:
        code, _ = rng.choice(townships)
        await week_rows([code], week, settings=settings)

    async def township_raw() -> None:
        code, _ = rng.choice(townships)
        await conn.execute_query(
            f'SELECT * FROM "coverage_week" WHERE township = {p(1)} AND week = {p(2)}', [code, week]
        )

    out.append(line("township-week read", await timed(township_read, repeat),
                    await timed(township_raw, repeat), "raw SELECT of its rows"))  # fmt: skip

    counties: dict[str, list[str]] = {}
    for code, county in townships:
        counties.setdefault(county, []).append(code)

    async def county_read() -> None:
        await week_rows(counties[rng.choice(sorted(counties))], week, settings=settings)

    async def county_raw() -> None:
        codes = counties[rng.choice(sorted(counties))]
        marks = ", ".join(p(i + 2) for i in range(len(codes)))
        await conn.execute_query(
            f'SELECT * FROM "coverage_week" WHERE week = {p(1)} AND township IN ({marks})',
            [week, *codes],
        )

    out.append(line("county-week read", await timed(county_read, repeat),
                    await timed(county_raw, repeat), "raw SELECT of its rows"))  # fmt: skip

    out.append(
        line(
            "province-week read",
            await timed(lambda: week_rows(None, week, settings=settings), 3),
            await timed(
                lambda: conn.execute_query(
                    f'SELECT * FROM "coverage_week" WHERE week = {p(1)}', [week]
                ),
                3,
            ),
            "raw SELECT of its rows",
        )
    )

    villages = await Village.all().values_list("code", flat=True)

    async def recompute_one() -> None:
        async with in_transaction() as tx:
            await recompute_notes(
                [(str(rng.choice(villages)), week)], cause="bench", settings=settings, connection=tx
            )

    async def recompute_raw() -> None:
        await conn.execute_query(
            f'SELECT * FROM "visit" WHERE village_id = {p(1)} AND week = {p(2)}',
            [str(rng.choice(villages)), week],
        )

    out.append(line("incremental recompute, 1 village-week", await timed(recompute_one, repeat),
                    await timed(recompute_raw, repeat), "raw SELECT of its visits"))  # fmt: skip
    return out


async def run(scale: int, db: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="cunyi-bench-") as tmp:
        if db == "postgres":
            import asyncpg

            name = f"cunyi_bench_{os.getpid()}"
            admin = await asyncpg.connect(PG_ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        else:
            url = f"sqlite://{tmp}/bench.sqlite3?journal_mode=WAL&synchronous=NORMAL"
        try:
            await upgrade_schema(url)
            await open_database(url)
            try:
                return await measure(bench_settings(url, Path(tmp)), scale, db)
            finally:
                await Tortoise.close_connections()
        finally:
            if db == "postgres":
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="villages (default 1000)")
    parser.add_argument("--full", action="store_true", help=f"{FULL_SCALE} villages")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    for text in asyncio.run(run(FULL_SCALE if args.full else args.scale, args.db)):
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
