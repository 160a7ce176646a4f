"""GET /api/visits/{id} (SPEC §7): the visit with every earlier version and conflict loser."""

from __future__ import annotations

import uuid

import httpx

from server.models import County, Township
from tests.server.pushing import edit, pull_all, push_ok, visit
from tests.world import login, make_user, make_world


async def test_history_holds_every_earlier_version_with_clock_device_and_time(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    phone = await login(client, world.doctor)
    record = visit(notes="上午到古鼎村")
    second = edit(record, 1, notes="上午到古鼎村，测血压 6 人")
    third = edit(second, 2, notes="全天在古鼎村卫生室")
    for change in (record, second, third):
        await push_ok(client, phone, [change])

    response = await client.get(f"/api/visits/{record['id']}", headers=phone)

    body = response.json()
    assert response.status_code == 200
    assert (body["rev"], body["data"]["notes"]) == (3, "全天在古鼎村卫生室")
    assert [
        (h["rev"], h["hlc"], h["device"], h["outcome"], h["data"]["notes"]) for h in body["history"]
    ] == [
        (1, record["hlc"], "phone-1", "version", "上午到古鼎村"),
        (2, second["hlc"], "phone-1", "version", "上午到古鼎村，测血压 6 人"),
    ]
    assert all(h["received_at"].endswith("+08:00") for h in body["history"])
    changes, _ = await pull_all(client, phone)
    pulled = [c for c in changes if c["id"] == record["id"]][-1]
    assert {k: v for k, v in body.items() if k != "history"} == pulled


async def test_history_keeps_conflict_losers_of_either_side(client: httpx.AsyncClient) -> None:
    world = await make_world()
    phone = await login(client, world.doctor, device_id="phone-1")
    tablet = await login(client, world.doctor, device_id="tablet-1")
    record = visit()
    await push_ok(client, phone, [record])
    early = edit(record, 1, "tablet-1", notes="平板：下午出诊")
    middle = edit(record, 1, "phone-1", notes="手机：全天坐诊")
    late = edit(record, 1, "tablet-1", notes="平板：最终记录")
    await push_ok(client, phone, [middle])  # applied, rev 2
    await push_ok(client, tablet, [early], device_id="tablet-1")  # conflict, loses
    await push_ok(client, tablet, [late], device_id="tablet-1")  # conflict, wins: rev 3

    body = (await client.get(f"/api/visits/{record['id']}", headers=phone)).json()

    assert (body["rev"], body["data"]["notes"]) == (3, "平板：最终记录")
    history = {h["data"]["notes"]: (h["outcome"], h["device"]) for h in body["history"]}
    assert history == {
        record["data"]["notes"]: ("version", "phone-1"),
        "手机：全天坐诊": ("conflict_loser", "phone-1"),
        "平板：下午出诊": ("conflict_loser", "tablet-1"),
    }


async def test_the_doctor_supervisor_and_county_admin_may_read_it_and_nobody_else(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    doctor = await login(client, world.doctor)
    record = visit()
    await push_ok(client, doctor, [record])
    other_county = await County.create(code="450226", name="三江侗族自治县")
    await Township.create(code="450226100", county=other_county, name="古宜镇")
    stranger = await make_user("admin-2", "杨局长", "13800000009", "admin", county=other_county)
    everywhere = await make_user("admin-0", "区卫健委", "13800000010", "admin")

    statuses = {}
    for user in (
        world.doctor,
        world.supervisor,
        world.admin,
        everywhere,
        world.patrol_doctor,
        world.other_supervisor,
        world.other_doctor,
        stranger,
    ):
        headers = await login(client, user, device_id=f"dev-{user.id}")
        statuses[user.name] = (
            await client.get(f"/api/visits/{record['id']}", headers=headers)
        ).status_code

    assert statuses == {
        "韦医生": 200,
        "莫院长": 200,
        "蓝局长": 200,
        "区卫健委": 200,
        "覃医生": 403,
        "贾院长": 403,
        "梁医生": 403,
        "杨局长": 403,
    }


async def test_an_unknown_visit_is_404(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    response = await client.get(f"/api/visits/{uuid.uuid4()}", headers=headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
