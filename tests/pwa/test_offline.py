"""A doctor's day with the network off: everything logged survives reloads and closed tabs, and
reaches the server exactly once the phone is back online (SPEC §9, issue 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.pwa.county import GUDING, WEI, XINGUO
from tests.pwa.phone import Phone, ServerApi

TZ = ZoneInfo("Asia/Shanghai")


def yesterday() -> str:
    return (datetime.now(TZ) - timedelta(days=1)).date().isoformat()


def test_a_whole_offline_day_reaches_the_server_exactly_once_back_online(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone()
    wei.sign_in(WEI["phone"])
    wei.offline()

    duty = wei.check_in(GUDING["code"])
    wei.check_out()
    patrol = wei.check_in(XINGUO["code"], kind="patrol")
    wei.check_out(kind="patrol")
    mistake = wei.check_in(GUDING["code"])
    wei.check_out()
    # Yesterday's full day at the clinic, logged late: times, patients, services and notes.
    day = yesterday()
    wei.edit_visit(duty, patients=12, services=["bp_check", "chronic_followup"],
                   notes="高血压随访三人，一人血压偏高，已嘱复诊。",
                   started=f"{day}T08:00", ended=f"{day}T16:30")
    wei.delete_visit(mistake)

    expect(wei.page.locator("[data-testid=sync-error]")).to_have_text("没有网络")
    assert {e["id"] for e in wei.outbox()} >= {duty, patrol}
    assert all(e["deleted"] for e in wei.outbox() if e["id"] == mistake)
    assert wei.waiting() == len(wei.outbox())

    response = wei.page.reload()
    assert response is not None and response.from_service_worker
    assert set(wei.history_ids()) == {duty, patrol}
    expect(wei.page.locator(f"a.item[data-visit-id='{duty}']")).to_contain_text("12 人")
    expect(wei.page.locator(f"a.item[data-visit-id='{duty}']")).to_contain_text("8.5 小时")

    wei.page.close()
    wei.open_page()
    assert set(wei.history_ids()) == {duty, patrol}
    waiting_offline = wei.waiting()
    assert waiting_offline >= 2

    wei.online()

    wei.expect_waiting(0)
    assert wei.outbox() == []
    token = api.login(WEI["phone"])
    visits = api.visits(token)
    assert {i for i, v in visits.items() if not v["deleted"]} == {duty, patrol}
    assert mistake not in visits or visits[mistake]["deleted"]
    kept = api.visit(token, duty)
    assert kept["data"]["village"] == GUDING["code"]
    assert kept["data"]["kind"] == "duty"
    assert datetime.fromisoformat(kept["data"]["started_at"]) == datetime.fromisoformat(f"{day}T08:00:00+08:00")
    assert datetime.fromisoformat(kept["data"]["ended_at"]) == datetime.fromisoformat(f"{day}T16:30:00+08:00")
    assert kept["data"]["patients_seen"] == 12
    assert kept["data"]["services"] == ["bp_check", "chronic_followup"]
    assert kept["data"]["notes"] == "高血压随访三人，一人血压偏高，已嘱复诊。"
    assert kept["data"]["location"] is None
    walked = visits[patrol]["data"]
    assert (walked["village"], walked["kind"]) == (XINGUO["code"], "patrol")
    assert walked["ended_at"] is not None


def test_a_visit_checked_in_offline_is_still_open_after_the_tab_is_killed(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone()
    wei.sign_in(WEI["phone"])
    wei.offline()
    visit = wei.check_in(GUDING["code"])

    wei.page.close()
    wei.open_page()

    card = wei.page.locator("[data-testid=open-visit]")
    expect(card).to_have_attribute("data-visit-id", visit)
    wei.check_out()
    wei.online()
    wei.expect_waiting(0)
    server = api.visits(api.login(WEI["phone"]))[visit]["data"]
    assert server["ended_at"] is not None
