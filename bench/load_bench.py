"""Load: simulated phones each pushing a small batch and pulling, over and over, against
`cunyi serve --workers 4` on PostgreSQL. Prints errors (must be 0) and p50/p95/p99 latency; the
baseline of each percentile is the same request's p50 on an idle server (one phone alone), so the
ratio shows what the crowd costs. Target (issue 9): p95 under 500 ms.

A phone waits `--think` seconds (± half, at random) between syncs. Real phones sync on start, on
reconnect and on demand, minutes apart; 2 s is a morning rush many times over.
Usage:
    .venv/bin/python -m bench.load_bench [--quick | --full] [--phones N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
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

TARGET_P95_MS = 500


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"push": [], "pull": []})
    errors: list[str] = field(default_factory=list)
    visits: int = 0


async def first_pull(client: httpx.AsyncClient) -> str:
    cursor = ""
    while True:
        response = await client.get("/api/sync/pull", params={"cursor": cursor, "limit": 1000})
        response.raise_for_status()
        page = response.json()
        cursor = page["cursor"]
        if not page["more"]:
            return str(cursor)


async def phone_life(
    url: str, phone: Phone, until: float, think: float, tally: Tally, days: list[object]
) -> None:
    counter = [hash(phone.device_id) % 1_000_000 * 1000]
    rng = random.Random(phone.device_id)
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(
        base_url=url, headers=phone.headers, timeout=60, limits=limits
    ) as client:
        cursor = await first_pull(client)
        await asyncio.sleep(rng.uniform(0, think))  # phones do not all start in step
        day = 0
        while time.monotonic() < until:
            records = duty_visits(phone, [days[day % len(days)]], counter)  # type: ignore[list-item]
            day += 1
            for kind in ("push", "pull"):
                started = time.perf_counter()
                try:
                    if kind == "push":
                        response = await client.post(
                            "/api/sync/push", json=envelope(phone, records)
                        )
                    else:
                        response = await client.get(
                            "/api/sync/pull", params={"cursor": cursor, "limit": 500}
                        )
                except httpx.HTTPError as exc:
                    tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
                    continue
                tally.latencies[kind].append(time.perf_counter() - started)
                if response.status_code != 200:
                    tally.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
                elif kind == "push":
                    results = response.json()["results"]
                    bad = [r for r in results if r["status"] not in ("applied", "duplicate")]
                    if bad:
                        tally.errors.append(f"push: {bad[0]}")
                    tally.visits += len(results) - len(bad)
                else:
                    cursor = response.json()["cursor"]
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


async def idle_baseline(url: str, phone: Phone, days: list[object]) -> dict[str, float]:
    """p50 of a push and a pull by one phone alone: the requests the crowd makes, uncontended."""
    tally = Tally()
    await phone_life(url, phone, time.monotonic() + 3, 0.05, tally, days)
    return {k: statistics.median(v) * 1000 for k, v in tally.latencies.items() if v}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="50 phones for 15 s (the default)")
    size.add_argument("--full", action="store_true", help="200 phones for 60 s")
    parser.add_argument("--phones", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    phones_n = args.phones or (200 if args.full else 50)
    seconds = args.seconds or (60.0 if args.full else 15.0)

    today = datetime.now(TZ).date()
    days: list[object] = list(working_days(today - timedelta(days=3), 200))
    with throwaway_database("postgres") as url:
        phones = seed(url, phones_n + 1, today - timedelta(days=400))
        with live(url, workers=args.workers) as server:
            baseline = asyncio.run(idle_baseline(server.url, phones[-1], days))
            tally = Tally()

            async def crowd() -> None:
                until = time.monotonic() + seconds
                await asyncio.gather(
                    *(
                        phone_life(server.url, p, until, args.think, tally, days)
                        for p in phones[:-1]
                    )
                )

            started = time.monotonic()
            asyncio.run(crowd())
            elapsed = time.monotonic() - started

    every = tally.latencies["push"] + tally.latencies["pull"]
    label = f"load postgres, {args.workers} workers, {phones_n} phones, {seconds:.0f} s"
    print(
        f"{label}: {len(every):,} requests ({len(every) / elapsed:,.1f}/s), "
        f"{tally.visits:,} visits stored, errors {len(tally.errors)} (must be 0)"
    )
    for kind in ("push", "pull"):
        values = tally.latencies[kind]
        for p in (50, 95, 99):
            print(figure(f"{label}: {kind} p{p}", percentile(values, p), "ms", baseline[kind],
                         f"{kind} p50 alone"))  # fmt: skip
    p95 = percentile(every, 95)
    verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
    print(f"{label}: all requests p95 {p95:,.1f} ms (target < {TARGET_P95_MS} ms: {verdict})")
    for error in tally.errors[:5]:
        print(f"  error: {error}")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
