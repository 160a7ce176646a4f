"""Supervisors resolve overlaps and dismiss visits (SPEC §5, §10); coverage follows, with an audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from server.flags import open_flags
from server.models import Assignment, AuditEntry, CoverageRevision, CoverageWeek, Visit
from tests.server.pushing import GUDING, XINGUO, local, pull_all, push_ok, visit
from tests.server.test_coverage_api import coverage_of, day_of, duty_days, last_week
from tests.world import World, login, make_world


async def overlapping_monday(client: httpx.AsyncClient) -> tuple[World, dict[str, str], str, str]:
    """韦医生, rostered at 古鼎村 and also on patrol at 新国村, logs a full week at 古鼎村, but on
    Monday a patrol at 新国村 overlaps the duty day: both are flagged `overlap`."""
    world = await make_world()
    await Assignment.create(
        id="asg-wei-patrol", doctor=world.doctor, village=world.villages[1], kind="patrol",
        start=date(2026, 6, 1), end=None, slots=[{"weekday": 1, "half": "pm"}],
    )  # fmt: skip
    wei = await login(client, world.doctor)
    monday = day_of(last_week(), 1)
    patrol = visit(XINGUO, local(monday, 13), local(monday, 17), kind="patrol")
    await push_ok(client, wei, duty_days(last_week()) + [patrol])
    duty = await Visit.get(village_id=GUDING, local_date=monday)
    return world, wei, duty.id, patrol["id"]


async def resolve(
    client: httpx.AsyncClient, headers: dict[str, str], visit_id: str, counting: Any
) -> httpx.Response:
    return await client.post(
        f"/api/visits/{visit_id}/resolve-overlap", json={"counting": counting}, headers=headers
    )


async def test_both_sides_of_an_overlap_stop_counting_until_resolved(
    client: httpx.AsyncClient,
) -> None:
    world, _, duty, patrol = await overlapping_monday(client)
    headers = await login(client, world.supervisor, "pc-1")

    row = await coverage_of(client, headers, last_week())

    assert {v.id: "overlap" in v.flags for v in await Visit.filter(id__in=[duty, patrol])} == {
        duty: True, patrol: True,
    }  # fmt: skip
    assert (row["status"], row["duty_days"], row["flags"]) == ("partial", 4, {"overlap": 1})


async def test_resolving_an_overlap_lets_the_chosen_visit_count_and_dismisses_the_other(
    client: httpx.AsyncClient,
) -> None:
    world, wei, duty, patrol = await overlapping_monday(client)
    _, cursor = await pull_all(client, wei)
    headers = await login(client, world.supervisor, "pc-1")

    answer = await resolve(client, headers, duty, [duty])

    assert answer.status_code == 200, answer.text
    assert answer.json()["visit"] == {
        "id": duty, "dismissed": False, "dismiss_reason": None, "overlap_resolved": True,
    }  # fmt: skip
    other = await Visit.get(id=patrol)
    assert (other.dismissed, other.dismiss_reason, other.overlap_resolved) == (
        True, "overlap resolved", True,
    )  # fmt: skip
    row = await coverage_of(client, headers, last_week())
    assert (row["status"], row["duty_days"], row["flags"]) == ("covered", 5, {})
    revision = await CoverageRevision.get(village_id=GUDING, week=last_week())
    assert (revision.old_status, revision.new_status, revision.cause) == (
        "partial", "covered", "overlap_resolved",
    )  # fmt: skip
    audit = await AuditEntry.get(action="resolve_overlap")
    assert (audit.actor, audit.target) == (world.supervisor.id, f"visit:{duty}")
    assert audit.details == {"counting": [duty], "dismissed": [patrol]}
    changes, _ = await pull_all(client, wei, cursor=cursor)
    assert {c["id"] for c in changes if c["type"] == "visit"} == {duty, patrol}
    # The phone learns the decision, so its week progress counts what the server counts.
    pulled = {c["id"]: c["data"] for c in changes if c["type"] == "visit"}
    assert (pulled[duty]["dismissed"], pulled[duty]["overlap_resolved"]) == (False, True)
    assert (pulled[patrol]["dismissed"], pulled[patrol]["dismiss_reason"]) == (
        True, "overlap resolved",
    )  # fmt: skip


async def test_a_supervisor_may_let_both_overlapping_visits_count(
    client: httpx.AsyncClient,
) -> None:
    world, _, duty, patrol = await overlapping_monday(client)
    headers = await login(client, world.supervisor, "pc-1")

    answer = await resolve(client, headers, patrol, [duty, patrol])

    assert answer.status_code == 200
    assert [(v.dismissed, v.overlap_resolved) for v in await Visit.filter(id__in=[duty, patrol])] == [
        (False, True), (False, True),
    ]  # fmt: skip
    assert (await coverage_of(client, headers, last_week()))["status"] == "covered"
    xinguo = await coverage_of(client, headers, last_week(), XINGUO)
    assert xinguo["patrol_days"] == 1


async def test_counting_may_only_name_visits_of_the_overlap(client: httpx.AsyncClient) -> None:
    world, _, duty, patrol = await overlapping_monday(client)
    tuesday = await Visit.get(village_id=GUDING, local_date=day_of(last_week(), 2))
    headers = await login(client, world.supervisor, "pc-1")

    stranger = await resolve(client, headers, duty, [duty, tuesday.id])
    empty = await resolve(client, headers, duty, [])
    not_a_list = await resolve(client, headers, duty, duty)
    no_overlap = await resolve(client, headers, tuesday.id, [tuesday.id])

    assert stranger.status_code == 422
    assert stranger.json()["error"]["details"] == [
        {"field": "counting", "code": "not_overlapping", "id": tuesday.id}
    ]
    assert empty.status_code == 422 and not_a_list.status_code == 422
    assert no_overlap.status_code == 422 and no_overlap.json()["error"]["code"] == "not_overlap"
    assert not await Visit.filter(overlap_resolved=True).exists()
    assert await AuditEntry.all().count() == 0


async def test_only_the_supervisor_of_the_township_or_an_admin_of_its_county_decides(
    client: httpx.AsyncClient,
) -> None:
    world, wei, duty, patrol = await overlapping_monday(client)
    other = await login(client, world.other_supervisor, "pc-2")
    admin = await login(client, world.admin, "pc-3")

    answers = [
        await resolve(client, other, duty, [duty]),
        await resolve(client, wei, duty, [duty]),
        await client.post(f"/api/visits/{duty}/dismiss", json={"reason": "重复"}, headers=other),
        await resolve(client, admin, "00000000-0000-4000-8000-000000000000", [duty]),
        await resolve(client, admin, duty, [duty]),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 404, 200]


async def test_dismissing_a_visit_stops_it_counting_and_records_why(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    await push_ok(client, wei, duty_days(last_week()))
    friday = await Visit.get(village_id=GUDING, local_date=day_of(last_week(), 5))
    headers = await login(client, world.supervisor, "pc-1")

    missing = await client.post(f"/api/visits/{friday.id}/dismiss", json={}, headers=headers)
    blank = await client.post(
        f"/api/visits/{friday.id}/dismiss", json={"reason": "  "}, headers=headers
    )
    answer = await client.post(
        f"/api/visits/{friday.id}/dismiss",
        json={"reason": "当天在卫生院开会，未到村"},
        headers=headers,
    )

    assert missing.status_code == 422 and blank.status_code == 422
    assert answer.status_code == 200
    assert answer.json()["visit"]["dismiss_reason"] == "当天在卫生院开会，未到村"
    row = await coverage_of(client, headers, last_week())
    assert (row["status"], row["duty_days"]) == ("partial", 4)
    revision = await CoverageRevision.get(village_id=GUDING, week=last_week())
    assert (revision.old_status, revision.new_status, revision.cause) == (
        "covered", "partial", "visit_dismissed",
    )  # fmt: skip
    audit = await AuditEntry.get(action="dismiss_visit")
    assert audit.details == {"reason": "当天在卫生院开会，未到村", "overlap_resolved": []}


async def test_dismissing_one_side_of_an_overlap_lets_the_other_count(
    client: httpx.AsyncClient,
) -> None:
    world, _, duty, patrol = await overlapping_monday(client)
    headers = await login(client, world.supervisor, "pc-1")

    await client.post(f"/api/visits/{patrol}/dismiss", json={"reason": "误点巡诊"}, headers=headers)

    kept = await Visit.get(id=duty)
    assert kept.overlap_resolved and not kept.dismissed
    assert (await coverage_of(client, headers, last_week()))["status"] == "covered"
    stored = await CoverageWeek.get(village_id=XINGUO, week=last_week())
    assert stored.patrol_days == 0 and stored.flags == {}


async def test_the_flag_queue_lists_open_flags_in_scope_newest_first(
    client: httpx.AsyncClient,
) -> None:
    world, _, duty, patrol = await overlapping_monday(client)
    qin = await login(client, world.patrol_doctor, "p2")
    tuesday = day_of(last_week(), 2)
    # 覃医生 logs a duty day at 古鼎村, where he holds no roster: `unassigned`.
    await push_ok(
        client,
        qin,
        [visit(GUDING, local(tuesday, 8), local(tuesday, 17), device="p2")],
        device_id="p2",
    )
    other = await login(client, world.other_doctor, "p3")
    await push_ok(
        client,
        other,
        [visit(GUDING, local(tuesday, 8), local(tuesday, 17), device="p3")],
        device_id="p3",
    )

    queue = await open_flags(["450225100"], 50)
    everything = await open_flags(None, 50)
    await resolve(client, await login(client, world.supervisor, "pc-1"), duty, [duty])
    after = await open_flags(["450225100"], 50)

    assert {(f.doctor_name, f.village_name, f.flags) for f in queue[:2]} == {
        ("梁医生", "古鼎村", ("unassigned",)),
        ("覃医生", "古鼎村", ("unassigned",)),
    }
    assert [(f.id, f.flags) for f in queue[2:]] == [(patrol, ("overlap",)), (duty, ("overlap",))]
    by_id = {f.id: f for f in queue}
    assert by_id[duty].overlaps_with == (patrol,) and by_id[patrol].overlaps_with == (duty,)
    assert len(everything) == 4
    assert {f.id for f in after} == {f.id for f in queue} - {duty, patrol}
    assert len(await open_flags(["450225101"], 50)) == 0
    assert len(await open_flags(["450225100"], 1)) == 1
