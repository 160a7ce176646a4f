"""A push writes its rows with raw SQL (server/rawsql.py): they must read back through the ORM as
the ORM would have written them, and be stored in the very same form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from tortoise import connections

from server.models import Change, Visit, VisitVersion
from tests.server.pushing import GUDING, TZ, days_ago, local, push_ok, visit
from tests.world import login, make_world


async def _raw(table: str, key: str, value: Any) -> dict[str, Any]:
    conn = connections.get("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    _, rows = await conn.execute_query(f'SELECT * FROM "{table}" WHERE {key} = {mark}', [value])
    assert len(rows) == 1
    return dict(rows[0])


async def test_a_pushed_visit_is_stored_exactly_as_the_orm_stores_it(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = visit(
        GUDING,
        local(days_ago(3), 8, 5),
        local(days_ago(3), 17, 30),
        notes="上午门诊，下午高血压随访",
        location={"lat": 25.0681, "lon": 109.2563, "accuracy_m": 20},
    )

    [result] = await push_ok(client, headers, [record])
    pushed = await _raw("visit", "id", record["id"])
    stored = await Visit.get(id=record["id"])
    await stored.save()  # the ORM writes every column again, in its own form
    resaved = await _raw("visit", "id", record["id"])

    assert result["status"] == "applied"
    assert pushed == resaved
    assert stored.started_at == local(days_ago(3), 8, 5)
    assert stored.started_at.utcoffset() is not None
    assert stored.local_date == days_ago(3)
    assert stored.notes == "上午门诊，下午高血压随访"
    assert stored.services == record["data"]["services"]
    assert stored.location == {"lat": 25.0681, "lon": 109.2563, "accuracy_m": 20}
    assert stored.deleted is False and stored.dismissed is False


async def test_a_pushed_version_and_its_change_row_are_stored_as_the_orm_stores_them(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    record = visit(GUDING, local(days_ago(2), 8), local(days_ago(2), 12), notes="入户随访")
    before = datetime.now(UTC)

    await push_ok(client, headers, [record])
    version_raw = await _raw("visit_version", "change_id", record["change_id"])
    version = await VisitVersion.get(change_id=record["change_id"])
    await version.save()
    change = await Change.get(type="visit", entity_id=record["id"])
    change_raw = await _raw("change", "seq", change.seq)
    await change.save()

    assert version_raw == await _raw("visit_version", "change_id", record["change_id"])
    assert change_raw == await _raw("change", "seq", change.seq)
    assert version.data["notes"] == "入户随访"
    assert version.data["started_at"] == local(days_ago(2), 8).astimezone(TZ).isoformat()
    assert version.outcome == "version" and version.deleted is False
    assert change.user_id == world.doctor.id and change.township == "450225100"
    assert before <= change.created_at <= datetime.now(UTC)
