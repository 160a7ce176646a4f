"""Building pushed visit records and pushing them through the real API, for the sync tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from sync.hlc import format_hlc

TZ = ZoneInfo("Asia/Shanghai")
GUDING = "450225100201"  # 古鼎村, 韦医生's rostered village (asg-1)
XINGUO = "450225100202"  # 新国村, 覃医生's patrol village (asg-2)
SHUIDONG = "450225100203"  # 水东村, nobody assigned
HEMU = "450225101201"  # 和睦村, the other township

_clock = [1_790_000_000_000]


def next_hlc(device: str = "phone-1") -> str:
    _clock[0] += 1
    return format_hlc(_clock[0], 0, device)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def days_ago(n: int) -> date:
    return datetime.now(TZ).date() - timedelta(days=n)


def visit(
    village: str = GUDING,
    started_at: datetime | None = None,
    ended_at: datetime | None | str = "auto",
    *,
    id: str | None = None,
    change_id: str | None = None,
    base_rev: int = 0,
    hlc: str | None = None,
    deleted: bool = False,
    device: str = "phone-1",
    kind: str = "duty",
    **data: Any,
) -> dict[str, Any]:
    """A pushed visit record; by default a full duty day (08:00–17:00) two days ago at 古鼎村."""
    started_at = started_at or local(days_ago(2), 8)
    if ended_at == "auto":
        ended_at = started_at + timedelta(hours=9)
    payload: dict[str, Any] = {
        "village": village,
        "kind": kind,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat() if isinstance(ended_at, datetime) else None,
        "patients_seen": 6,
        "services": ["bp_check", "consultation"],
        "notes": "上午测血压，下午随访高血压病人",
        "location": None,
    }
    payload.update(data)
    return {
        "type": "visit",
        "id": id or str(uuid.uuid4()),
        "change_id": change_id or str(uuid.uuid4()),
        "base_rev": base_rev,
        "hlc": hlc or next_hlc(device),
        "deleted": deleted,
        "data": payload,
    }


def edit(
    record: dict[str, Any], base_rev: int, device: str = "phone-1", **data: Any
) -> dict[str, Any]:
    """A new edit of `record` made from revision `base_rev`."""
    changed = {
        **record,
        "change_id": str(uuid.uuid4()),
        "base_rev": base_rev,
        "hlc": next_hlc(device),
        "data": {**record["data"], **data},
    }
    return changed


def envelope(
    records: list[dict[str, Any]], device_id: str = "phone-1", **extra: Any
) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "device_time": datetime.now(TZ).isoformat(),
        "records": records,
        **extra,
    }


async def push(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    records: list[dict[str, Any]],
    device_id: str = "phone-1",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/api/sync/push", json=envelope(records, device_id, **extra), headers=headers
    )


async def push_ok(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    records: list[dict[str, Any]],
    device_id: str = "phone-1",
    **extra: Any,
) -> list[dict[str, Any]]:
    response = await push(client, headers, records, device_id, **extra)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def pull_all(
    client: httpx.AsyncClient, headers: dict[str, str], limit: int = 500, cursor: str = ""
) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        response = await client.get(
            "/api/sync/pull", params={"cursor": cursor, "limit": limit}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor
