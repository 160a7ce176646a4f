"""Convergence through the real server (issue 4): several phones of one doctor edit, delete,
retry and lose answers in any interleaving; the server ends with each visit's greatest-hlc
version, keeps every version it accepted, and every phone ends with the server's state.

Each phone follows the app's outbox rules (pwa/outbox.js): edits of one record coalesce into one
entry with the latest data, a fresh change_id and the EARLIEST base_rev; an entry leaves only
when a result acknowledges its change_id.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from server.app import create_app
from server.models import User, Visit, VisitVersion
from server.settings import Settings
from server.tokens import issue_token
from sync.hlc import HybridClock
from tests.conftest import empty_all_tables
from tests.server.pushing import GUDING, TZ, days_ago, local
from tests.world import make_world

DEVICES = ("phone-a", "phone-b", "phone-c")
RECORDS = ("5f0c6a62-0c1e-4a53-9a8e-2c7c1f6d0a01", "5f0c6a62-0c1e-4a53-9a8e-2c7c1f6d0a02")
NOTES = ("上午坐诊", "测血压 6 人", "随访高血压", "下午出诊", "健康教育讲座")


@dataclass
class Phone:
    name: str
    headers: dict[str, str]
    clock: HybridClock
    replica: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → pulled record
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → coalesced entry
    cursor: str = ""
    sent: list[list[dict[str, Any]]] = field(default_factory=list)  # every batch it pushed


class World:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.wall = 1_790_000_000_000
        self.phones: dict[str, Phone] = {}
        self.accepted: set[str] = set()  # change_ids the server answered applied or conflict
        self.pushed: set[str] = set()  # change_ids that left a phone

    def tick(self) -> int:
        return self.wall

    def edit(self, phone: Phone, record_id: str, note: str, deleted: bool) -> None:
        base = phone.replica.get(record_id)
        waiting = phone.outbox.get(record_id)
        if base is None and waiting is None:
            return  # ids are made on the phone: another phone must pull a visit before editing it
        if base is not None and base["deleted"] and waiting is None:
            return  # the app shows no deleted visit to edit
        day = days_ago(3)
        data = {
            "village": GUDING,
            "kind": "duty",
            "started_at": local(day, 8).isoformat(),
            "ended_at": local(day, 17).isoformat(),
            "patients_seen": len(note),
            "services": ["consultation"],
            "notes": note,
            "location": None,
        }
        phone.outbox[record_id] = {
            "type": "visit",
            "id": record_id,
            "change_id": str(uuid.uuid4()),
            "base_rev": waiting["base_rev"] if waiting else (base["rev"] if base else 0),
            "hlc": phone.clock.tick(),
            "deleted": deleted,
            "data": data,
        }

    async def push(self, phone: Phone, answer_lost: bool = False) -> None:
        batch = list(phone.outbox.values())
        if not batch:
            return
        await self._send(phone, batch, answer_lost)

    async def retry_old(self, phone: Phone, index: int) -> None:
        if phone.sent:
            await self._send(phone, phone.sent[index % len(phone.sent)], answer_lost=False)

    async def _send(self, phone: Phone, batch: list[dict[str, Any]], answer_lost: bool) -> None:
        phone.sent.append(batch)
        body = {
            "device_id": phone.name,
            "device_time": datetime.now(TZ).isoformat(),
            "records": batch,
        }
        response = await self.client.post("/api/sync/push", json=body, headers=phone.headers)
        assert response.status_code == 200, response.text
        for entry, result in zip(batch, response.json()["results"], strict=True):
            self.pushed.add(entry["change_id"])
            assert result["status"] != "rejected", result
            if result["status"] in ("applied", "conflict"):
                self.accepted.add(entry["change_id"])
            if answer_lost:
                continue
            phone.clock.receive(result["record"]["hlc"])
            waiting = phone.outbox.get(entry["id"])
            if waiting is not None and waiting["change_id"] == entry["change_id"]:
                del phone.outbox[entry["id"]]
            phone.replica[entry["id"]] = result["record"]

    async def pull(self, phone: Phone) -> None:
        while True:
            response = await self.client.get(
                "/api/sync/pull", params={"cursor": phone.cursor, "limit": 3}, headers=phone.headers
            )
            page = response.json()
            for change in page["changes"]:
                if change["type"] == "visit":
                    phone.clock.receive(change["hlc"])
                    phone.replica[change["id"]] = change
            phone.cursor = page["cursor"]
            if not page["more"]:
                return


edits = st.tuples(
    st.just("edit"), st.sampled_from(DEVICES), st.sampled_from(RECORDS), st.sampled_from(NOTES)
)
steps = st.lists(
    st.one_of(
        edits,
        edits,
        edits,
        st.tuples(st.just("delete"), st.sampled_from(DEVICES), st.sampled_from(RECORDS)),
        st.tuples(st.just("push"), st.sampled_from(DEVICES)),
        st.tuples(st.just("push_answer_lost"), st.sampled_from(DEVICES)),
        st.tuples(st.just("retry_old"), st.sampled_from(DEVICES), st.integers(0, 20)),
        st.tuples(st.just("pull"), st.sampled_from(DEVICES)),
        st.tuples(st.just("time_passes"), st.integers(0, 5000)),
    ),
    min_size=12,
    max_size=40,
)


async def _run(app_settings: Settings, plan: list[tuple[Any, ...]]) -> None:
    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        await empty_all_tables()
        await make_world()
        doctor = await User.get(id="doc-1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            world = World(client)
            for name in DEVICES:
                token = await issue_token(doctor, name, f"韦医生的{name}")
                world.phones[name] = Phone(
                    name, {"Authorization": f"Bearer {token}"}, HybridClock(name, wall=world.tick)
                )
            # 韦医生 logs both visits on phone-a; every phone syncs once; then anything goes.
            first = world.phones["phone-a"]
            for record_id in RECORDS:
                first.replica[record_id] = {"rev": 0, "deleted": False}
                world.edit(first, record_id, NOTES[0], deleted=False)
            await world.push(first)
            for phone in world.phones.values():
                await world.pull(phone)
            for step in plan:
                await _do(world, step)
            # Everyone syncs until nothing is waiting: push, then pull, as the app does.
            for _ in range(3):
                for phone in world.phones.values():
                    await world.push(phone)
                    await world.pull(phone)
            await _check(world)


async def _do(world: World, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "time_passes":
        world.wall += step[1]
        return
    phone = world.phones[step[1]]
    if kind == "edit":
        world.edit(phone, step[2], step[3], deleted=False)
    elif kind == "delete":
        world.edit(phone, step[2], "删除", deleted=True)
    elif kind == "push":
        await world.push(phone)
    elif kind == "push_answer_lost":
        await world.push(phone, answer_lost=True)
    elif kind == "retry_old":
        await world.retry_old(phone, step[2])
    elif kind == "pull":
        await world.pull(phone)


async def _check(world: World) -> None:
    assert all(not phone.outbox for phone in world.phones.values())
    versions = await VisitVersion.all()
    stored_ids = {v.change_id for v in versions}
    assert world.pushed == world.accepted, "every pushed change is accepted once, never rejected"
    assert world.accepted <= stored_ids, "an accepted version was lost"
    assert len(versions) == len(stored_ids)
    for visit in await Visit.all():
        mine = [v for v in versions if v.visit_id == visit.id]
        greatest = max(mine, key=lambda v: (v.hlc, v.change_id))
        assert (visit.hlc, visit.deleted, visit.notes) == (
            greatest.hlc,
            greatest.deleted,
            greatest.data["notes"],
        )
        current = [v for v in mine if v.outcome == "version" and v.rev == visit.rev]
        assert [v.change_id for v in current] == [greatest.change_id]
        for phone in world.phones.values():
            seen = phone.replica[visit.id]
            assert (seen["rev"], seen["hlc"], seen["deleted"]) == (
                visit.rev,
                visit.hlc,
                visit.deleted,
            )


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_phones_converge_on_the_greatest_hlc_whatever_the_order(
    settings: Settings, plan: list[tuple[Any, ...]]
) -> None:
    asyncio.run(_run(settings, plan))
