"""Every page, for every role: the right people see it in Chinese, the wrong ones are refused."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.pages.support import last_week, sign_in, store_row
from tests.world import make_world

TOWNSHIP_PAGES = [
    "/township/450225100",
    "/township/450225100/compliance",
    "/township/450225100/flags",
    "/township/450225100/assignments",
    "/township/450225100/exemptions",
    "/township/450225100/users",
    "/township/450225100/devices",
    "/village/450225100201",
]
ADMIN_PAGES = ["/county/450225", "/import"]
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("path", TOWNSHIP_PAGES)
async def test_a_township_page_renders_in_chinese_for_its_supervisor(
    client: httpx.AsyncClient, path: str
) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5))
    await sign_in(client, world.supervisor)

    response = await client.get(path)

    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "看板" in response.text  # the navigation, translated
    assert len(HAN.findall(response.text)) > 20
    assert "style=" not in response.text and "<script" not in response.text  # strict CSP


@pytest.mark.parametrize("path", TOWNSHIP_PAGES)
async def test_a_township_page_is_403_for_another_townships_supervisor(
    client: httpx.AsyncClient, path: str
) -> None:
    world = await make_world()
    await sign_in(client, world.other_supervisor)

    response = await client.get(path)

    assert response.status_code == 403
    assert "不允许访问" in response.text


@pytest.mark.parametrize("path", TOWNSHIP_PAGES + ADMIN_PAGES)
async def test_a_page_sends_a_doctor_to_the_phone_app(client: httpx.AsyncClient, path: str) -> None:
    world = await make_world()
    await sign_in(client, world.doctor)

    response = await client.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == "/app/"


@pytest.mark.parametrize("path", TOWNSHIP_PAGES + ADMIN_PAGES)
async def test_a_page_sends_a_signed_out_visitor_to_sign_in(
    client: httpx.AsyncClient, path: str
) -> None:
    await make_world()

    response = await client.get(path)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_an_admin_page_renders_for_the_admin_and_is_403_for_a_supervisor(
    client: httpx.AsyncClient, path: str
) -> None:
    world = await make_world()
    await sign_in(client, world.admin)
    as_admin = await client.get(path)
    await sign_in(client, world.supervisor)
    as_supervisor = await client.get(path)

    assert as_admin.status_code == 200 and "导入" in as_admin.text
    assert as_supervisor.status_code == 403


async def test_an_unknown_village_is_a_404_page(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    response = await client.get("/village/450225100299")

    assert response.status_code == 404
    assert "未找到" in response.text


async def test_village_detail_explains_a_revision_in_plain_words(client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime

    from server.models import CoverageRevision

    world = await make_world()
    await CoverageRevision.create(
        village_id="450225100201", week="2026-W44", old_status="uncovered", new_status="covered",
        cause="visit_push", at=datetime(2026, 11, 9, 2, 0, tzinfo=UTC),
    )  # fmt: skip
    await sign_in(client, world.supervisor)

    zh = (await client.get("/village/450225100201")).text
    en = (await client.get("/village/450225100201?lang=en")).text

    assert "W44 从 未覆盖 改为 已覆盖，11-09，原因：迟到记录。" in zh
    assert "W44 changed from uncovered to covered on 11-09 because a late record arrived." in en


async def test_village_detail_shows_a_weeks_visits_with_flags_and_conflicts(
    client: httpx.AsyncClient,
) -> None:
    from datetime import UTC, datetime

    from server.models import VisitVersion
    from tests.pages.support import at, store_visit

    world = await make_world()
    week = last_week()
    visit = await store_visit("doc-1", "450225100201", "duty", at(week, 2, 8), 9, flags=["late"])
    await VisitVersion.create(
        visit_id=visit.id, change_id="c0ffee00-0000-4000-8000-000000000001", rev=2,
        hlc="001763769600000-00000-phone-2", device_id="phone-2",
        received_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC), data={}, outcome="conflict_loser",
    )  # fmt: skip
    await sign_in(client, world.supervisor)

    html = (await client.get(f"/village/450225100201?week={week}")).text

    assert "韦医生" in html and "迟到记录" in html
    assert "编辑冲突" in html and "phone-2" in html
