"""POST /api/sync/push through the real app: every check of SPEC §5 and every status of SPEC §6."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.models import Change, Device, User, Visit, VisitVersion
from server.push import apply_push
from server.tokens import revoke_device
from tests.server.pushing import (
    GUDING,
    SHUIDONG,
    TZ,
    XINGUO,
    days_ago,
    edit,
    envelope,
    local,
    push,
    push_ok,
    visit,
)
from tests.world import login, make_world

# --- SPEC §5: rejected, with a per-record error -----------------------------------------------


def _long_notes() -> str:
    return "血" * 2001


REJECTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    ("not a UUID id", {"id": "古鼎-0001"}, "id", "invalid_uuid"),
    ("missing field", {"data": "drop:patients_seen"}, "data.patients_seen", "required"),
    ("mistyped field", {"data": {"patients_seen": "6"}}, "data.patients_seen", "invalid_type"),
    ("unknown village", {"data": {"village": "450225199999"}}, "data.village", "unknown_village"),
    ("unknown kind", {"data": {"kind": "clinic"}}, "data.kind", "invalid_kind"),
    (
        "ends before it starts",
        {"data": {"ended_at": local(days_ago(2), 7).isoformat()}},
        "data.ended_at",
        "ends_before_start",
    ),
    (
        "ends when it starts",
        {"data": {"ended_at": local(days_ago(2), 8).isoformat()}},
        "data.ended_at",
        "ends_before_start",
    ),
    (
        "lasts over 16 hours",
        {"data": {"ended_at": local(days_ago(1), 1).isoformat()}},
        "data.ended_at",
        "too_long",
    ),
    ("too many patients", {"data": {"patients_seen": 501}}, "data.patients_seen", "out_of_range"),
    ("negative patients", {"data": {"patients_seen": -1}}, "data.patients_seen", "out_of_range"),
    (
        "notes over 2000 characters",
        {"data": {"notes": _long_notes()}},
        "data.notes",
        "too_long_notes",
    ),
    (
        "latitude out of range",
        {"data": {"location": {"lat": 95.0, "lon": 109.25, "accuracy_m": 8}}},
        "data.location.lat",
        "out_of_range",
    ),
    (
        "unknown service tag",
        {"data": {"services": ["bp_check", "massage"]}},
        "data.services[1]",
        "unknown_service",
    ),
]


def _apply(record: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    record = {**record, "data": dict(record["data"])}
    for key, value in change.items():
        if key == "data" and value == "drop:patients_seen":
            del record["data"]["patients_seen"]
        elif key == "data":
            record["data"].update(value)
        else:
            record[key] = value
    return record


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [(c, f, code) for _, c, f, code in REJECTIONS],
    ids=[name for name, *_ in REJECTIONS],
)
async def test_a_malformed_visit_is_rejected_with_field_code_and_message(
    client: httpx.AsyncClient, change: dict[str, Any], field: str, code: str
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = _apply(visit(), change)

    [result] = await push_ok(client, headers, [record])

    assert result["status"] == "rejected"
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in result["errors"]
    ]
    assert all(isinstance(e["message"], str) and e["message"] for e in result["errors"])
    assert await Visit.all().count() == 0


async def test_a_visit_starting_more_than_ten_minutes_ahead_of_server_time_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    soon = datetime.now(TZ) + timedelta(minutes=5)
    later = datetime.now(TZ) + timedelta(minutes=20)

    results = await push_ok(
        client,
        headers,
        [visit(started_at=soon, ended_at=None), visit(started_at=later, ended_at=None)],
    )

    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"][0]["code"] == "in_future"


async def test_a_base_rev_the_server_never_issued_is_rejected(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    unknown = visit(base_rev=3)
    known = visit()
    await push_ok(client, headers, [known])

    results = await push_ok(client, headers, [unknown, edit(known, 2, notes="改过")])

    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert [r["errors"][0]["code"] for r in results] == ["unknown_base_rev"] * 2
    assert results[1]["rev"] == 1 and results[1]["record"]["data"]["notes"] != "改过"
    assert not await Visit.filter(id=unknown["id"]).exists()


async def test_a_doctor_cannot_overwrite_another_doctors_visit(client: httpx.AsyncClient) -> None:
    world = await make_world()
    wei = await login(client, world.doctor)
    qin = await login(client, world.patrol_doctor, device_id="phone-qin")
    record = visit()
    await push_ok(client, wei, [record])

    [result] = await push_ok(
        client, qin, [edit(record, 1, "phone-qin", notes="覃医生改的")], device_id="phone-qin"
    )

    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "other_doctor"
    assert result["record"] is None
    stored = await Visit.get(id=record["id"])
    assert stored.doctor_id == "doc-1" and stored.notes == record["data"]["notes"]  # type: ignore[attr-defined]


async def test_a_bare_delete_of_a_visit_the_server_never_had_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = {**visit(), "deleted": True, "data": None}

    [result] = await push_ok(client, headers, [record])

    assert result["status"] == "rejected"
    assert result["errors"][0]["field"] == "data"


# --- SPEC §6: statuses ---------------------------------------------------------------------------


async def test_a_new_visit_is_applied_as_rev_one_and_an_edit_as_rev_two(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = visit()

    [first] = await push_ok(client, headers, [record])
    [second] = await push_ok(client, headers, [edit(record, 1, patients_seen=9)])

    assert (first["status"], first["rev"]) == ("applied", 1)
    assert (second["status"], second["rev"]) == ("applied", 2)
    assert second["record"] == {
        "type": "visit",
        "id": record["id"],
        "rev": 2,
        "deleted": False,
        "hlc": second["record"]["hlc"],
        "data": {**record["data"], "patients_seen": 9, "doctor": "doc-1", "flags": [],
                 "dismissed": False, "dismiss_reason": None, "overlap_resolved": False},
    }
    stored = await Visit.get(id=record["id"])
    assert stored.local_date == days_ago(2)
    assert stored.week == days_ago(2).strftime("%G-W%V")


async def test_retrying_a_push_any_number_of_times_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    records = [visit(), visit(started_at=local(days_ago(3), 8))]
    first = await push_ok(client, headers, records)
    counts = (
        await Visit.all().count(),
        await VisitVersion.all().count(),
        await Change.all().count(),
    )
    before = await Visit.all().order_by("id").values()

    retries = [await push_ok(client, headers, records) for _ in range(3)]

    assert [r["status"] for r in first] == ["applied", "applied"]
    for results in retries:
        assert [r["status"] for r in results] == ["duplicate", "duplicate"]
        assert [r["rev"] for r in results] == [1, 1]
        assert [r["record"] for r in results] == [r["record"] for r in first]
    assert (
        await Visit.all().count(),
        await VisitVersion.all().count(),
        await Change.filter(type="visit").count(),
    ) == (counts[0], counts[1], 2)
    assert await Visit.all().order_by("id").values() == before


async def test_a_conflict_keeps_the_greater_hlc_and_the_loser_in_history(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    phone = await login(client, world.doctor, device_id="phone-1")
    tablet = await login(client, world.doctor, device_id="tablet-1")
    record = visit()
    await push_ok(client, phone, [record])
    older = edit(record, 1, "phone-1", notes="手机上改的")
    newer = edit(record, 1, "tablet-1", notes="平板上改的")  # made later: greater hlc

    [applied] = await push_ok(client, phone, [older])
    [conflict] = await push_ok(client, tablet, [newer], device_id="tablet-1")

    assert (applied["status"], applied["rev"]) == ("applied", 2)
    assert (conflict["status"], conflict["rev"]) == ("conflict", 3)
    assert conflict["record"]["data"]["notes"] == "平板上改的"
    assert conflict["record"]["hlc"] == newer["hlc"]
    loser = await VisitVersion.get(change_id=older["change_id"])
    assert loser.outcome == "conflict_loser" and loser.data["notes"] == "手机上改的"


async def test_a_stale_edit_with_a_smaller_hlc_loses_and_is_kept(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    phone = await login(client, world.doctor, device_id="phone-1")
    tablet = await login(client, world.doctor, device_id="tablet-1")
    record = visit()
    await push_ok(client, phone, [record])
    stale = edit(record, 1, "tablet-1", notes="平板上先改的")  # made first: smaller hlc
    fresh = edit(record, 1, "phone-1", notes="手机上后改的")
    await push_ok(client, phone, [fresh])

    [result] = await push_ok(client, tablet, [stale], device_id="tablet-1")

    assert (result["status"], result["rev"]) == ("conflict", 2)
    assert result["record"]["data"]["notes"] == "手机上后改的"
    assert (await Visit.get(id=record["id"])).notes == "手机上后改的"
    loser = await VisitVersion.get(change_id=stale["change_id"])
    assert (loser.outcome, loser.device_id, loser.data["notes"]) == (
        "conflict_loser",
        "tablet-1",
        "平板上先改的",
    )
    [again] = await push_ok(client, tablet, [stale], device_id="tablet-1")
    assert (again["status"], again["rev"]) == ("duplicate", 2)


async def test_one_bad_record_never_blocks_the_rest_of_the_batch(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    good_1 = visit(started_at=local(days_ago(2), 8))
    bad = visit(started_at=local(days_ago(3), 8), patients_seen=900)
    good_2 = visit(started_at=local(days_ago(4), 8))

    results = await push_ok(client, headers, [good_1, "不是记录", bad, good_2])

    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert [r["id"] for r in results] == [good_1["id"], None, bad["id"], good_2["id"]]
    assert {v.id for v in await Visit.all()} == {good_1["id"], good_2["id"]}


async def test_a_delete_is_kept_as_a_tombstone(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = visit()
    await push_ok(client, headers, [record])

    [result] = await push_ok(client, headers, [{**edit(record, 1), "deleted": True}])

    assert (result["status"], result["rev"]) == ("applied", 2)
    assert result["record"]["deleted"] is True
    stored = await Visit.get(id=record["id"])
    assert stored.deleted and stored.rev == 2


# --- the envelope ---------------------------------------------------------------------------------


async def test_a_push_of_501_records_is_413(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    records = [visit(started_at=local(days_ago(2), 8) - timedelta(hours=i)) for i in range(501)]

    response = await push(client, headers, records)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert await Visit.all().count() == 0


async def test_a_push_of_500_records_goes_in(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    start = local(days_ago(60), 8)
    records = [
        visit(
            started_at=start + timedelta(hours=2 * i), ended_at=start + timedelta(hours=2 * i + 1)
        )
        for i in range(500)
    ]

    results = await push_ok(client, headers, records)

    assert [r["status"] for r in results] == ["applied"] * 500
    assert await Visit.all().count() == 500


async def test_a_push_body_over_one_mebibyte_is_413(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    records = [
        visit(started_at=local(days_ago(2), 8) - timedelta(days=i), notes="测" * 2000)
        for i in range(200)
    ]  # about 1.2 MB of UTF-8

    response = await push(client, headers, records)

    assert response.status_code == 413
    assert await Visit.all().count() == 0


async def test_a_supervisor_pushing_gets_403(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor, device_id="pc-mo")

    response = await push(client, headers, [visit()], device_id="pc-mo")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_a_revoked_phone_gets_401_token_revoked(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    await revoke_device(await Device.get(device_id="phone-1"))

    response = await push(client, headers, [visit()])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device_id": "phone-1", "device_time": "昨天早上", "records": []}, "device_time"),
        (
            {"device_id": "phone-1", "device_time": "2026-11-22T08:00:00", "records": []},
            "device_time",
        ),
        (
            {"device_id": "phone-2", "device_time": "2026-11-22T08:00:00+08:00", "records": []},
            "device_id",
        ),
        ({"device_time": "2026-11-22T08:00:00+08:00", "records": []}, "device_id"),
        (
            {"device_id": "phone-1", "device_time": "2026-11-22T08:00:00+08:00", "records": {}},
            "records",
        ),
    ],
)
async def test_a_malformed_envelope_is_422(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    response = await client.post("/api/sync/push", json=body, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field


async def test_the_device_status_and_sync_times_are_kept(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    status = {"app_version": "1.4.2", "outbox": 17, "storage_used_mb": 3.5, "storage_quota_mb": 512}

    await push_ok(client, headers, [visit()], device=status)

    device = await Device.get(device_id="phone-1")
    assert (device.app_version, device.outbox, device.storage_used_mb, device.storage_quota_mb) == (
        "1.4.2",
        17,
        3.5,
        512.0,
    )
    assert device.last_push_at is not None and device.status_at is not None
    assert (await User.get(id="doc-1")).last_sync_at == device.last_push_at


# --- SPEC §5: kept and flagged ---------------------------------------------------------------------


async def test_a_visit_without_a_matching_assignment_is_flagged_unassigned(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    results = await push_ok(
        client,
        headers,
        [
            visit(GUDING, local(days_ago(2), 8)),
            visit(SHUIDONG, local(days_ago(3), 8)),  # nobody is assigned at 水东村
            visit(GUDING, local(days_ago(4), 8), kind="patrol"),  # roster assignment, patrol visit
        ],
    )

    assert [r["status"] for r in results] == ["applied"] * 3
    assert [r["flags"] for r in results] == [[], ["unassigned"], ["unassigned"]]


async def test_overlapping_visits_at_two_villages_are_both_flagged_and_cleared_on_delete(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    day = days_ago(2)
    guding = visit(GUDING, local(day, 8), local(day, 17))
    await push_ok(client, headers, [guding])

    [xinguo] = await push_ok(client, headers, [visit(XINGUO, local(day, 14), local(day, 18))])

    assert "overlap" in xinguo["flags"]
    assert "overlap" in (await Visit.get(id=guding["id"])).flags
    partner_changes = await Change.filter(type="visit", entity_id=guding["id"]).count()
    assert partner_changes == 2  # its own push and the flag it got from the other one

    await push_ok(
        client,
        headers,
        [
            {
                **edit(
                    xinguo["record"]
                    | {
                        "data": {
                            k: v
                            for k, v in xinguo["record"]["data"].items()
                            if k not in ("flags", "doctor")
                        }
                    },
                    1,
                ),
                "deleted": True,
            }
        ],
    )

    assert "overlap" not in (await Visit.get(id=guding["id"])).flags


async def test_overlap_is_cleared_on_both_when_one_visit_moves_away(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    day = days_ago(2)
    guding = visit(GUDING, local(day, 8), local(day, 12))
    xinguo = visit(XINGUO, local(day, 11), local(day, 15))
    results = await push_ok(client, headers, [guding, xinguo])
    assert [r["flags"] for r in results] == [["overlap"], ["unassigned", "overlap"]]

    [moved] = await push_ok(
        client, headers, [edit(xinguo, 1, started_at=local(day, 13).isoformat())]
    )

    assert moved["flags"] == ["unassigned"]
    assert (await Visit.get(id=guding["id"])).flags == []


async def test_visits_at_the_same_village_never_overlap(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    day = days_ago(2)

    results = await push_ok(
        client,
        headers,
        [
            visit(GUDING, local(day, 8), local(day, 12)),
            visit(GUDING, local(day, 11), local(day, 15)),
        ],
    )

    assert [r["flags"] for r in results] == [[], []]


async def test_a_check_in_more_than_3_km_from_the_village_is_flagged(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    near = {"lat": 25.0700, "lon": 109.2570, "accuracy_m": 12.0}  # ~0.2 km from 古鼎村
    far = {"lat": 25.1200, "lon": 109.2563, "accuracy_m": 12.0}  # ~5.8 km north

    results = await push_ok(
        client,
        headers,
        [
            visit(started_at=local(days_ago(2), 8), location=near),
            visit(started_at=local(days_ago(3), 8), location=far),
        ],
    )

    assert [r["flags"] for r in results] == [[], ["far_from_village"]]


async def test_a_phone_clock_more_than_ten_minutes_off_flags_clock_skew(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    fast = (datetime.now(TZ) + timedelta(minutes=25)).isoformat()
    close = (datetime.now(TZ) + timedelta(minutes=3)).isoformat()

    skewed = await client.post(
        "/api/sync/push",
        headers=headers,
        json={**envelope([visit(started_at=local(days_ago(2), 8))]), "device_time": fast},
    )
    fine = await client.post(
        "/api/sync/push",
        headers=headers,
        json={**envelope([visit(started_at=local(days_ago(3), 8))]), "device_time": close},
    )

    assert skewed.json()["results"][0]["flags"] == ["clock_skew"]
    assert fine.json()["results"][0]["flags"] == []


async def test_a_visit_first_received_over_seven_days_after_its_week_is_flagged_late(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)

    results = await push_ok(
        client,
        headers,
        [
            visit(started_at=local(days_ago(30), 8)),
            visit(started_at=local(days_ago(2), 8)),
        ],
    )

    assert [r["flags"] for r in results] == [["late"], []]


async def test_late_is_judged_by_when_the_visit_was_first_received(
    client: httpx.AsyncClient, settings: Any
) -> None:
    world = await make_world()
    await login(client, world.doctor)
    device = await Device.get(device_id="phone-1")
    doctor = await User.get(id="doc-1")
    record = visit(started_at=local(days_ago(2), 8))
    body = envelope([record])
    now = datetime.now(UTC)
    await apply_push(doctor, device, body, settings=settings, now=now)

    later = now + timedelta(days=30)
    result = await apply_push(
        doctor,
        device,
        envelope([edit(record, 1, notes="一个月后补充")]) | {"device_time": later.isoformat()},
        settings=settings,
        now=later,
    )

    assert result["results"][0]["status"] == "applied"
    assert result["results"][0]["flags"] == []
    stored = await Visit.get(id=record["id"])
    assert abs(stored.first_received_at - now) < timedelta(seconds=1)


async def test_an_open_visit_is_flagged_after_its_day_and_cleared_once_closed(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    forgotten = visit(started_at=local(days_ago(2), 8), ended_at=None)
    today = visit(started_at=datetime.now(TZ) - timedelta(minutes=30), ended_at=None)

    results = await push_ok(client, headers, [forgotten, today])
    [closed] = await push_ok(
        client, headers, [edit(forgotten, 1, ended_at=local(days_ago(2), 17).isoformat())]
    )

    assert [r["flags"] for r in results] == [["open"], []]
    assert closed["flags"] == []


async def test_every_result_answers_in_order_with_the_contract_fields(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    records = [visit(started_at=local(days_ago(2), 8) - timedelta(days=i)) for i in range(5)]
    records.insert(2, {**visit(), "id": str(uuid.uuid4()).upper()})

    response = await push(client, headers, records)

    body = response.json()
    assert datetime.fromisoformat(body["server_time"]).tzinfo is not None
    assert [r["id"] for r in body["results"]] == [r["id"].lower() for r in records]
    for result in body["results"]:
        assert set(result) == {"id", "status", "rev", "flags", "errors", "record"}
