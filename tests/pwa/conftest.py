"""Browser tests: Debian's Chromium through Playwright's sync API, against a real `cunyi serve`
on 127.0.0.1 with its own SQLite database, seeded with the test county of county.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.live import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveServer, live_server
from tests.pwa.county import BUNDLE
from tests.pwa.phone import Phone, ServerApi


def seed_county(server: LiveServer, bundle: dict[str, Any]) -> None:
    """`cunyi import` the bundle; until server/importer.py exists, the stand-in of seed.py."""
    if (ROOT / "server" / "importer.py").exists():
        server.import_bundle(bundle)
        return
    path = server.data_dir / "seed.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "tests.pwa.seed", str(path)], env=server.env(),
                   cwd=ROOT, check=True, timeout=120)


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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    seed_county(LiveServer(data_dir=data_dir), BUNDLE)  # before it starts: nothing to race
    with live_server(data_dir) as s:
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
