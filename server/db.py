"""The Tortoise configuration and the schema migrations every command runs first (SPEC §8)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate

MODELS_APP = "models"


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = database_url.replace("postgresql://", "postgres://", 1)
    return {
        "connections": {"default": url},
        "apps": {
            MODELS_APP: {
                "models": ["server.models"],
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def upgrade_schema(database_url: str) -> None:
    """Apply every migration not yet applied; a database made by an older version is upgraded."""
    config = tortoise_config(database_url)
    try:
        if config["connections"]["default"].startswith("postgres"):
            await _migrate_under_pg_lock(config)
        else:
            with _sqlite_migration_lock(config["connections"]["default"]):
                await migrate(config=config)
    finally:
        # Also on failure: an open aiosqlite connection's thread would keep the command alive.
        await Tortoise.close_connections()


@contextmanager
def _sqlite_migration_lock(url: str) -> Iterator[None]:
    # Two commands started at once on a new SQLite file would both create the tables ("table
    # already exists"): an exclusive flock on a file beside the database serialises them. SQLite
    # is one host by nature, so a local lock file is enough here.
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _migrate_under_pg_lock(config: dict[str, Any]) -> None:
    # Several workers start at once: a session-level advisory lock lets exactly one migrate,
    # the others wait and then find nothing left to apply.
    import asyncpg

    conn = await asyncpg.connect(config["connections"]["default"])
    try:
        await conn.execute("SELECT pg_advisory_lock(4511)")
        try:
            await migrate(config=config)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(4511)")
    finally:
        await conn.close()


async def open_database(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url))
