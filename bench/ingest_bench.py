"""Ingest: visits pushed over HTTP to a real `cunyi serve` in batches of 500 from 20 phones at
once, in records per second, next to the same rows inserted raw in the same run (sqlite3
executemany, or asyncpg copy_records_to_table), one transaction a batch of 500 either way.

On SQLite a second baseline writes what the server's storage needs for the same records, raw:
the visit, visit_version and change rows into the server's own tables, indexes and foreign
keys (a copy of the seeded database), so the figure separates the storage design's cost from
the Python around it.

The server figure includes everything a push does: checks, flags, versions, the change log and
the coverage recompute. Target (issue 9): ≥ 10,000 records/s on SQLite in one process, within
7× of raw sqlite3. Usage:
    .venv/bin/python -m bench.ingest_bench [--quick | --full] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.sync_world import (  # noqa: E402
    COUNTY,
    TOWNSHIP,
    TZ,
    Phone,
    duty_visits,
    envelope,
    figure,
    live,
    seed,
    throwaway_database,
    working_days,
)

DEVICES = 20
BATCH = 500
RAW_COLUMNS = (
    "id doctor_id village_id kind started_at ended_at local_date week patients_seen services "
    "notes location flags deleted rev hlc device_id first_received_at updated_at"
).split()
RAW_TABLE = (
    "CREATE TABLE visit_raw (id VARCHAR(36) PRIMARY KEY, doctor_id VARCHAR(64), "
    "village_id VARCHAR(12), kind VARCHAR(10), started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, "
    "local_date DATE, week VARCHAR(8), patients_seen INT, services TEXT, notes TEXT, "
    "location TEXT, flags TEXT, deleted BOOLEAN, rev INT, hlc VARCHAR(100), "
    "device_id VARCHAR(100), first_received_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)"
)


def batches_of(phones: list[Phone], total: int) -> dict[str, list[list[dict[str, Any]]]]:
    """Each phone's pushes: total / DEVICES visits in batches of BATCH, oldest first."""
    per_phone = total // len(phones)
    days = working_days(datetime.now(TZ).date() - timedelta(days=3), (per_phone + 1) // 2)
    counter = [0]
    pushes = {}
    for phone in phones:
        records = duty_visits(phone, days, counter)[:per_phone]
        pushes[phone.device_id] = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]
    return pushes


async def push_all(
    url: str, phones: list[Phone], pushes: dict[str, list[list[dict[str, Any]]]]
) -> tuple[float, int]:
    """Every phone pushes its batches one after another, all phones at once; returns the wall
    time and the number of records the server answered `applied`."""

    async def one_phone(phone: Phone) -> int:
        applied = 0
        async with httpx.AsyncClient(base_url=url, headers=phone.headers, timeout=300) as c:
            for batch in pushes[phone.device_id]:
                response = await c.post("/api/sync/push", json=envelope(phone, batch))
                response.raise_for_status()
                applied += sum(r["status"] == "applied" for r in response.json()["results"])
        return applied

    started = time.perf_counter()
    counts = await asyncio.gather(*(one_phone(p) for p in phones))
    return time.perf_counter() - started, sum(counts)


def raw_rows(pushes: dict[str, list[list[dict[str, Any]]]]) -> list[list[tuple[Any, ...]]]:
    """The pushed visits as visit-table rows, in the same batches."""
    now = datetime.now(UTC)
    out = []
    for device, batches in pushes.items():
        doctor = "doc-" + device.removeprefix("phone-")
        for batch in batches:
            rows = []
            for r in batch:
                d = r["data"]
                started = datetime.fromisoformat(d["started_at"])
                rows.append(
                    (
                        r["id"], doctor, d["village"], d["kind"], started,
                        datetime.fromisoformat(d["ended_at"]), started.date(),
                        started.strftime("%G-W%V"), d["patients_seen"], json.dumps(d["services"]),
                        d["notes"], json.dumps(d["location"]), "[]", False, 1, r["hlc"], device,
                        now, now,
                    )
                )  # fmt: skip
            out.append(rows)
    return out


def storage_sqlite(database: Path, batches: list[list[tuple[Any, ...]]]) -> float:
    """The server's three writes per record (visit, visit_version, change), raw executemany
    into the server's schema with its indexes and foreign keys, WAL and synchronous=FULL."""
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    columns = [*RAW_COLUMNS, "dismissed", "overlap_resolved"]
    visit_sql = (
        f"INSERT INTO visit ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    version_sql = (
        "INSERT INTO visit_version (visit_id, change_id, rev, hlc, device_id, received_at, "
        "deleted, data, outcome) VALUES (?, ?, 1, ?, ?, ?, 0, ?, 'version')"
    )
    change_sql = (
        "INSERT INTO change (type, entity_id, township, county, user_id, created_at) "
        "VALUES ('visit', ?, ?, ?, ?, ?)"
    )
    prepared = []
    for rows in batches:
        visits = [(*(_text(v) for v in row), False, False) for row in rows]
        versions = [
            (row[0], f"c-{row[0]}", row[15], row[16], _text(row[17]), row[9]) for row in rows
        ]
        changes = [(row[0], TOWNSHIP, COUNTY, row[1], _text(row[17])) for row in rows]
        prepared.append((visits, versions, changes))
    started = time.perf_counter()
    for visits, versions, changes in prepared:
        conn.execute("BEGIN")
        conn.executemany(version_sql, versions)
        conn.executemany(visit_sql, visits)
        conn.executemany(change_sql, changes)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, datetime | date) else value


def raw_sqlite(batches: list[list[tuple[Any, ...]]]) -> float:
    folder = Path(tempfile.mkdtemp(prefix="cunyi-raw-"))
    conn = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(RAW_TABLE)
    sql = f"INSERT INTO visit_raw ({', '.join(RAW_COLUMNS)}) VALUES ({', '.join('?' * len(RAW_COLUMNS))})"
    text_batches = [[tuple(_text(v) for v in row) for row in b] for b in batches]
    started = time.perf_counter()
    for rows in text_batches:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def raw_postgres(database_url: str, batches: list[list[tuple[Any, ...]]]) -> float:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(RAW_TABLE)
        started = time.perf_counter()
        for rows in batches:
            async with conn.transaction():
                await conn.copy_records_to_table("visit_raw", records=rows, columns=RAW_COLUMNS)
        return time.perf_counter() - started
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10,000 visits (the default)")
    size.add_argument("--full", action="store_true", help="50,000 visits")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--visits", type=int)
    args = parser.parse_args(argv)
    total = args.visits or (50_000 if args.full else 10_000)

    with throwaway_database(args.db) as url:
        start = datetime.now(TZ).date() - timedelta(days=7 * 365)
        phones = seed(url, DEVICES, start)
        seeded = None
        if args.db == "sqlite":  # the seeded database, before any visit, for storage_sqlite
            seeded = Path(tempfile.mkdtemp(prefix="cunyi-storage-")) / "seeded.sqlite3"
            shutil.copy(url.removeprefix("sqlite://").split("?")[0], seeded)
        pushes = batches_of(phones, total)
        sent = sum(len(b) for batches in pushes.values() for b in batches)
        with live(url) as server:
            elapsed, applied = asyncio.run(push_all(server.url, phones, pushes))
        batches = raw_rows(pushes)
        storage_elapsed = None
        if seeded is not None:
            raw_elapsed, raw_name = raw_sqlite(batches), "raw sqlite3 executemany"
            storage_elapsed = storage_sqlite(seeded, batches)
            shutil.rmtree(seeded.parent, ignore_errors=True)
        else:
            raw_elapsed = asyncio.run(raw_postgres(url, batches))
            raw_name = "asyncpg copy_records_to_table"

    if applied != sent:
        print(f"ERROR: {sent} visits pushed, {applied} applied", file=sys.stderr)
        return 1
    rate, raw_rate = sent / elapsed, sent / raw_elapsed
    print(
        figure(
            f"ingest {args.db}: {sent:,} visits over HTTP, {DEVICES} phones, batches of {BATCH}",
            rate, "records/s", raw_rate, raw_name,
        )
    )  # fmt: skip
    print(f"ingest {args.db}: raw is {raw_rate / rate:.1f}x faster (target: within 7x on sqlite)")
    if storage_elapsed is not None:
        print(
            figure(
                f"ingest {args.db}: the same {sent:,} visits",
                rate, "records/s", sent / storage_elapsed,
                "raw sqlite3 into the server's visit, visit_version and change tables",
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
