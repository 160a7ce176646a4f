"""Real databases for the whole suite: a SQLite file, or (CUNYI_TEST_DB=postgres) a fresh
PostgreSQL database on 127.0.0.1 made for this run and dropped after it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise, connections

from server.app import create_app
from server.db import upgrade_schema
from server.settings import Settings, load_settings

PG_ADMIN_URL = os.environ.get("CUNYI_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
TABLES = (
    "delivery reminder push_subscription audit_entry coverage_revision coverage_week change "
    "visit_version visit exemption assignment auth_token device login_failure lease app_user "
    "village township county"
).split()


def using_postgres() -> bool:
    return os.environ.get("CUNYI_TEST_DB", "sqlite") == "postgres"


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if using_postgres():
        name = f"cunyi_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        asyncio.run(upgrade_schema(url))
        yield url
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "cunyi.sqlite3"
        url = f"sqlite://{path}?journal_mode=WAL&synchronous=FULL&foreign_keys=ON&busy_timeout=10000"
        asyncio.run(upgrade_schema(url))
        yield url


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def settings(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CUNYI_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CUNYI_DATABASE_URL", database_url)
    monkeypatch.setenv("CUNYI_SCHEDULER", "0")
    return load_settings()


async def empty_all_tables() -> None:
    conn = connections.get("default")
    if using_postgres():
        await conn.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES:
            await conn.execute_script(f'DELETE FROM "{table}"')


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    """The real app with its lifespan running; every table empty at the start of each test."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await empty_all_tables()
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The database alone (no app), for tests of commands and importers."""
    from server.db import tortoise_config

    await Tortoise.init(config=tortoise_config(settings.database_url))
    await empty_all_tables()
    yield
    await Tortoise.close_connections()
