"""The flag queue: resolving an overlap and dismissing a visit update coverage at once."""

from __future__ import annotations

import httpx

from server.models import AuditEntry, CoverageWeek, Visit
from server.recompute import recompute
from server.settings import Settings
from tests.pages.support import at, last_week, sign_in, store_visit
from tests.world import make_world

GUDING = "450225100201"  # 古鼎村, where 韦医生 is rostered
XINGUO = "450225100202"  # 新国村


async def test_queue_lists_overlaps_first_in_words(client: httpx.AsyncClient) -> None:
    world = await make_world()
    week = last_week()
    await store_visit("doc-1", GUDING, "duty", at(week, 2, 8), 9, flags=["overlap"], visit_id="aaaaaaaa-0000-4000-8000-000000000001")
    await store_visit("doc-1", XINGUO, "duty", at(week, 2, 10), 2, flags=["overlap", "unassigned"], visit_id="aaaaaaaa-0000-4000-8000-000000000002")
    await store_visit("doc-2", XINGUO, "patrol", at(week, 5, 14), 4, flags=["far_from_village"])
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100/flags")).text

    assert "与另一记录时间重叠" in html and "离村较远" in html and "无对应安排" in html
    assert html.index("与另一记录时间重叠") < html.index("离村较远")
    assert 'name="counting" value="aaaaaaaa-0000-4000-8000-000000000002"' in html


async def test_resolving_an_overlap_lets_the_chosen_visit_count(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    kept = await store_visit("doc-1", GUDING, "duty", at(week, 2, 8), 9, flags=["overlap"])
    other = await store_visit("doc-1", XINGUO, "duty", at(week, 2, 10), 2, flags=["overlap"])
    await recompute([(GUDING, week), (XINGUO, week)], cause="test", settings=settings)
    assert (await CoverageWeek.get(village_id=GUDING, week=week)).duty_days == 0
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        f"/township/450225100/flags/{kept.id}/resolve", data={"csrf": csrf, "counting": [kept.id]}
    )

    assert response.status_code == 303
    assert (await CoverageWeek.get(village_id=GUDING, week=week)).duty_days == 1
    assert (await Visit.get(id=kept.id)).overlap_resolved
    assert (await Visit.get(id=other.id)).dismissed
    page = await client.get("/township/450225100/flags")
    assert "重叠已处理，覆盖情况已更新。" in page.text


async def test_dismissing_a_visit_stops_it_counting_and_keeps_the_reason(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    visit = await store_visit("doc-1", GUDING, "duty", at(week, 3, 8), 9, flags=["far_from_village"])
    await recompute([(GUDING, week)], cause="test", settings=settings)
    assert (await CoverageWeek.get(village_id=GUDING, week=week)).duty_days == 1
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        f"/township/450225100/flags/{visit.id}/dismiss",
        data={"csrf": csrf, "reason": "当天在卫生院开会，未去村里"},
    )

    assert response.status_code == 303
    stored = await Visit.get(id=visit.id)
    assert stored.dismissed and stored.dismiss_reason == "当天在卫生院开会，未去村里"
    assert (await CoverageWeek.get(village_id=GUDING, week=week)).duty_days == 0
    assert await AuditEntry.filter(actor="sup-1", action="dismiss_visit").exists()


async def test_dismissing_without_a_reason_changes_nothing(client: httpx.AsyncClient) -> None:
    world = await make_world()
    visit = await store_visit("doc-1", GUDING, "duty", at(last_week(), 3, 8), 9, flags=["late"])
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        f"/township/450225100/flags/{visit.id}/dismiss", data={"csrf": csrf, "reason": " "}
    )
    page = await client.get("/township/450225100/flags")

    assert response.status_code == 303
    assert not (await Visit.get(id=visit.id)).dismissed
    assert "未保存：请填写不超过 500 字的原因。" in page.text


async def test_flag_actions_without_csrf_are_refused(client: httpx.AsyncClient) -> None:
    world = await make_world()
    visit = await store_visit("doc-1", GUDING, "duty", at(last_week(), 2, 8), 9, flags=["overlap"])
    await sign_in(client, world.supervisor)

    resolve = await client.post(f"/township/450225100/flags/{visit.id}/resolve", data={"counting": visit.id})
    dismiss = await client.post(f"/township/450225100/flags/{visit.id}/dismiss", data={"reason": "x"})

    assert resolve.status_code == 403 and dismiss.status_code == 403
    assert not (await Visit.get(id=visit.id)).dismissed


async def test_another_townships_supervisor_cannot_dismiss_by_url(client: httpx.AsyncClient) -> None:
    world = await make_world()
    visit = await store_visit("doc-1", GUDING, "duty", at(last_week(), 2, 8), 9, flags=["late"])
    csrf = await sign_in(client, world.other_supervisor)

    own_url = await client.post(
        f"/township/450225101/flags/{visit.id}/dismiss", data={"csrf": csrf, "reason": "越权"}
    )
    queue = await client.get("/township/450225100/flags")

    assert own_url.status_code == 403 and queue.status_code == 403
    assert not (await Visit.get(id=visit.id)).dismissed
