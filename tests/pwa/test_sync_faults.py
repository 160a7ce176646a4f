"""What the phone does when the server says no: a revoked sign-in, a 500, a conflicting edit from
another phone. Whatever happens, nothing logged is lost (SPEC §6, §9)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Route, expect

from tests.pwa.county import GUDING, WEI
from tests.pwa.phone import Phone, ServerApi


def test_a_sign_in_revoked_while_offline_keeps_the_outbox_until_the_doctor_signs_in_again(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone()
    wei.sign_in(WEI["phone"])
    wei.offline()
    visit = wei.check_in(GUDING["code"])
    wei.check_out()
    api.logout(str(wei.token()))  # a supervisor revokes the phone, or the token expires

    wei.online()

    expect(wei.page.locator("#login-expired")).to_contain_text("1 条记录未上传")
    expect(wei.page.locator("#login-phone")).to_have_value(WEI["phone"])
    assert [e["id"] for e in wei.outbox()] == [visit]
    wei.page.fill("#login-password", "村医-测试-2026")
    wei.page.click("#login-submit")
    wei.expect_waiting(0)
    assert wei.outbox() == []
    assert api.visits(api.login(WEI["phone"]))[visit]["data"]["ended_at"] is not None


def test_a_push_answered_with_500_is_kept_and_retried_until_delivered(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone()
    wei.sign_in(WEI["phone"])
    pushes: list[int] = []

    def fail_once(route: Route) -> None:
        pushes.append(1)
        if len(pushes) == 1:
            route.fulfill(status=500, content_type="application/json",
                          body='{"error": {"code": "internal", "message": "boom", "details": []}}')
        else:
            route.fallback()

    wei.page.route("**/api/sync/push", fail_once)

    visit = wei.check_in(GUDING["code"])

    expect(wei.page.locator("[data-testid=sync-error]")).to_have_text("服务器暂时出错，稍后自动重试")
    assert [e["id"] for e in wei.outbox()] == [visit]
    wei.expect_waiting(0, timeout=30000)  # the backoff's first retry comes within 10 s
    assert len(pushes) >= 2
    assert visit in api.visits(api.login(WEI["phone"]))


def test_an_edit_that_lost_to_another_phone_shows_the_winner_and_tells_the_doctor(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    first = phone()
    first.sign_in(WEI["phone"])
    visit = first.check_in(GUDING["code"])
    first.check_out()
    first.expect_waiting(0)
    second = phone()
    second.sign_in(WEI["phone"])
    expect(second.page.locator(f"a.item[data-visit-id='{visit}']")).to_be_visible()
    first.offline()
    first.edit_visit(visit, patients=3, services=["consultation"], notes="第一台手机的修改")
    second.edit_visit(visit, patients=9, services=["vaccination"], notes="第二台手机的修改")
    second.expect_waiting(0)

    first.online()

    first.expect_waiting(0)
    expect(first.page.locator("[data-testid=notice-conflict]")).to_contain_text("古鼎村")
    expect(first.page.locator(f"a.item[data-visit-id='{visit}']")).to_contain_text("9 人")
    server = api.visit(api.login(WEI["phone"]), visit)
    assert server["data"]["notes"] == "第二台手机的修改"
    assert "第一台手机的修改" in str(server["history"])  # the loser is kept, never lost
