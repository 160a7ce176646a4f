"""The doctor compliance page: own days, four-week schedule adherence and flags in words."""

from __future__ import annotations

import httpx

from tests.pages.support import at, last_week, sign_in, store_visit
from tests.world import make_world


async def test_patrols_off_the_fixed_schedule_are_named_with_their_adherence(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()  # 覃医生 patrols 新国村 on Tuesday mornings and Friday afternoons
    week = last_week()
    await store_visit("doc-2", "450225100202", "patrol", at(week, 2, 8, 30), 4)  # in its slot
    await store_visit("doc-2", "450225100202", "patrol", at(week, 5, 8, 0), 4)  # Friday morning
    await sign_in(client, world.supervisor)

    response = await client.get(f"/township/450225100/compliance?week={week}")

    assert response.status_code == 200
    html = response.text
    row = html[html.index("覃医生"):]
    row = row[: row.index("</tr>")]
    assert "2/2" in row and "50%" in row and "巡诊时间不固定" in row


async def test_a_rostered_doctor_short_of_days_is_shown_short(client: httpx.AsyncClient) -> None:
    world = await make_world()
    week = last_week()
    for weekday in (1, 2, 3):
        await store_visit("doc-1", "450225100201", "duty", at(week, weekday, 8), 9)
    await sign_in(client, world.supervisor)

    html = (await client.get(f"/township/450225100/compliance?week={week}")).text

    row = html[html.index("韦医生"):]
    row = row[: row.index("</tr>")]
    assert "3/5" in row and "差 2 天" in row


async def test_compliance_of_another_township_is_403(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.other_supervisor)

    response = await client.get("/township/450225100/compliance")

    assert response.status_code == 403


async def test_a_week_that_is_not_an_iso_week_is_422(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    response = await client.get("/township/450225100/compliance?week=2026-W60")

    assert response.status_code == 422
