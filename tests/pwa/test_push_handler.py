"""The service worker's `push` handler (pwa/sw.js, SPEC §11) in Debian's Chromium.

Headless Chromium refuses real Push subscriptions, so the push message is delivered to the
registered worker through the DevTools protocol (ServiceWorker.deliverPushMessage): a trusted
push event, as the browser's push service would fire it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

from tests.live import LiveServer, live_server

pytestmark = pytest.mark.browser

NOTIFICATIONS = """navigator.serviceWorker.ready
  .then((r) => r.getNotifications())
  .then((ns) => ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))"""


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server") as server:
        yield server


@pytest.fixture
def context(browser: Browser, app_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=app_server.url)
    yield context
    context.close()


class Worker:
    """The app's service worker on an opened /app/ page, and a DevTools session to push to it."""

    def __init__(self, context: BrowserContext, url: str) -> None:
        self.url = url
        self.page: Page = context.new_page()
        self.page.goto(f"{url}/app/")
        self.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        self.cdp: CDPSession = context.new_cdp_session(self.page)
        self.registrations: list[dict[str, Any]] = []
        self.cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: self.registrations.extend(event["registrations"]),
        )
        self.cdp.send("ServiceWorker.enable")
        self.registration_id = self._wait(
            lambda: next(
                (r["registrationId"] for r in self.registrations
                 if not r.get("isDeleted") and r["scopeURL"] == f"{url}/app/"),
                None,
            )
        )

    def _wait(self, probe: Any) -> Any:
        # The sync API handles DevTools events only while it waits on the browser.
        for _ in range(100):
            found = probe()
            if found:
                return found
            self.page.wait_for_timeout(50)
        raise AssertionError("the browser did not answer in time")

    def push(self, data: str) -> None:
        self.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": f"{self.url}/", "registrationId": self.registration_id, "data": data},
        )

    def notifications(self) -> list[dict[str, Any]]:
        return list(self._wait(lambda: self.page.evaluate(NOTIFICATIONS)))


def test_a_pushed_reminder_is_shown_with_its_title_body_and_screen(
    context: BrowserContext, app_server: LiveServer
) -> None:
    worker = Worker(context, app_server.url)
    payload = {
        "title": "本周提醒 · 2026-W47",
        "body": "上周（2026-W46）结果：\n古鼎村 派驻：已覆盖，5/5 天",
        "url": "/app/#/today",
        "tag": "weekly-2026-W47",
    }

    worker.push(json.dumps(payload, ensure_ascii=False))

    [shown] = worker.notifications()
    assert shown == {
        "title": "本周提醒 · 2026-W47",
        "body": "上周（2026-W46）结果：\n古鼎村 派驻：已覆盖，5/5 天",
        "tag": "weekly-2026-W47",
        "data": {"url": "/app/#/today"},
    }


def test_the_same_reminder_pushed_twice_replaces_its_notification(
    context: BrowserContext, app_server: LiveServer
) -> None:
    worker = Worker(context, app_server.url)
    payload = json.dumps({"title": "本周进度提醒 · 2026-W47", "body": "还差 2 天",
                          "url": "/app/#/today", "tag": "nudge-2026-W47"}, ensure_ascii=False)

    worker.push(payload)
    worker.notifications()
    worker.push(payload)
    worker.page.wait_for_timeout(200)

    assert len(worker.notifications()) == 1


def test_a_push_without_json_still_shows_a_notification_that_opens_the_inbox(
    context: BrowserContext, app_server: LiveServer
) -> None:
    worker = Worker(context, app_server.url)

    worker.push("not json")

    [shown] = worker.notifications()
    assert shown["title"] == "村医提醒"
    assert shown["body"] == "not json"
    assert shown["data"] == {"url": "./#/inbox"}
