"""The township dashboard and the start page: stored rows, words beside colours, scope."""

from __future__ import annotations

import logging

import httpx

from server.models import Village
from sync.weeks import previous_week
from tests.pages.support import last_week, sign_in, store_row, this_week
from tests.world import make_world


async def test_start_page_sends_a_supervisor_to_their_township(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/township/450225100"


async def test_start_page_sends_an_admin_to_their_county(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.admin)

    response = await client.get("/")

    assert response.headers["location"] == "/county/450225"


async def test_signed_out_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    await make_world()

    response = await client.get("/township/450225100")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_doctor_is_sent_to_the_phone_app(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.doctor)

    response = await client.get("/township/450225100")

    assert response.status_code == 303
    assert response.headers["location"] == "/app/"


async def test_dashboard_shows_status_words_days_and_links(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5))
    await store_row(
        "450225100202", "450225100", last_week(), "partial", mode="patrol", patrol=(1, 2)
    )
    await sign_in(client, world.supervisor)

    response = await client.get("/township/450225100")

    assert response.status_code == 200
    html = response.text
    assert "古鼎村" in html and "新国村" in html and "水东村" in html
    assert "已覆盖" in html and "派驻 5/5" in html
    assert "部分覆盖" in html and "巡诊 1/2" in html
    assert f'href="/village/450225100201?week={last_week()}"' in html
    assert "st-covered" in html and "st-partial" in html


async def test_provisional_week_is_marked_not_final_with_who_has_not_synced(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await store_row(
        "450225100201", "450225100", last_week(), "uncovered", provisional=True,
        unsynced=["doc-1"],
    )
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100")).text

    assert "未定" in html
    assert "待同步 韦医生" in html


async def test_the_running_week_is_not_final_because_it_runs_not_because_of_a_sync(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await store_row(
        "450225100201", "450225100", this_week(), "uncovered", provisional=True,
        unsynced=["doc-1"],
    )
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100")).text

    assert "未定: 本周进行中" in html
    assert "待同步 韦医生" not in html


async def test_current_week_pace_counts_villages_that_can_still_make_it(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", this_week(), "covered", duty=(5, 5), provisional=True)
    await store_row(
        "450225100202", "450225100", this_week(), "uncovered", mode="patrol", patrol=(0, 1),
        provisional=True,
    )
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100")).text

    assert "本周进度" in html
    assert "还需 1 天" in html


async def test_filters_keep_only_villages_with_that_status_in_the_chosen_week(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5))
    await store_row("450225100202", "450225100", last_week(), "uncovered", mode="patrol", patrol=(0, 2))
    await sign_in(client, world.supervisor)

    by_status = (await client.get(f"/township/450225100?status=uncovered&week={last_week()}")).text
    by_name = (await client.get("/township/450225100?q=古鼎")).text
    by_need = (await client.get("/township/450225100?needs=no")).text

    assert "新国村" in by_status and "古鼎村" not in by_status
    assert "古鼎村" in by_name and "新国村" not in by_name
    assert "水东村" in by_need and "古鼎村" not in by_need


async def test_supervisor_of_another_township_gets_403(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.other_supervisor)

    response = await client.get("/township/450225100")

    assert response.status_code == 403
    assert "不允许" in response.text


async def test_admin_of_the_county_sees_any_of_its_townships(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.admin)

    response = await client.get("/township/450225101")

    assert response.status_code == 200
    assert "和睦村" in response.text


async def test_dashboard_can_be_read_in_english(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5))
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100?lang=en")).text

    assert "covered" in html and "duty 5/5" in html


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip().upper()
        if message.startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.count += 1


async def _statements_for_dashboard(client: httpx.AsyncClient) -> int:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        response = await client.get("/township/450225100")
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    assert response.status_code == 200
    return counter.count


async def test_dashboard_statements_do_not_grow_with_villages_or_weeks(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", this_week(), "partial", duty=(2, 5),
                    provisional=True, unsynced=["doc-1"])
    await sign_in(client, world.supervisor)
    few = await _statements_for_dashboard(client)
    week = this_week()
    for n in range(40):
        code = f"4502251003{n:02d}"
        await Village.create(code=code, township=world.township, name=f"村{n}", population=500)
        for _ in range(8):  # every week shown, each still waiting for its own doctor
            await store_row(code, "450225100", week, "partial", duty=(2, 5), provisional=True,
                            unsynced=[f"doc-{n}"])
            week = previous_week(week)
        week = this_week()

    many = await _statements_for_dashboard(client)

    assert many == few
    assert many <= 10
