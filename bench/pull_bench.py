"""Pull: a doctor's first pull of a year of their data (a new phone) and an incremental pull after
one more day of check-ins, against a real `cunyi serve`: bytes on the wire (gzip, as the phone
asks for it) and time. Baselines: the same JSON uncompressed, a raw SELECT of the doctor's visit
rows, and the first pull for the incremental one.
Usage:
    .venv/bin/python -m bench.pull_bench [--db sqlite|postgres] [--days 250]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.sync_world import (  # noqa: E402
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

TOWNSHIP_DOCTORS = 13  # a township's villages (融水镇), each with its rostered doctor


async def pull_everything(
    client: httpx.AsyncClient, cursor: str = ""
) -> tuple[float, int, int, int, str]:
    """Pages of 1,000 until `more` is false: (seconds, wire bytes, JSON bytes, changes, cursor)."""
    wire = raw = changes = 0
    started = time.perf_counter()
    while True:
        response = await client.get("/api/sync/pull", params={"cursor": cursor, "limit": 1000})
        response.raise_for_status()
        wire += response.num_bytes_downloaded
        raw += len(response.content)
        page = response.json()
        changes += len(page["changes"])
        cursor = page["cursor"]
        if not page["more"]:
            return time.perf_counter() - started, wire, raw, changes, cursor


async def push_year(url: str, phone: Phone, days: int) -> int:
    last = datetime.now(TZ).date() - timedelta(days=2)
    records = duty_visits(phone, working_days(last, days), [0])
    async with httpx.AsyncClient(base_url=url, headers=phone.headers, timeout=300) as c:
        for i in range(0, len(records), 500):
            response = await c.post("/api/sync/push", json=envelope(phone, records[i : i + 500]))
            response.raise_for_status()
            assert {r["status"] for r in response.json()["results"]} == {"applied"}
    return len(records)


def raw_select_seconds(database_url: str, doctor: str) -> float:
    sql = "SELECT * FROM visit WHERE doctor_id = {} ORDER BY started_at"
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite://").split("?")[0]
        conn = sqlite3.connect(path)
        started = time.perf_counter()
        conn.execute(sql.format("?"), (doctor,)).fetchall()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed

    async def pg() -> float:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            started = time.perf_counter()
            await conn.fetch(sql.format("$1"), doctor)
            return time.perf_counter() - started
        finally:
            await conn.close()

    return asyncio.run(pg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--days", type=int, default=250, help="working days of duty (a year)")
    parser.add_argument("--quick", action="store_true", help="the default sizes")
    parser.add_argument("--full", action="store_true", help="the same sizes (a doctor's year)")
    args = parser.parse_args(argv)

    with throwaway_database(args.db) as url:
        phones = seed(url, TOWNSHIP_DOCTORS, datetime.now(TZ).date() - timedelta(days=2 * 365))
        phone = phones[0]
        with live(url) as server:
            visits = asyncio.run(push_year(server.url, phone, args.days))
            for other in phones[1:]:  # the rest of the township's doctors, a month each
                asyncio.run(push_year(server.url, other, 20))

            async def pulls() -> tuple[tuple[float, int, int, int, str], ...]:
                async with httpx.AsyncClient(
                    base_url=server.url, headers=phone.headers, timeout=300
                ) as c:
                    first = await pull_everything(c)
                    yesterday = datetime.now(TZ).date() - timedelta(days=1)
                    day = duty_visits(phone, [yesterday], [10_000])
                    pushed = await c.post("/api/sync/push", json=envelope(phone, day))
                    assert [r["status"] for r in pushed.json()["results"]] == ["applied"] * 2
                    incremental = await pull_everything(c, first[4])
                    return first, incremental

            first, incremental = asyncio.run(pulls())
        raw_seconds = raw_select_seconds(url, phone.doctor)

    label = f"pull {args.db}"
    seconds, wire, raw, changes, _ = first
    print(f"{label}: first pull of a year, {visits:,} visits, {changes:,} changes in all")
    print(figure(f"{label}: first pull, bytes on the wire (gzip)", wire / 1024, "KiB",
                 raw / 1024, "the same JSON uncompressed"))  # fmt: skip
    print(figure(f"{label}: first pull, time", seconds * 1000, "ms", raw_seconds * 1000,
                 "raw SELECT of the doctor's visit rows"))  # fmt: skip
    i_seconds, i_wire, i_raw, i_changes, _ = incremental
    print(figure(f"{label}: incremental pull ({i_changes} changes), bytes on the wire",
                 i_wire / 1024, "KiB", wire / 1024, "first pull"))  # fmt: skip
    print(figure(f"{label}: incremental pull, time", i_seconds * 1000, "ms", seconds * 1000,
                 "first pull"))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
