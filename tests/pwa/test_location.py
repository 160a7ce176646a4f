"""GPS at check-in: taken with its accuracy when allowed; refused, the check-in still happens."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.pwa.county import GUDING, WEI
from tests.pwa.phone import Phone, ServerApi


def test_an_allowed_location_is_kept_with_its_accuracy(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone(location={"latitude": 25.068312, "longitude": 109.256541, "accuracy": 18})
    wei.sign_in(WEI["phone"])

    visit = wei.check_in(GUDING["code"])

    expect(wei.page.locator("[data-testid=open-visit]")).to_contain_text("已定位（±18 米）")
    wei.check_out()
    wei.expect_waiting(0)
    location = api.visits(api.login(WEI["phone"]))[visit]["data"]["location"]
    assert location == {"lat": 25.068312, "lon": 109.256541, "accuracy_m": 18}


def test_a_refused_location_still_checks_in_without_one(
    phone: Callable[..., Phone], api: ServerApi
) -> None:
    wei = phone()
    wei.sign_in(WEI["phone"])

    visit = wei.check_in(GUDING["code"])

    expect(wei.page.locator("[data-testid=open-visit]")).to_contain_text("未获取位置")
    wei.check_out()
    wei.expect_waiting(0)
    server = api.visits(api.login(WEI["phone"]))[visit]["data"]
    assert server["location"] is None
    assert server["ended_at"] is not None
