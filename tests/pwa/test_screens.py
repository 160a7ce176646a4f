"""The main screens in zh-CN at 360×740, saved to ./screenshots/ to be looked at, with the checks
a doctor's thumb and eyes need: nothing wider than the phone, big tap targets, the words that
matter on screen (SPEC §9: usable one-handed on a 360-px-wide screen)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.live import LiveServer
from tests.pwa.county import GUDING, QIN, WEI, XINGUO
from tests.pwa.phone import Phone, ServerApi

TZ = ZoneInfo("Asia/Shanghai")
MIN_TAP_PX = 44  # the smallest comfortable touch target (Apple HIG; Android asks for 48 dp)


# Measured in one go in the page: a sync finishing meanwhile redraws the screen.
MEASURE = """() => ({
  width: document.documentElement.scrollWidth,
  targets: [...document.querySelectorAll('button, nav.tabs a')]
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({ text: el.textContent.trim(), height: el.getBoundingClientRect().height })),
})"""


def fits_the_phone(p: Phone) -> None:
    """Nothing wider than the phone, and every button and tab big enough for a thumb."""
    seen = p.page.evaluate(MEASURE)
    assert seen["width"] <= 360, f"{p.page.url} is {seen['width']} px wide"
    small = [t for t in seen["targets"] if t["height"] < MIN_TAP_PX]
    assert not small, small


def last_days(n: int) -> list[date]:
    today = datetime.now(TZ).date()
    return [today - timedelta(days=d) for d in range(n, 0, -1)]


def at(d: date, hhmm: str) -> str:
    return f"{d.isoformat()}T{hhmm}:00+08:00"


def a_fortnight_of_work(api: ServerApi) -> None:
    """韦医生's last twelve days: duty at 古鼎村 on weekdays, 新国村 on Saturday mornings."""
    visits = []
    for d in last_days(12):
        if d.isoweekday() <= 5:
            visits.append({"village": GUDING["code"], "kind": "duty", "started_at": at(d, "08:00"),
                           "ended_at": at(d, "16:30" if d.isoweekday() != 3 else "12:00"),
                           "patients_seen": 5 + d.day % 7,
                           "services": ["consultation", "bp_check"]})
        elif d.isoweekday() == 6:
            visits.append({"village": XINGUO["code"], "kind": "patrol", "started_at": at(d, "08:30"),
                           "ended_at": at(d, "12:45"), "patients_seen": 14,
                           "services": ["chronic_followup", "health_education"],
                           "notes": "高血压、糖尿病随访；讲解冬季防跌倒。"})
    api.push_visits(api.login(WEI["phone"]), visits)


def test_the_sign_in_screen(phone: Callable[..., Phone]) -> None:
    p = phone()

    p.screenshot("01-sign-in")

    expect(p.page.locator("form.login")).to_contain_text("手机号")
    expect(p.page.locator("#login-submit")).to_have_text("登录")
    fits_the_phone(p)


def last_week() -> str:
    year, week, _ = (datetime.now(TZ).date() - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def test_today_history_inbox_and_me_of_a_rostered_doctor(
    phone: Callable[..., Phone], api: ServerApi, server: LiveServer
) -> None:
    a_fortnight_of_work(api)
    server.cunyi("remind", "--week", last_week())  # last week's Monday and Thursday reminders
    wei = phone(location={"latitude": 25.0683, "longitude": 109.2565, "accuracy": 12})
    wei.sign_in(WEI["phone"])
    expect(wei.page.locator(f"[data-testid=progress-{GUDING['code']}]")).to_be_visible()

    wei.check_in(GUDING["code"])
    expect(wei.page.locator("[data-testid=open-visit]")).to_contain_text("已定位（±12 米）")
    wei.page.click("[data-action=patients-plus]")
    wei.page.click("[data-action=patients-plus]")
    wei.page.click("[data-service=bp_check]")
    wei.screenshot("02-today-open-visit")
    fits_the_phone(wei)
    expect(wei.page.locator("[data-action=check-out]")).to_have_text("签退")

    wei.check_out()
    wei.page.evaluate("() => window.scrollTo(0, document.querySelector('main h3').offsetTop - 60)")
    wei.screenshot("03-week-progress")
    fits_the_phone(wei)
    expect(wei.page.locator(f"[data-testid=progress-{GUDING['code']}]")).to_contain_text("驻村")

    wei.go("history")
    wei.screenshot("04-history")
    fits_the_phone(wei)
    expect(wei.page.locator("section[data-week]").first).to_contain_text("次")

    wei.go("inbox")
    expect(wei.page.locator("[data-testid=unread]")).to_be_visible()
    wei.page.locator("details.reminder summary").first.click()
    wei.screenshot("06-inbox")
    fits_the_phone(wei)
    expect(wei.page.locator("details.reminder").first).to_contain_text("古鼎村")

    wei.go("me")
    wei.screenshot("07-me")
    fits_the_phone(wei)
    expect(wei.page.locator("main")).to_contain_text("韦医生")


def test_the_schedule_of_a_patrol_doctor(phone: Callable[..., Phone]) -> None:
    qin = phone()
    qin.sign_in(QIN["phone"])
    expect(qin.page.locator(f".choice[data-village='{XINGUO['code']}']")).to_be_visible()

    qin.go("schedule")

    qin.screenshot("05-schedule")
    fits_the_phone(qin)
    expect(qin.page.locator("[data-weekday='2']")).to_contain_text("上午 · 新国村")
    expect(qin.page.locator("[data-weekday='5']")).to_contain_text("下午 · 新国村")
    expect(qin.page.locator("[data-weekday='3']")).to_contain_text("下午 · 古鼎村")
