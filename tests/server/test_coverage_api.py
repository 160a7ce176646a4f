"""Stored coverage through the real app: push → stored row → GET /api/coverage (SPEC §4, §7)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from server.models import (
    Assignment,
    Change,
    CoverageRevision,
    CoverageWeek,
    Exemption,
    User,
    Village,
)
from server.recompute import (
    STORED_FIELDS,
    on_doctor_synced,
    rebuild_all,
    recompute,
    recompute_ended_weeks,
    recompute_notes,
)
from server.settings import Settings
from sync.weeks import previous_week, week_monday, week_of, week_range
from tests.server.pushing import GUDING, SHUIDONG, TZ, XINGUO, local, pull_all, push_ok, visit
from tests.world import login, make_world

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "cases" / "coverage_examples.json").read_text("utf-8")
)
SPEC_CASES = [c for c in CASES if c["name"].startswith("spec:")]
ROW_FIELDS = (
    "mode", "status", "duty_days", "duty_required", "patrol_days", "patrol_required",
)  # fmt: skip


def this_week() -> str:
    return week_of(datetime.now(UTC), "Asia/Shanghai")


def last_week() -> str:
    return previous_week(this_week())


def day_of(week: str, weekday: int) -> date:
    """The local date of `weekday` (Mon = 1) in `week`."""
    return week_monday(week) + timedelta(days=weekday - 1)


def duty_days(
    week: str, *weekdays: int, village: str = GUDING, hours: int = 9
) -> list[dict[str, Any]]:
    return [
        visit(village, local(day_of(week, d), 8), local(day_of(week, d), 8 + hours))
        for d in weekdays or (1, 2, 3, 4, 5)
    ]


async def coverage_of(
    client: httpx.AsyncClient, headers: dict[str, str], week: str, village: str = GUDING
) -> dict[str, Any]:
    response = await client.get("/api/coverage", params={"week": week}, headers=headers)
    assert response.status_code == 200, response.text
    rows = [r for r in response.json()["villages"] if r["village"] == village]
    assert len(rows) == 1
    return rows[0]


# --- every worked example of SPEC §4, end to end ----------------------------------------------


def _shifted(case: dict[str, Any]) -> tuple[str, timedelta]:
    """Move a case to last week (whole weeks: same weekdays and local times; Shanghai has no DST)."""
    week = last_week()
    return week, week_monday(week) - week_monday(case["week"])


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c["name"] for c in SPEC_CASES])
async def test_every_worked_example_reaches_the_dashboard_through_a_push(
    client: httpx.AsyncClient, case: dict[str, Any]
) -> None:
    world = await make_world()
    doctors = {"韦医生": world.doctor, "覃医生": world.patrol_doctor}
    week, shift = _shifted(case)
    await Assignment.filter(doctor_id__in=[world.doctor.id, world.patrol_doctor.id]).delete()
    await Village.filter(code=GUDING).update(needs_coverage=case["village"]["needs_coverage"])
    for a in case["assignments"]:
        await Assignment.create(
            id=a["id"], doctor=doctors[a["doctor"]], village_id=a["village"], kind=a["kind"],
            start=date.fromisoformat(a["start"]) + shift,
            end=date.fromisoformat(a["end"]) + shift if a["end"] else None, slots=a["slots"],
        )  # fmt: skip
    if case["exempt"]:
        await Exemption.create(village_id=GUDING, week=week, reason="台风停诊")
    headers = {
        name: await login(client, user, f"phone-{user.id}") for name, user in doctors.items()
    }

    for name in doctors:
        records = [
            visit(
                v["village"],
                datetime.fromisoformat(v["started_at"]) + shift,
                datetime.fromisoformat(v["ended_at"]) + shift if v["ended_at"] else None,
                kind=v["kind"],
                device=f"phone-{doctors[name].id}",
            )
            for v in case["visits"]
            if v["doctor"] == name
        ]
        if records:
            await push_ok(client, headers[name], records, device_id=f"phone-{doctors[name].id}")
        await pull_all(client, headers[name])  # every doctor has synced since the week ended

    supervisor = await login(client, world.supervisor, "pc-1")
    row = await coverage_of(client, supervisor, week)
    assert {k: row[k] for k in ROW_FIELDS} == case["expected"]
    assert row["provisional"] is False
    assert row["name"] == "古鼎村" and row["township"] == "450225100"
    unassigned = (
        sum(1 for v in case["visits"] if v["doctor"] != "覃医生")
        if "without" in case["name"]
        else 0
    )
    assert row["flags"] == ({"unassigned": unassigned} if unassigned else {})
    if case["visits"]:  # a push stored the row; without one it was computed on reading
        stored = await CoverageWeek.get(village_id=GUDING, week=week)
        assert (stored.status, stored.provisional) == (case["expected"]["status"], False)


# --- roles and scope ---------------------------------------------------------------------------


async def test_doctors_may_not_read_coverage_or_compliance(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    answers = [
        await client.get("/api/coverage", headers=headers),
        await client.get(f"/api/coverage/{GUDING}", headers=headers),
        await client.get("/api/compliance", headers=headers),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert all(a.json()["error"]["code"] == "forbidden" for a in answers)


async def test_a_supervisor_sees_every_village_of_their_township_and_no_other(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor)

    mine = await client.get("/api/coverage", params={"week": last_week()}, headers=headers)
    other = await client.get(
        "/api/coverage", params={"week": last_week(), "township": "450225101"}, headers=headers
    )
    other_village = await client.get(f"/api/coverage/{world.other_village.code}", headers=headers)
    other_compliance = await client.get(
        "/api/compliance", params={"township": "450225101"}, headers=headers
    )

    assert mine.status_code == 200
    assert [r["village"] for r in mine.json()["villages"]] == [GUDING, XINGUO, SHUIDONG]
    assert [r["status"] for r in mine.json()["villages"]] == [
        "uncovered",
        "uncovered",
        "self_served",
    ]
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    assert other_village.status_code == 403
    assert other_compliance.status_code == 403


async def test_an_admin_sees_the_whole_county_and_may_pick_one_township(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.admin)

    county = await client.get("/api/coverage", params={"week": last_week()}, headers=headers)
    one = await client.get(
        "/api/coverage", params={"week": last_week(), "township": "450225101"}, headers=headers
    )

    assert [r["village"] for r in county.json()["villages"]] == [
        GUDING, XINGUO, SHUIDONG, world.other_village.code,
    ]  # fmt: skip
    assert [r["village"] for r in one.json()["villages"]] == [world.other_village.code]
    assert one.json()["villages"][0]["name"] == "和睦村"


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "２０２６-W47", "2026-W00", "last"])
async def test_a_week_that_is_not_an_iso_week_gets_422_with_the_error_body(
    client: httpx.AsyncClient, week: str
) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor)

    answers = [
        await client.get("/api/coverage", params={"week": week}, headers=headers),
        await client.get("/api/compliance", params={"week": week}, headers=headers),
        await client.get(f"/api/coverage/{GUDING}", params={"to": week}, headers=headers),
    ]

    for answer in answers:
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "invalid" and error["message"]
        assert error["details"][0]["code"] == "invalid_week"


async def test_a_malformed_township_gets_422(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.admin)

    answer = await client.get("/api/coverage", params={"township": "融水镇"}, headers=headers)

    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "township"


async def test_the_week_defaults_to_the_current_week(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor)

    answer = await client.get("/api/coverage", headers=headers)

    assert answer.json()["week"] == this_week()
    assert all(r["provisional"] for r in answer.json()["villages"])


# --- one village, week by week ---------------------------------------------------------------


async def test_the_village_history_has_every_week_stored_or_not(client: httpx.AsyncClient) -> None:
    world = await make_world()
    doctor = await login(client, world.doctor)
    await push_ok(client, doctor, duty_days(last_week()))
    first = week_range(previous_week(previous_week(last_week())), this_week())[0]
    headers = await login(client, world.supervisor)

    answer = await client.get(
        f"/api/coverage/{GUDING}", params={"from": first, "to": this_week()}, headers=headers
    )

    body = answer.json()
    assert answer.status_code == 200 and body["village"] == GUDING
    assert [w["week"] for w in body["weeks"]] == week_range(first, this_week())
    assert [w["status"] for w in body["weeks"]] == [
        "uncovered",
        "uncovered",
        "covered",
        "uncovered",
    ]
    assert body["weeks"][2]["duty_days"] == 5 and body["weeks"][2]["provisional"] is False
    assert body["weeks"][3]["provisional"] is True
    assert body["revisions"] == []


async def test_a_backwards_or_too_long_range_gets_422(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor)

    backwards = await client.get(
        f"/api/coverage/{GUDING}", params={"from": "2026-W47", "to": "2026-W30"}, headers=headers
    )
    too_long = await client.get(
        f"/api/coverage/{GUDING}", params={"from": "2024-W01", "to": "2026-W47"}, headers=headers
    )
    unknown = await client.get("/api/coverage/450225100299", headers=headers)

    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"][0]["code"] == "after_to"
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"][0]["code"] == "range_too_long"
    assert unknown.status_code == 404


# --- provisional ------------------------------------------------------------------------------


async def test_a_week_stays_provisional_until_every_assigned_doctor_has_synced(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    # 覃医生 also holds a roster at 古鼎村, and has not synced since last week ended.
    await Assignment.create(
        id="asg-qin-guding", doctor=world.patrol_doctor, village=world.villages[0],
        kind="roster", start=date(2026, 6, 1), end=None, slots=[],
    )  # fmt: skip
    wei = await login(client, world.doctor)
    supervisor = await login(client, world.supervisor, "pc-1")
    await push_ok(client, wei, duty_days(last_week()))

    waiting = await coverage_of(client, supervisor, last_week())
    stored = await CoverageWeek.get(village_id=GUDING, week=last_week())
    qin = await login(client, world.patrol_doctor, "phone-2")
    await pull_all(client, qin)
    final = await coverage_of(client, supervisor, last_week())

    assert (waiting["status"], waiting["provisional"]) == ("covered", True)
    assert stored.unsynced == [world.patrol_doctor.id]
    assert (final["status"], final["provisional"]) == ("covered", False)
    assert (await CoverageWeek.get(village_id=GUDING, week=last_week())).unsynced == []


async def test_a_running_week_is_provisional_even_when_everyone_synced(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    today = datetime.now(TZ)
    start = today.replace(hour=0, minute=1, second=0, microsecond=0)
    await push_ok(client, wei, [visit(GUDING, start, start + timedelta(minutes=1))])
    await pull_all(client, wei)
    supervisor = await login(client, world.supervisor, "pc-1")

    row = await coverage_of(client, supervisor, this_week())

    assert row["provisional"] is True


async def test_a_doctor_back_after_weeks_offline_makes_each_of_those_weeks_final(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    weeks = week_range(previous_week(previous_week(last_week())), last_week())
    await User.filter(id=world.doctor.id).update(
        last_sync_at=datetime.combine(day_of(weeks[0], 3), datetime.min.time(), TZ)
    )
    await recompute([(GUDING, w) for w in weeks], cause="test", settings=settings)
    before = await CoverageWeek.filter(village_id=GUDING, week__in=weeks).order_by("week")

    wei = await login(client, world.doctor)
    await pull_all(client, wei)

    after = await CoverageWeek.filter(village_id=GUDING, week__in=weeks).order_by("week")
    assert [(r.provisional, r.unsynced) for r in before] == [(True, [world.doctor.id])] * 3
    assert [(r.provisional, r.unsynced) for r in after] == [(False, [])] * 3


async def test_a_week_that_ends_becomes_final_without_any_sync(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    week = last_week()
    during = datetime.combine(day_of(week, 3), datetime.min.time(), TZ).astimezone(UTC)
    async with in_transaction() as conn:  # 水东村: nobody assigned, stored while the week ran
        await recompute_notes(
            [(SHUIDONG, week)], cause="test", settings=settings, connection=conn, now=during
        )
    headers = await login(client, world.supervisor)

    read = await coverage_of(client, headers, week, SHUIDONG)
    stored_before = await CoverageWeek.get(village_id=SHUIDONG, week=week)
    changed = await recompute_ended_weeks(settings, force=True)
    stored_after = await CoverageWeek.get(village_id=SHUIDONG, week=week)

    assert read["provisional"] is False  # right on reading, the minute the week ended
    assert stored_before.provisional is True
    assert changed >= 1 and stored_after.provisional is False
    assert await Change.filter(type="coverage", entity_id=f"{SHUIDONG}:{week}").count() == 1
    assert await CoverageWeek.filter(week=this_week()).count() == 4  # every village has a row


# --- revisions --------------------------------------------------------------------------------


async def test_a_late_record_changing_a_final_week_keeps_a_revision_with_its_cause(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    await push_ok(client, wei, duty_days(last_week(), 1, 2, 3, 4))
    supervisor = await login(client, world.supervisor, "pc-1")
    before = await coverage_of(client, supervisor, last_week())

    await push_ok(client, wei, duty_days(last_week(), 5))

    after = await coverage_of(client, supervisor, last_week())
    history = await client.get(f"/api/coverage/{GUDING}", headers=supervisor)
    assert (before["status"], before["provisional"]) == ("partial", False)
    assert (after["status"], after["duty_days"]) == ("covered", 5)
    revisions = history.json()["revisions"]
    assert [(r["week"], r["old_status"], r["new_status"], r["cause"]) for r in revisions] == [
        (last_week(), "partial", "covered", "visit_push")
    ]
    assert datetime.fromisoformat(revisions[0]["at"]).tzinfo is not None


async def test_a_provisional_week_changing_status_keeps_no_revision(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)

    await push_ok(client, wei, duty_days(this_week(), 1))
    await push_ok(client, wei, duty_days(this_week(), 1, hours=1))

    assert await CoverageRevision.all().count() == 0


async def test_an_assignment_change_recomputes_the_week_and_keeps_a_revision(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    await push_ok(client, wei, duty_days(last_week()))
    supervisor = await login(client, world.supervisor, "pc-1")
    assert (await coverage_of(client, supervisor, last_week()))["status"] == "covered"

    # The roster is found to have ended the week before: last week's visits no longer count.
    await Assignment.filter(id="asg-1").update(end=day_of(previous_week(last_week()), 7))
    await recompute([(GUDING, last_week())], cause="assignment_changed", settings=settings)

    row = await coverage_of(client, supervisor, last_week())
    assert (row["status"], row["mode"], row["flags"]) == ("unassigned", "none", {})
    revision = await CoverageRevision.get(village_id=GUDING, week=last_week())
    assert (revision.old_status, revision.new_status, revision.cause) == (
        "covered", "unassigned", "assignment_changed",
    )  # fmt: skip


# --- rebuild ----------------------------------------------------------------------------------


async def _rows() -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (r["village_id"], r["week"]): tuple(r[f] for f in STORED_FIELDS)
        for r in await CoverageWeek.all().values(*STORED_FIELDS)
    }


async def test_a_rebuild_gives_exactly_the_rows_incremental_recompute_gave(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    wei, qin = await login(client, world.doctor), await login(client, world.patrol_doctor, "p2")
    earlier = previous_week(last_week())
    await push_ok(client, wei, duty_days(earlier, 1, 2, 3) + duty_days(last_week(), 1, 2, 3, 4, 5))
    await push_ok(client, wei, duty_days(last_week(), 6, village=XINGUO))  # unassigned there
    await push_ok(
        client,
        qin,
        [
            visit(
                XINGUO,
                local(day_of(last_week(), 2), 8),
                local(day_of(last_week(), 2), 12),
                kind="patrol",
                device="p2",
            )
        ],
        device_id="p2",
    )
    await pull_all(client, qin)
    await recompute_ended_weeks(settings, force=True)
    incremental = await _rows()

    computed = await rebuild_all(settings)
    again = await _rows()
    await CoverageWeek.all().delete()
    await rebuild_all(settings)
    from_scratch = await _rows()

    assert computed == 4 * len(
        week_range(week_of(datetime(2026, 6, 1, tzinfo=TZ), "Asia/Shanghai"), this_week())
    )
    assert {k: again[k] for k in incremental} == incremental
    assert {k: from_scratch[k] for k in incremental} == incremental
    assert from_scratch == again
    assert await CoverageRevision.all().count() == 0
    assert incremental[(XINGUO, last_week())][STORED_FIELDS.index("flags")] == {"unassigned": 1}


async def test_the_rebuild_command_prints_what_it_did(
    db: None, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.recompute import rebuild_command

    await make_world()

    code = await rebuild_command(settings)

    assert code == 0
    assert "rebuilt" in capsys.readouterr().out
    assert await CoverageWeek.filter(week=this_week()).count() == 4


async def test_on_doctor_synced_does_nothing_when_the_doctor_synced_since_last_week_ended(
    db: None, settings: Settings
) -> None:
    world = await make_world()

    await on_doctor_synced(world.doctor.id, datetime.now(UTC), settings=settings)

    assert await CoverageWeek.all().count() == 0


# --- compliance -------------------------------------------------------------------------------


async def test_compliance_lists_each_doctor_and_assignment_of_the_township(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei, qin = await login(client, world.doctor), await login(client, world.patrol_doctor, "p2")
    await push_ok(client, wei, duty_days(last_week(), 1, 2, 3))
    week = last_week()
    # 覃医生's slots are Tue am and Fri pm: one patrol on schedule, one off it.
    await push_ok(
        client,
        qin,
        [
            visit(
                XINGUO,
                local(day_of(week, 2), 8),
                local(day_of(week, 2), 12),
                kind="patrol",
                device="p2",
            ),
            visit(
                XINGUO,
                local(day_of(week, 4), 8),
                local(day_of(week, 4), 12),
                kind="patrol",
                device="p2",
            ),
        ],
        device_id="p2",
    )
    headers = await login(client, world.supervisor, "pc-1")

    answer = await client.get("/api/compliance", params={"week": week}, headers=headers)

    assert answer.status_code == 200
    assert answer.json() == {
        "week": week,
        "rows": [
            {"doctor": "doc-1", "name": "韦医生", "assignment": "asg-1", "village": GUDING,
             "kind": "roster", "days": 3, "required": 5, "adherence": None, "flags": []},
            {"doctor": "doc-2", "name": "覃医生", "assignment": "asg-2", "village": XINGUO,
             "kind": "patrol", "days": 2, "required": 2, "adherence": 0.5,
             "flags": ["irregular_schedule"]},
        ],
    }  # fmt: skip
