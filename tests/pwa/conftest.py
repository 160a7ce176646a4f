"""Browser tests: Debian's Chromium through Playwright's sync API, against a real `cunyi serve`
on 127.0.0.1 with its own database (SQLite; CUNYI_TEST_DB=postgres: PostgreSQL), seeded with the test county of county.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.conftest import PG_ADMIN_URL, _pg, using_postgres
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, live_server
from tests.pwa.county import BUNDLE
from tests.pwa.phone import Phone, ServerApi


def seed_county(server: LiveServer, bundle: dict[str, Any]) -> None:
    """`cunyi import` the bundle into the server's database (before it starts: nothing to race)."""
    server.import_bundle(bundle)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def admin_sql(sql: str) -> None:
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _pg(sql)).result()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str | None]:
    """None (a SQLite file in the server's data directory), or with CUNYI_TEST_DB=postgres a
    fresh PostgreSQL database for this one test."""
    if not using_postgres():
        yield None
        return
    name = f"cunyi_pwa_{uuid.uuid4().hex[:10]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server(tmp_path: Path, database: str | None) -> Iterator[LiveServer]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    seed_county(LiveServer(data_dir=data_dir, database_url=database), BUNDLE)
    with live_server(data_dir, database_url=database) as s:
        yield s


@pytest.fixture
def api(server: LiveServer) -> ServerApi:
    return ServerApi(server.url)


@pytest.fixture
def phone(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Phone]]:
    """Make phones: `phone()` refuses location, `phone(location={...})` allows it."""
    made: list[Phone] = []

    def make(location: dict[str, float] | None = None) -> Phone:
        p = Phone(browser, server.url, location)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
