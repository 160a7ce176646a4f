"""A doctor's phone in the browser tests: one Playwright context (its own IndexedDB, service worker
and network switch) at 360×740 in zh-CN, and the few gestures the tests need; plus the server's
side of the story, read through the API as any client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.pwa.county import PASSWORD

VIEWPORT = {"width": 360, "height": 740}
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "screenshots"

# Reads the app's own IndexedDB (pwa/idb.js: database `cunyi`, stores outbox/records/meta).
READ_DB = """async ([store, key]) => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('cunyi'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  try {
    const os = db.transaction([store], 'readonly').objectStore(store);
    const req = key == null ? os.getAll() : os.get(key);
    return await new Promise((ok, fail) => { req.onsuccess = () => ok(req.result); req.onerror = () => fail(req.error); });
  } finally { db.close(); }
}"""


@dataclass
class Phone:
    browser: Browser
    base_url: str
    location: dict[str, float] | None = None  # None: location permission refused
    context: BrowserContext = field(init=False)
    page: Page = field(init=False)
    dialogs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        options: dict[str, Any] = {
            "viewport": VIEWPORT, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "service_workers": "allow", "device_scale_factor": 2, "is_mobile": True,
            "has_touch": True,
        }
        if self.location is not None:
            options["geolocation"] = self.location
            options["permissions"] = ["geolocation"]
        self.context = self.browser.new_context(**options)
        self.context.set_default_timeout(15000)
        if self.location is None:
            self.context.clear_permissions()  # headless Chromium then refuses the position at once
        self.page = self.open_page()

    # ---- pages and network --------------------------------------------------------------------

    def open_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self._accept)  # confirm() before a delete: the doctor says yes
        page.goto(f"{self.base_url}/app/")
        # The worker claims the page on its first load; offline reloads need it in control.
        page.wait_for_function("() => !!navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        self.page = page
        return page

    def _accept(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def offline(self) -> None:
        self.context.set_offline(True)

    def online(self) -> None:
        self.context.set_offline(False)

    def close(self) -> None:
        self.context.close()

    # ---- gestures -----------------------------------------------------------------------------

    def sign_in(self, phone: str, password: str = PASSWORD) -> None:
        page = self.page
        page.fill("#login-phone", phone)
        page.fill("#login-password", password)
        page.click("#login-submit")
        expect(page.locator("body")).to_have_attribute("data-screen", "today")
        # The first sync brings the doctor's villages and assignments: from then on, no network needed.
        expect(page.locator("[data-testid=last-sync]")).to_be_visible()

    def tap(self, action: str) -> None:
        self.page.click(f"[data-action={action}]")

    def go(self, tab: str) -> None:
        self.page.click(f"nav.tabs [data-tab={tab}]")
        expect(self.page.locator("body")).to_have_attribute("data-screen", tab)

    def choose(self, village: str, kind: str) -> None:
        self.page.click(f".choice[data-village='{village}'][data-kind='{kind}']")

    def check_in(self, village: str, kind: str = "duty") -> str:
        """Check in (duty) or start a patrol at `village`; returns the new visit's id."""
        self.go("today")
        self.choose(village, kind)
        self.tap("start-patrol" if kind == "patrol" else "check-in")
        card = self.page.locator("[data-testid=open-visit]")
        expect(card).to_be_visible()
        return str(card.get_attribute("data-visit-id"))

    def check_out(self, kind: str = "duty") -> None:
        self.tap("end-patrol" if kind == "patrol" else "check-out")
        expect(self.page.locator("[data-testid=open-visit]")).to_have_count(0)

    def open_visit(self, visit_id: str) -> None:
        self.go("history")
        self.page.click(f"a.item[data-visit-id='{visit_id}']")
        expect(self.page.locator(f"form.visit[data-visit-id='{visit_id}']")).to_be_visible()

    def edit_visit(self, visit_id: str, *, patients: int, services: list[str], notes: str,
                   started: str | None = None, ended: str | None = None) -> None:
        """Edit on the visit screen; `started`/`ended` are local 'YYYY-MM-DDTHH:MM'."""
        self.open_visit(visit_id)
        if started:
            self.page.fill("#visit-started", started)
        if ended:
            self.page.fill("#visit-ended", ended)
        self.page.fill("#visit-patients", str(patients))
        self.page.dispatch_event("#visit-patients", "change")
        for tag in services:
            self.page.click(f"[data-service={tag}][aria-pressed=false]")
        self.page.fill("#visit-notes", notes)
        self.tap("save-visit")
        expect(self.page.locator("body")).to_have_attribute("data-screen", "history")

    def delete_visit(self, visit_id: str) -> None:
        self.open_visit(visit_id)
        self.tap("delete-visit")
        expect(self.page.locator("body")).to_have_attribute("data-screen", "history")

    def sync_now(self) -> None:
        self.page.click("#sync-status [data-action=sync-now]")

    # ---- what the phone holds -----------------------------------------------------------------

    def waiting(self) -> int:
        """Records waiting in the outbox, as the status line shows them."""
        return int(self.page.locator("[data-testid=outbox-count]").get_attribute("data-count") or 0)

    def expect_waiting(self, n: int, timeout: float = 20000) -> None:
        expect(self.page.locator("[data-testid=outbox-count]")).to_have_attribute(
            "data-count", str(n), timeout=timeout
        )

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox straight from IndexedDB, not through the app."""
        return list(self.page.evaluate(READ_DB, ["outbox", None]))

    def meta(self, key: str) -> Any:
        return self.page.evaluate(READ_DB, ["meta", key])

    def token(self) -> str | None:
        session = self.meta("session")
        return session.get("token") if session else None

    def history_ids(self) -> list[str]:
        self.go("history")
        return [str(a.get_attribute("data-visit-id")) for a in self.page.locator("a.item").all()]

    def screenshot(self, name: str) -> Path:
        """What the doctor sees: the 360×740 viewport (a full-page shot misplaces the fixed footer)."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@dataclass
class ServerApi:
    """The server as an outside client sees it (SPEC §6, §7)."""

    base_url: str

    def login(self, phone: str, device_id: str = "pytest-desk") -> str:
        response = httpx.post(
            f"{self.base_url}/api/auth/login",
            json={"phone": phone, "password": PASSWORD, "device_id": device_id,
                  "device_name": "测试电脑"},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def logout(self, token: str) -> None:
        response = httpx.post(f"{self.base_url}/api/auth/logout",
                              headers={"Authorization": f"Bearer {token}"}, json={})
        assert response.status_code == 200, response.text

    def pull(self, token: str) -> list[dict[str, Any]]:
        """Every change the token's user may pull, from an empty cursor."""
        changes: list[dict[str, Any]] = []
        cursor = ""
        while True:
            response = httpx.get(f"{self.base_url}/api/sync/pull",
                                 params={"cursor": cursor, "limit": 1000},
                                 headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            page = response.json()
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["more"] or not page["changes"]:
                return changes

    def visits(self, token: str) -> dict[str, dict[str, Any]]:
        """The user's visits as a fresh phone would pull them, latest revision of each."""
        latest: dict[str, dict[str, Any]] = {}
        for c in self.pull(token):
            if c["type"] == "visit" and c["rev"] >= latest.get(c["id"], {"rev": -1})["rev"]:
                latest[c["id"]] = c
        return latest

    def push_visits(self, token: str, visits: list[dict[str, Any]], device_id: str = "pytest-desk") -> None:
        """Push new visits (the `data` of SPEC §6 records) as another of the doctor's phones would."""
        now = datetime.now(UTC)
        ms = int(now.timestamp() * 1000)
        records = [
            {"type": "visit", "id": str(uuid.uuid4()), "change_id": str(uuid.uuid4()), "base_rev": 0,
             "hlc": f"{ms:015d}-{i:05d}-{device_id}", "deleted": False,
             "data": {"patients_seen": 0, "services": [], "notes": "", "location": None, **v}}
            for i, v in enumerate(visits)
        ]
        response = httpx.post(f"{self.base_url}/api/sync/push",
                              headers={"Authorization": f"Bearer {token}"},
                              json={"device_id": device_id, "device_time": now.isoformat(),
                                    "records": records})
        assert response.status_code == 200, response.text
        assert {r["status"] for r in response.json()["results"]} == {"applied"}, response.text

    def visit(self, token: str, visit_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/api/visits/{visit_id}",
                             headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return dict(response.json())
