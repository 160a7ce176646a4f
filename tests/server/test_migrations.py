"""Schema upgrades (SPEC §8): a database made by an older version is upgraded, never dropped.

The later migration is a fixture (tests/fixtures/migrations/) put beside a copy of the real
initial migration in a throwaway package, so the test keeps working whenever 0001 is remade.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from server.db import tortoise_config, upgrade_schema
from server.models import County, Township, User, Village
from tests.conftest import PG_ADMIN_URL, _pg, using_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if using_postgres():
        import asyncio

        name = f"cunyi_mig_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite://{tmp_path / 'old.sqlite3'}"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrations package holding the real 0001_initial and the fixture's 0002."""
    name = f"cunyi_migrations_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "pkgs" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    shutil.copy(ROOT / "server" / "migrations" / "0001_initial.py", folder / "0001_initial.py")
    shutil.copy(
        ROOT / "tests" / "fixtures" / "migrations" / "0002_change_type_index.py",
        folder / "0002_change_type_index.py",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    return name


def config_for(database: str, package: str) -> dict[str, Any]:
    config = tortoise_config(database)
    config["apps"]["models"]["migrations"] = package
    return config


async def index_exists(name: str) -> bool:
    conn = connections.get("default")
    if using_postgres():
        rows = await conn.execute_query_dict(
            "SELECT indexname FROM pg_indexes WHERE indexname = $1", [name]
        )
    else:
        rows = await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", [name]
        )
    return bool(rows)


async def applied() -> int:
    conn = connections.get("default")
    rows = await conn.execute_query_dict("SELECT count(*) AS n FROM tortoise_migrations")
    return int(rows[0]["n"])


async def migrated(config: dict[str, Any], target: str | None = None) -> None:
    """Run the migrations, then open the ORM on the result as a command would."""
    await migrate(config=config, target=target)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)


@asynccontextmanager
async def closing() -> AsyncIterator[None]:
    # Closed in the test's own task: Tortoise keeps its connections in a context variable that a
    # fixture's teardown would not see, and an aiosqlite connection left open keeps pytest alive.
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def test_a_database_of_the_initial_schema_is_upgraded_without_losing_rows(
    database: str, package: str
) -> None:
    async with closing():
        config = config_for(database, package)
        await migrated(config, "models.0001_initial")
        county = await County.create(code="450225", name="融水苗族自治县")
        township = await Township.create(code="450225100", county=county, name="融水镇")
        await Village.create(code="450225100201", township=township, name="古鼎村", population=1830)
        await User.create(id="doc-1", name="韦医生", phone="13800000004", password_hash="x",
                          role="doctor", township=township)
        assert not await index_exists("change_type_seq")
        await Tortoise.close_connections()

        await migrated(config)

        assert await index_exists("change_type_seq")
        assert (await Village.get(code="450225100201")).name == "古鼎村"
        assert (await User.get(id="doc-1")).name == "韦医生"
        assert await County.all().count() == 1


async def test_running_the_upgrade_twice_changes_nothing(
    database: str, package: str
) -> None:
    async with closing():
        config = config_for(database, package)
        await migrated(config)
        await County.create(code="450225", name="融水苗族自治县")
        before = await applied()
        await Tortoise.close_connections()

        await migrated(config)

        assert await applied() == before
        assert (await County.get(code="450225")).name == "融水苗族自治县"


async def test_every_command_s_upgrade_of_the_real_schema_is_idempotent(
    database: str
) -> None:
    async with closing():
        await upgrade_schema(database)
        await Tortoise.init(config=tortoise_config(database))
        await County.create(code="450225", name="融水苗族自治县")
        await Tortoise.close_connections()

        await upgrade_schema(database)
        await Tortoise.init(config=tortoise_config(database))

        assert await County.all().count() == 1
