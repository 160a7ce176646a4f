"""A supervisor and an admin work the pages in Debian's Chromium against a real `cunyi serve`:
dashboard, overlap resolution, a CSV import with one bad row, an XLSX export, and screenshots at
phone and desktop widths (written to ./screenshots, which git ignores)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, sync_playwright

from sync.weeks import previous_week, week_monday, week_of
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, live_server
from tests.world import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TZ = ZoneInfo("Asia/Shanghai")

BUNDLE = {
    "counties": [{"code": "450225", "name": "融水苗族自治县"}],
    "townships": [
        {"code": "450225100", "county": "450225", "name": "融水镇"},
        {"code": "450225101", "county": "450225", "name": "和睦镇"},
    ],
    "villages": [
        {"code": "450225100201", "township": "450225100", "name": "古鼎村", "population": 1830,
         "needs_coverage": True},
        {"code": "450225100202", "township": "450225100", "name": "新国村", "population": 1210,
         "needs_coverage": True},
        {"code": "450225100203", "township": "450225100", "name": "水东村", "population": 2650,
         "needs_coverage": False},
        {"code": "450225101201", "township": "450225101", "name": "和睦村", "population": 980,
         "needs_coverage": True},
    ],
    "users": [
        {"id": "admin-1", "name": "蓝局长", "phone": "13800000001", "role": "admin",
         "county": "450225", "password": PASSWORD},
        {"id": "sup-1", "name": "莫院长", "phone": "13800000002", "role": "supervisor",
         "township": "450225100", "password": PASSWORD},
        {"id": "doc-1", "name": "韦医生", "phone": "13800000004", "role": "doctor",
         "township": "450225100", "qualification": "village_doctor", "password": PASSWORD},
        {"id": "doc-2", "name": "覃医生", "phone": "13800000005", "role": "doctor",
         "township": "450225100", "qualification": "licensed_physician", "password": PASSWORD},
    ],
    "assignments": [
        {"id": "asg-1", "doctor": "doc-1", "village": "450225100201", "kind": "roster",
         "start": "2026-06-01", "end": None, "slots": []},
        {"id": "asg-2", "doctor": "doc-2", "village": "450225100202", "kind": "patrol",
         "start": "2026-06-01", "end": None,
         "slots": [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}]},
    ],
    "exemptions": [],
}


def _visit(village: str, kind: str, start: datetime, hours: float) -> dict[str, object]:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return {
        "type": "visit", "id": str(uuid.uuid4()), "change_id": str(uuid.uuid4()), "base_rev": 0,
        "hlc": f"{now_ms:015d}-00000-phone-wei", "deleted": False,
        "data": {"village": village, "kind": kind, "started_at": start.isoformat(),
                 "ended_at": (start + timedelta(hours=hours)).isoformat(), "patients_seen": 6,
                 "services": ["bp_check"], "notes": "", "location": None},
    }  # fmt: skip


def push_overlapping_visits(server: LiveServer) -> None:
    """韦医生 logs a full duty day at 古鼎村 and, by mistake, two hours at 新国村 the same morning."""
    tuesday = week_monday(previous_week(week_of(datetime.now(UTC)))) + timedelta(days=1)
    start = datetime(tuesday.year, tuesday.month, tuesday.day, 8, tzinfo=TZ)
    login = httpx.post(
        f"{server.url}/api/auth/login",
        json={"phone": "13800000004", "password": PASSWORD, "device_id": "phone-wei",
              "device_name": "红米 Note 12"},
    )  # fmt: skip
    login.raise_for_status()
    records = [
        _visit("450225100201", "duty", start, 9),
        _visit("450225100202", "duty", start + timedelta(hours=2), 2),
    ]
    push = httpx.post(
        f"{server.url}/api/sync/push",
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        json={"device_id": "phone-wei", "device_time": datetime.now(UTC).isoformat(),
              "records": records},
    )  # fmt: skip
    push.raise_for_status()
    assert all("overlap" in r["flags"] for r in push.json()["results"]), push.text


def sign_in(page: Page, server: LiveServer, phone: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#phone", phone)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in ((360, 780), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.browser
def test_supervisor_and_admin_work_the_pages_in_chromium(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server:
        server.import_bundle(BUNDLE)
        push_overlapping_visits(server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(accept_downloads=True, locale="zh-CN")
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

                # The supervisor lands on the dashboard of their township.
                sign_in(page, server, "13800000002")
                assert page.url.endswith("/township/450225100")
                assert page.locator("h1").inner_text().startswith("融水镇")
                assert page.locator("a.cell").count() >= 24
                shoot(page, "dashboard")

                # Resolve the overlap: the day at 古鼎村 counts, the two hours at 新国村 do not.
                page.click("nav >> text=标记")
                shoot(page, "flags")
                page.set_viewport_size({"width": 360, "height": 780})
                day = page.locator("article.flagged").filter(has_text="08:00 – 17:00")
                day.locator("form.resolve button").click()
                page.wait_for_load_state("networkidle")
                assert "重叠已处理" in page.locator(".notice").inner_text()
                assert page.locator("form.resolve").count() == 0

                # Coverage updated at once: last week 古鼎村 has its one duty day.
                page.goto(f"{server.url}/township/450225100")
                assert "派驻 1/5" in page.locator("tbody tr").first.inner_text()

                # Download this township's coverage as XLSX.
                with page.expect_download() as download:
                    page.click("text=下载 XLSX")
                book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
                rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
                assert rows[0][0] == "week"
                assert {r[4] for r in rows[1:]} >= {"古鼎村", "新国村"}

                # The admin imports a CSV with one bad row and sees that row named.
                page.click("text=退出")
                sign_in(page, server, "13800000001")
                assert "/county/450225" in page.url
                shoot(page, "county")
                page.goto(f"{server.url}/import")
                csv_path = tmp_path / "villages.csv"
                csv_path.write_text(
                    "code,township,name,population,needs_coverage\n"
                    "450225100204,450225100,大坪村,760,true\n"
                    "450225100205,450225199,安太村,900,true\n",
                    encoding="utf-8",
                )
                page.set_input_files("input[type=file]", str(csv_path))
                page.click("form[enctype] button[type=submit]")
                page.wait_for_load_state("networkidle")
                box = page.locator("#import-errors").inner_text()
                assert "未导入任何数据" in box and "450225199" in box and "villages.csv" in box
                # Strict CSP: nothing inline was refused (404 favicon and the 422 page are fine).
                assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
            finally:
                browser.close()
