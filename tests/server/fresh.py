"""Fresh databases for tests that start their own `cunyi` processes (workers, faults), and the
test world seeded into them from the test process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PG_ADMIN_URL, _pg, using_postgres
from tests.live import ROOT


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database on 127.0.0.1 (no schema yet); dropped afterwards."""
    name = f"cunyi_fresh_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}?journal_mode=WAL&synchronous=FULL&foreign_keys=ON&busy_timeout=10000"


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A new database of the kind this run tests (CUNYI_TEST_DB), with no schema yet."""
    if using_postgres():
        with fresh_postgres() as url:
            yield url
    else:
        yield sqlite_url(tmp_path / "fresh.sqlite3")


@dataclass(frozen=True)
class Phones:
    """The sign-in phones of tests/world.py's people, as seeded by seed_world()."""

    doctor: str
    patrol_doctor: str
    supervisor: str
    admin: str


_SEED = """
import asyncio, json, sys
from tortoise import Tortoise
from server.db import tortoise_config
from tests.world import make_world

async def main(url):
    await Tortoise.init(config=tortoise_config(url))
    try:
        w = await make_world()
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"doctor": w.doctor.phone, "patrol_doctor": w.patrol_doctor.phone,
                      "supervisor": w.supervisor.phone, "admin": w.admin.phone}))

asyncio.run(main(sys.argv[1]))
"""


def seed_world(database_url: str) -> Phones:
    """make_world() in the database a live server uses (its schema already made). It runs in a
    child process: Tortoise keeps per-dialect state in its models, so one test process cannot
    switch between SQLite and PostgreSQL."""
    result = subprocess.run(
        [sys.executable, "-c", _SEED, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"seeding the test world failed:\n{result.stderr[-3000:]}")
    return Phones(**json.loads(result.stdout))
