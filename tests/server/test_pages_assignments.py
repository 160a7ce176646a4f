"""Managing assignments and patrol schedules from the pages: coverage follows at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from server.models import Assignment, AuditEntry, Change, CoverageWeek, Village
from server.recompute import recompute
from server.settings import Settings
from sync.weeks import local_date, week_monday
from tests.pages.support import sign_in, this_week
from tests.world import make_world


def today() -> date:
    return local_date(datetime.now(UTC), "Asia/Shanghai")


async def test_creating_an_assignment_recomputes_the_village_week(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await Village.create(code="450225100204", township=world.township, name="大坪村", population=760)
    await recompute([("450225100204", this_week())], cause="test", settings=settings)
    assert (await CoverageWeek.get(village_id="450225100204", week=this_week())).status == "unassigned"
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/assignments",
        data={"csrf": csrf, "doctor": "doc-2", "village": "450225100204", "kind": "patrol",
              "start": week_monday(this_week()).isoformat(), "end": "",
              "slot": ["2-am", "5-pm"]},
    )

    assert response.status_code == 303
    row = await CoverageWeek.get(village_id="450225100204", week=this_week())
    assert row.mode == "patrol" and row.status != "unassigned"
    made = await Assignment.get(village_id="450225100204")
    assert made.slots == [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}]
    assert await Change.filter(type="assignment", entity_id=made.id, user_id="doc-2").exists()
    assert await AuditEntry.filter(action="assignment_created", target=made.id, actor="sup-1").exists()
    page = await client.get("/township/450225100/assignments")
    assert "已保存安排：覃医生，大坪村。" in page.text


async def test_ending_an_assignment_leaves_the_following_week_unassigned(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await recompute([("450225100201", this_week())], cause="test", settings=settings)
    assert (await CoverageWeek.get(village_id="450225100201", week=this_week())).mode == "roster"
    csrf = await sign_in(client, world.supervisor)
    last_sunday = week_monday(this_week()) - timedelta(days=1)

    response = await client.post(
        "/township/450225100/assignments/asg-1/end",
        data={"csrf": csrf, "end": last_sunday.isoformat(), "confirm": "1"},
    )

    assert response.status_code == 303
    assert (await Assignment.get(id="asg-1")).end == last_sunday
    row = await CoverageWeek.get(village_id="450225100201", week=this_week())
    assert row.mode == "none" and row.status == "unassigned"
    assert await Change.filter(type="assignment", entity_id="asg-1", user_id="doc-1").exists()


async def test_a_roster_plan_under_half_a_year_asks_for_confirmation_first(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)
    plan = {"csrf": csrf, "doctor": "doc-1", "village": "450225100203", "kind": "roster",
            "start": today().isoformat(), "end": (today() + timedelta(days=90)).isoformat()}

    warned = await client.post("/township/450225100/assignments", data=plan)
    created_before_confirm = await Assignment.filter(village_id="450225100203").count()
    confirmed = await client.post("/township/450225100/assignments", data={**plan, "confirm": "1"})

    assert warned.status_code == 200
    assert "不足半年" in warned.text and "此派驻安排为期 91 天" in warned.text
    assert 'name="confirm" value="1"' in warned.text
    assert created_before_confirm == 0
    assert confirmed.status_code == 303
    assert await Assignment.filter(village_id="450225100203").count() == 1


async def test_ending_a_roster_assignment_before_half_a_year_asks_first(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()  # asg-1 started on 2026-06-01
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/assignments/asg-1/end", data={"csrf": csrf, "end": "2026-10-31"}
    )

    assert response.status_code == 200
    assert "此派驻安排为期 153 天" in response.text
    assert (await Assignment.get(id="asg-1")).end is None


async def test_a_half_year_roster_plan_is_saved_without_a_warning(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/assignments",
        data={"csrf": csrf, "doctor": "doc-1", "village": "450225100203", "kind": "roster",
              "start": today().isoformat(), "end": (today() + timedelta(days=182)).isoformat()},
    )

    assert response.status_code == 303


async def test_changing_patrol_slots_is_stored_and_noted(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/assignments/asg-2/slots", data={"csrf": csrf, "slot": ["3-pm"]}
    )

    assert response.status_code == 303
    assert (await Assignment.get(id="asg-2")).slots == [{"weekday": 3, "half": "pm"}]
    assert await AuditEntry.filter(action="assignment_slots", target="asg-2").exists()


async def test_a_doctor_of_another_township_cannot_be_assigned(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/assignments",
        data={"csrf": csrf, "doctor": "doc-3", "village": "450225100203", "kind": "roster",
              "start": today().isoformat()},
    )

    assert response.status_code == 422
    assert "请选择本乡镇的医生。" in response.text
    assert not await Assignment.filter(doctor_id="doc-3", village_id="450225100203").exists()


async def test_another_townships_assignment_cannot_be_ended_by_url(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    across = await client.post(
        "/township/450225100/assignments/asg-3/end", data={"csrf": csrf, "end": today().isoformat()}
    )
    other = await client.post(
        "/township/450225101/assignments/asg-3/end", data={"csrf": csrf, "end": today().isoformat()}
    )

    assert across.status_code == 403 and other.status_code == 403
    assert (await Assignment.get(id="asg-3")).end is None


async def test_assignment_forms_without_csrf_are_refused(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    create = await client.post(
        "/township/450225100/assignments",
        data={"doctor": "doc-1", "village": "450225100203", "kind": "roster", "start": "2026-11-02"},
    )
    end = await client.post("/township/450225100/assignments/asg-1/end", data={"end": "2026-11-02"})
    slots = await client.post("/township/450225100/assignments/asg-2/slots", data={"slot": "1-am"})

    assert [create.status_code, end.status_code, slots.status_code] == [403, 403, 403]
    assert "表单已过期" in create.text
    assert (await Assignment.get(id="asg-1")).end is None


async def test_assignments_page_lists_schedules_in_words(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100/assignments")).text

    assert "韦医生" in html and "覃医生" in html
    assert "周二上午" in html and "周五下午" in html
