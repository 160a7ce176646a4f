"""Fresh databases for tests that start their own `cunyi` processes (workers, faults), and the
test world seeded into them from the test process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tortoise import Tortoise

from server.db import tortoise_config
from tests.conftest import PG_ADMIN_URL, _pg, using_postgres
from tests.world import World, make_world


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


async def seed_world(database_url: str) -> World:
    """make_world() in a database a live server uses (its schema already made)."""
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await make_world()
    finally:
        await Tortoise.close_connections()
