"""`cunyi demo`: fill an empty database with a realistic demo county (融水苗族自治县), whose eight
weeks of visits go in through the real push path, so flags, versions, change log and coverage are
exactly what phones would have produced. `python -m server.demo --when-empty` is `make run`'s."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from datetime import UTC, datetime

from tortoise import Tortoise

from server.bundle_files import bundle_from_value
from server.db import open_database, upgrade_schema
from server.demo_data import (
    ADMIN_PASSWORD,
    LOGINS,
    SEED,
    STAFF_PASSWORD,
    demo_bundle,
    demo_weeks,
    planned_visits,
    push_batches,
)
from server.importer import import_bundle, summary_lines
from server.models import Device, User, Village
from server.push import apply_push
from server.settings import Settings, load_settings


async def make_demo(settings: Settings, *, now: datetime | None = None) -> int:
    """Build the demo county into an open, empty database; refuses (exit 1) if it has villages."""
    if await Village.exists():
        print(
            "cunyi demo: the database already has villages; the demo only fills an empty one "
            f"({settings.database_url.split('?')[0]}).",
            file=sys.stderr,
        )
        return 1
    from tqdm import tqdm

    now = now or datetime.now(UTC)
    tz = settings.tz
    rng = random.Random(SEED)
    weeks = demo_weeks(now, tz)
    counts = await import_bundle(bundle_from_value(demo_bundle(weeks[0])), settings=settings, now=now)
    visits = planned_visits(weeks, now, tz, rng)
    batches = push_batches(visits, weeks, now, tz, rng)
    interactive = sys.stderr.isatty()
    if not interactive:
        print(f"pushing {len(visits)} visits from the doctors' phones ({len(batches)} syncs)", flush=True)
    users = {u.id: u for u in await User.filter(role="doctor")}
    stored = 0
    with tqdm(total=len(batches), unit="sync", desc="visits", disable=not interactive) as bar:
        for batch in batches:
            user = users[batch.doctor]
            device, _ = await Device.get_or_create(
                user=user,
                device_id=batch.body["device_id"],
                defaults={"device_name": "红米 Note 12（演示）"},
            )
            response = await apply_push(user, device, batch.body, settings=settings, now=batch.now)
            stored += sum(1 for r in response["results"] if r["status"] == "applied")
            bar.update(1)
    rebuilt = await _rebuild(settings)
    print(f"demo county 融水苗族自治县 ready: weeks {weeks[0]} to {weeks[-1]}")
    for line in summary_lines(counts):
        print("  " + line)
    print(f"  visits: {stored} stored through the push path; coverage rows: {rebuilt}")
    await print_logins()
    return 0


async def _rebuild(settings: Settings) -> int:
    from server import recompute

    rebuild_all = getattr(recompute, "rebuild_all", None)
    if rebuild_all is None:
        return 0
    return int(await rebuild_all(settings))


async def print_logins() -> None:
    print("demo logins (demo only — change or delete these accounts before real use):")
    for label, uid in LOGINS:
        user = await User.get_or_none(id=uid)
        if user is None:
            continue
        password = ADMIN_PASSWORD if user.role == "admin" else STAFF_PASSWORD
        print(f"  {label:<28} {user.name}  phone {user.phone}  password {password}")


async def when_empty(settings: Settings) -> int:
    """Run the demo only on a database without villages; print the demo logins either way."""
    await upgrade_schema(settings.database_url)
    await open_database(settings.database_url)
    try:
        if await Village.exists():
            print("database already has data; not adding the demo county")
            await print_logins()
            return 0
        return await make_demo(settings)
    finally:
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.demo")
    parser.add_argument("--when-empty", action="store_true", help="only fill an empty database")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.when_empty:
        return asyncio.run(when_empty(settings))

    async def always() -> int:
        await upgrade_schema(settings.database_url)
        await open_database(settings.database_url)
        try:
            return await make_demo(settings)
        finally:
            await Tortoise.close_connections()

    return asyncio.run(always())


if __name__ == "__main__":
    sys.exit(main())
