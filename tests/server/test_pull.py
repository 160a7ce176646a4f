"""GET /api/sync/pull through the real app: cursor, limit, every type, scope and tombstones."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.changes import ChangeNote, append_changes
from server.models import County, Device, Exemption, Reminder, Township, User, Village
from server.pull import encode_cursor
from tests.server.pushing import (
    GUDING,
    HEMU,
    TZ,
    XINGUO,
    days_ago,
    edit,
    local,
    pull_all,
    push_ok,
    visit,
)
from tests.world import World, login, make_user, make_world


async def _announce_the_geography(world: World) -> None:
    """What an import appends to the change log (the importer is not under test here)."""
    notes = [
        ChangeNote("township", t.code, township=t.code, county="450225")
        for t in (world.township, world.other_township)
    ]
    notes += [
        ChangeNote("village", v.code, township=v.township_id, county="450225")  # type: ignore[attr-defined]
        for v in [*world.villages, world.other_village]
    ]
    notes += [
        ChangeNote("assignment", "asg-1", township="450225100", county="450225", user_id="doc-1"),
        ChangeNote("assignment", "asg-2", township="450225100", county="450225", user_id="doc-2"),
        ChangeNote("assignment", "asg-3", township="450225101", county="450225", user_id="doc-3"),
    ]
    await append_changes(notes)


def _ids(changes: list[dict[str, Any]], kind: str) -> set[str]:
    return {c["id"] for c in changes if c["type"] == kind}


async def test_pages_follow_the_cursor_until_more_is_false(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    records = [visit(started_at=local(days_ago(60 + i), 8)) for i in range(7)]
    await push_ok(client, headers, records)
    everything, _ = await pull_all(client, headers)

    pages, cursor = [], ""
    while True:
        response = await client.get(
            "/api/sync/pull", params={"cursor": cursor, "limit": 3}, headers=headers
        )
        page = response.json()
        pages.append(page)
        cursor = page["cursor"]
        if not page["more"]:
            break

    assert [len(p["changes"]) for p in pages[:-1]] == [3] * (len(pages) - 1)
    assert [p["more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert [c for p in pages for c in p["changes"]] == everything
    assert {r["id"] for r in records} <= _ids(everything, "visit")
    again = await client.get("/api/sync/pull", params={"cursor": cursor}, headers=headers)
    assert again.json() == {"changes": [], "cursor": cursor, "more": False}


async def test_a_pull_after_a_push_returns_only_what_changed_since(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    first = visit(started_at=local(days_ago(60), 8))
    await push_ok(client, headers, [first])
    _, cursor = await pull_all(client, headers)
    second = visit(started_at=local(days_ago(61), 8))
    await push_ok(client, headers, [second])

    changes, _ = await pull_all(client, headers, cursor=cursor)

    assert _ids(changes, "visit") == {second["id"]}


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "十", "abc", "2.5"])
async def test_a_limit_outside_1_to_1000_is_422(client: httpx.AsyncClient, limit: str) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    response = await client.get("/api/sync/pull", params={"limit": limit}, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "limit"


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "not-a-cursor",
        base64.urlsafe_b64encode(b'{"seq": -4, "v": 1}').decode(),
        base64.urlsafe_b64encode(b'{"seq": "7", "v": 1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ],
)
async def test_a_malformed_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    response = await client.get("/api/sync/pull", params={"cursor": cursor}, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "cursor"


async def test_limits_at_the_edges_are_accepted(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    answers = [
        await client.get("/api/sync/pull", params={"limit": n}, headers=headers) for n in (1, 1000)
    ]

    assert [a.status_code for a in answers] == [200, 200]


async def test_every_type_reaches_the_admin_with_its_fields(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await _announce_the_geography(world)
    doctor = await login(client, world.doctor)
    this_week = datetime.now(TZ).strftime("%G-W%V")
    await Exemption.create(village_id=XINGUO, week=this_week, reason="台风停诊")
    await append_changes(
        [ChangeNote("exemption", f"{XINGUO}:{this_week}", township="450225100", county="450225")]
    )
    reminder = await Reminder.create(
        id=str(uuid.uuid4()),
        user=world.admin,
        week=this_week,
        kind="weekly_admin",
        title="本周覆盖情况",
        body="融水镇 2 个村未覆盖",
        created_at=datetime.now(UTC),
    )
    await append_changes([ChangeNote("reminder", reminder.id, user_id="admin-1")])
    record = visit()
    await push_ok(client, doctor, [record])
    admin = await login(client, world.admin, device_id="pc-lan")

    changes, _ = await pull_all(client, admin)

    latest = {(c["type"], c["id"]): c for c in changes}
    assert {c["type"] for c in changes} == {
        "township",
        "village",
        "assignment",
        "exemption",
        "visit",
        "coverage",
        "reminder",
    }
    assert latest[("township", "450225100")]["data"] == {
        "code": "450225100",
        "county": "450225",
        "name": "融水镇",
    }
    assert latest[("village", GUDING)]["data"] == {
        "code": GUDING,
        "township": "450225100",
        "name": "古鼎村",
        "population": 1830,
        "needs_coverage": True,
        "lat": 25.0681,
        "lon": 109.2563,
    }
    assert latest[("assignment", "asg-2")]["data"] == {
        "id": "asg-2",
        "doctor": "doc-2",
        "village": XINGUO,
        "kind": "patrol",
        "start": "2026-06-01",
        "end": None,
        "slots": [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}],
    }
    assert latest[("exemption", f"{XINGUO}:{this_week}")]["data"] == {
        "village": XINGUO,
        "week": this_week,
        "reason": "台风停诊",
    }
    assert latest[("visit", record["id"])]["data"]["notes"] == record["data"]["notes"]
    assert latest[("visit", record["id"])]["rev"] == 1
    coverage = next(c for c in changes if c["type"] == "coverage")
    assert set(coverage["data"]) == {
        "village",
        "name",
        "week",
        "mode",
        "status",
        "provisional",
        "duty_days",
        "duty_required",
        "patrol_days",
        "patrol_required",
        "flags",
    }
    assert latest[("reminder", reminder.id)]["data"] | {"created_at": None} == {
        "id": reminder.id,
        "kind": "weekly_admin",
        "week": this_week,
        "title": "本周覆盖情况",
        "body": "融水镇 2 个村未覆盖",
        "url": "/app/",
        "created_at": None,
        "read": False,
    }
    non_visits = [c for c in changes if c["type"] != "visit"]
    assert all(isinstance(c["rev"], int) and c["rev"] > 0 for c in non_visits)


async def test_a_doctor_sees_their_own_visits_from_every_device_and_nobody_elses(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await _announce_the_geography(world)
    phone = await login(client, world.doctor, device_id="phone-1")
    tablet = await login(client, world.doctor, device_id="tablet-1")
    qin = await login(client, world.patrol_doctor, device_id="phone-qin")
    liang = await login(client, world.other_doctor, device_id="phone-liang")
    from_phone = visit(started_at=local(days_ago(2), 8))
    from_tablet = visit(started_at=local(days_ago(3), 8), device="tablet-1")
    qins = visit(XINGUO, local(days_ago(2), 8), kind="patrol", device="phone-qin")
    liangs = visit(HEMU, local(days_ago(2), 8), device="phone-liang")
    await push_ok(client, phone, [from_phone])
    await push_ok(client, tablet, [from_tablet], device_id="tablet-1")
    await push_ok(client, qin, [qins], device_id="phone-qin")
    await push_ok(client, liang, [liangs], device_id="phone-liang")

    changes, _ = await pull_all(client, phone)

    assert _ids(changes, "visit") == {from_phone["id"], from_tablet["id"]}
    assert _ids(changes, "assignment") == {"asg-1"}
    assert _ids(changes, "village") == {v.code for v in world.villages}
    assert _ids(changes, "township") == {"450225100"}
    assert {c["id"].split(":")[0] for c in changes if c["type"] == "coverage"} <= {
        v.code for v in world.villages
    }


async def test_a_doctor_gets_coverage_of_this_and_last_week_only(client: httpx.AsyncClient) -> None:
    world = await make_world()
    doctor = await login(client, world.doctor)
    supervisor = await login(client, world.supervisor, device_id="pc-mo")
    now = datetime.now(TZ)
    await push_ok(
        client,
        doctor,
        [
            visit(started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1)),
            visit(started_at=local(days_ago(40), 8)),
        ],
    )
    recent = {now.strftime("%G-W%V"), (now - timedelta(days=7)).strftime("%G-W%V")}
    old_week = days_ago(40).strftime("%G-W%V")
    # The coverage engine notes recent weeks only; a rebuild or a correction may note an old one.
    await append_changes(
        [ChangeNote("coverage", f"{GUDING}:{old_week}", township="450225100", county="450225")]
    )

    doctor_sees, _ = await pull_all(client, doctor)
    supervisor_sees, _ = await pull_all(client, supervisor)

    doctor_weeks = {c["data"]["week"] for c in doctor_sees if c["type"] == "coverage"}
    supervisor_weeks = {c["data"]["week"] for c in supervisor_sees if c["type"] == "coverage"}
    assert doctor_weeks and doctor_weeks <= recent
    assert old_week in supervisor_weeks


async def test_supervisors_see_their_township_and_admins_their_county(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    liang = await login(client, world.other_doctor, device_id="phone-liang")
    ours = visit(GUDING, local(days_ago(2), 8))
    theirs = visit(HEMU, local(days_ago(2), 8), device="phone-liang")
    await push_ok(client, wei, [ours])
    await push_ok(client, liang, [theirs], device_id="phone-liang")
    other_county = await County.create(code="450226", name="三江侗族自治县")
    await Township.create(code="450226100", county=other_county, name="古宜镇")
    stranger = await make_user("admin-2", "杨局长", "13800000009", "admin", county=other_county)

    seen = {}
    for user, device in [
        (world.supervisor, "pc-mo"),
        (world.other_supervisor, "pc-jia"),
        (world.admin, "pc-lan"),
        (stranger, "pc-yang"),
    ]:
        changes, _ = await pull_all(client, await login(client, user, device_id=device))
        seen[user.id] = _ids(changes, "visit")

    assert seen["sup-1"] == {ours["id"]}
    assert seen["sup-2"] == {theirs["id"]}
    assert seen["admin-1"] == {ours["id"], theirs["id"]}
    assert seen["admin-2"] == set()


async def test_nobody_gets_another_users_reminders(client: httpx.AsyncClient) -> None:
    world = await make_world()
    week = datetime.now(TZ).strftime("%G-W%V")
    notes = []
    for user in (world.doctor, world.patrol_doctor, world.supervisor):
        r = await Reminder.create(
            id=str(uuid.uuid4()),
            user=user,
            week=week,
            kind="weekly",
            title="上周结果",
            body="古鼎村：5/5 天",
            created_at=datetime.now(UTC),
        )
        notes.append(ChangeNote("reminder", r.id, township="450225100", user_id=user.id))
    await append_changes(notes)

    got = {}
    for user, device in [(world.doctor, "p1"), (world.supervisor, "p2"), (world.admin, "p3")]:
        changes, _ = await pull_all(client, await login(client, user, device_id=device))
        got[user.id] = {c["id"] for c in changes if c["type"] == "reminder"}

    assert got == {"doc-1": {notes[0].entity_id}, "sup-1": {notes[2].entity_id}, "admin-1": set()}


async def test_deletes_reach_pullers_as_tombstones(client: httpx.AsyncClient) -> None:
    world = await make_world()
    doctor = await login(client, world.doctor)
    supervisor = await login(client, world.supervisor, device_id="pc-mo")
    record = visit()
    await push_ok(client, doctor, [record])
    week = datetime.now(TZ).strftime("%G-W%V")
    exemption = await Exemption.create(village_id=GUDING, week=week, reason="春节")
    await append_changes([ChangeNote("exemption", f"{GUDING}:{week}", township="450225100")])
    _, cursor = await pull_all(client, supervisor)

    await push_ok(client, doctor, [{**edit(record, 1), "deleted": True}])
    await exemption.delete()
    await append_changes([ChangeNote("exemption", f"{GUDING}:{week}", township="450225100")])
    changes, _ = await pull_all(client, supervisor, cursor=cursor)

    latest = {(c["type"], c["id"]): c for c in changes}
    assert latest[("visit", record["id"])]["deleted"] is True
    assert latest[("visit", record["id"])]["rev"] == 2
    assert latest[("exemption", f"{GUDING}:{week}")]["deleted"] is True


async def test_a_visit_moved_to_another_township_leaves_its_old_supervisors_pull(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    doctor = await login(client, world.doctor)
    supervisor = await login(client, world.supervisor, device_id="pc-mo")
    other = await login(client, world.other_supervisor, device_id="pc-jia")
    record = visit(GUDING)
    await push_ok(client, doctor, [record])
    _, cursor = await pull_all(client, supervisor)

    await push_ok(client, doctor, [edit(record, 1, village=HEMU)])
    old_side, _ = await pull_all(client, supervisor, cursor=cursor)
    new_side, _ = await pull_all(client, other)

    gone = [c for c in old_side if c["type"] == "visit"]
    assert gone == [{"type": "visit", "id": record["id"], "rev": 2, "deleted": True, "data": None}]
    arrived = [c for c in new_side if c["type"] == "visit"]
    assert [(c["deleted"], c["data"]["village"]) for c in arrived] == [(False, HEMU)]


async def test_only_a_finished_pull_counts_as_a_sync(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    await push_ok(client, headers, [visit(started_at=local(days_ago(60 + i), 8)) for i in range(3)])
    await User.filter(id="doc-1").update(last_sync_at=None)

    first = await client.get("/api/sync/pull", params={"limit": 1}, headers=headers)
    device = await Device.get(device_id="phone-1")
    assert first.json()["more"] is True
    assert device.last_pull_at is None
    assert (await User.get(id="doc-1")).last_sync_at is None

    await pull_all(client, headers, limit=1, cursor=first.json()["cursor"])

    device = await Device.get(device_id="phone-1")
    assert device.last_pull_at is not None
    assert (await User.get(id="doc-1")).last_sync_at == device.last_pull_at


async def test_the_cursor_is_opaque_but_stable(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    response = await client.get(
        "/api/sync/pull", params={"cursor": encode_cursor(0)}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["cursor"] == encode_cursor(0)
    assert await Village.filter(code=GUDING).exists()
