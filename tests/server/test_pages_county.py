"""The county view, the coverage exports and the import page."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from server.models import County, Township, Village
from tests.pages.support import last_week, sign_in, store_row, this_week
from tests.world import make_world


async def test_county_view_shows_each_townships_rate_and_the_chart(client: httpx.AsyncClient) -> None:
    world = await make_world()
    week = last_week()
    await store_row("450225100201", "450225100", week, "covered", duty=(5, 5))
    await store_row("450225100202", "450225100", week, "uncovered", mode="patrol", patrol=(0, 2))
    await store_row("450225100203", "450225100", week, "self_served", mode="none")
    await store_row("450225101201", "450225101", week, "exempt")
    await sign_in(client, world.admin)

    response = await client.get("/county/450225")

    assert response.status_code == 200
    html = response.text
    assert "融水苗族自治县" in html and "融水镇" in html and "和睦镇" in html
    row = html[html.index("融水镇</a>"):]
    row = row[: row.index("</tr>")]
    assert "50%" in row  # covered 1 of 2 needing; self-served left out
    assert "<svg" in html and "<polyline" in html
    assert "覆盖率 = 已覆盖的村周数 ÷ 需要覆盖的村周数" in html


async def test_county_view_paginates_fifty_townships_a_page(client: httpx.AsyncClient) -> None:
    world = await make_world()
    for n in range(60):
        await Township.create(code=f"450225{200 + n}", county=world.county, name=f"测试镇{n:02d}")
    await sign_in(client, world.admin)

    first = (await client.get("/county/450225")).text
    second = (await client.get("/county/450225?page=2")).text

    assert first.count('href="/township/') == 50
    assert "第 1 / 2 页" in first
    assert second.count('href="/township/') == 12
    assert "测试镇59" in second and "测试镇59" not in first


async def test_county_view_is_for_admins_of_that_county_only(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await County.create(code="450226", name="三江侗族自治县")
    await sign_in(client, world.admin)
    other_county = await client.get("/county/450226")
    await sign_in(client, world.supervisor)
    as_supervisor = await client.get("/county/450225")

    assert other_county.status_code == 403
    assert as_supervisor.status_code == 403


async def test_township_export_as_csv_reads_back(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5),
                    flags={"late": 1})
    await store_row("450225101201", "450225101", last_week(), "covered", duty=(5, 5))
    await sign_in(client, world.supervisor)

    response = await client.get(
        f"/township/450225100/export.csv?from={last_week()}&to={this_week()}"
    )

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["village_name"] == "古鼎村" and rows[0]["township_name"] == "融水镇"
    assert rows[0]["status"] == "covered" and rows[0]["duty_days"] == "5"
    assert rows[0]["flags"] == '{"late": 1}'


async def test_county_export_as_xlsx_reads_back_with_openpyxl(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await store_row("450225100201", "450225100", last_week(), "covered", duty=(5, 5))
    await store_row("450225101201", "450225101", last_week(), "partial", duty=(3, 5))
    await sign_in(client, world.admin)

    response = await client.get(f"/county/450225/export.xlsx?from={last_week()}&to={last_week()}")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("week", "township", "township_name", "village", "village_name")
    assert {(r[4], r[6]) for r in values[1:]} == {("古鼎村", "covered"), ("和睦村", "partial")}


async def test_an_export_of_another_township_is_403(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.other_supervisor)

    response = await client.get("/township/450225100/export.xlsx")

    assert response.status_code == 403


async def test_an_export_range_that_is_not_weeks_is_422(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    response = await client.get("/township/450225100/export.csv?from=2026-W50&to=2026-W40")

    assert response.status_code == 422


async def test_importing_a_csv_with_one_bad_row_shows_that_row_and_imports_nothing(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.admin)
    content = (
        "code,township,name,population,needs_coverage\n"
        "450225100204,450225100,大坪村,760,true\n"
        "450225100205,450225199,安太村,900,true\n"
    ).encode()

    response = await client.post(
        "/import", data={"csrf": csrf}, files={"file": ("villages.csv", content, "text/csv")}
    )

    assert response.status_code == 422
    assert "未导入任何数据" in response.text
    assert "villages.csv" in response.text and "450225199" in response.text
    assert not await Village.filter(code="450225100204").exists()


async def test_importing_a_good_csv_shows_the_counts(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.admin)
    content = "code,township,name,population,needs_coverage\n450225100204,450225100,大坪村,760,true\n"

    response = await client.post(
        "/import", data={"csrf": csrf}, files={"file": ("villages.csv", content.encode(), "text/csv")}
    )

    assert response.status_code == 200
    assert "已导入 villages.csv" in response.text
    assert (await Village.get(code="450225100204")).name == "大坪村"


async def test_import_is_for_admins_and_needs_csrf(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)
    as_supervisor = await client.post(
        "/import", data={"csrf": csrf}, files={"file": ("villages.csv", b"code\n", "text/csv")}
    )
    await sign_in(client, world.admin)
    without_csrf = await client.post(
        "/import", files={"file": ("villages.csv", b"code\n", "text/csv")}
    )

    assert as_supervisor.status_code == 403
    assert without_csrf.status_code == 403


def test_chart_labels_do_not_crowd_the_newest_week() -> None:
    from server.pages.chart import MIN_LABEL_GAP, rate_chart

    weeks = [f"2026-W{n:02d}" for n in range(24, 50)]
    chart = rate_chart([(w, 0.5, False) for w in weeks])

    xs = [x for x, _ in chart.x_labels]
    assert chart.x_labels[-1][1] == "W49"
    assert all(b - a >= MIN_LABEL_GAP for a, b in zip(xs, xs[1:], strict=False))
    assert len(chart.dots) == 26


def test_chart_leaves_out_weeks_without_a_rate() -> None:
    from server.pages.chart import rate_chart

    chart = rate_chart([("2026-W47", 1.0, False), ("2026-W48", None, False), ("2026-W49", 0.0, True)])

    assert [d.label for d in chart.dots] == ["2026-W47", "2026-W49"]
    assert chart.dots[-1].provisional
    assert chart.dots[0].y < chart.dots[1].y  # 100% is drawn above 0%
