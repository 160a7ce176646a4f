"""Fault: the PostgreSQL connections of a running server are cut (pg_terminate_backend) and the
database refuses new ones for a while. Requests fail with 503 and the SPEC §6 error body,
nothing is acknowledged that was not stored, and the server recovers WITHOUT a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import PG_ADMIN_URL
from tests.live import LiveServer
from tests.server.fresh import fresh_postgres, seed_world
from tests.server.pushing import envelope, visit
from tests.world import PASSWORD


async def admin_sql(sql: str) -> str:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        return str(await conn.execute(sql))
    finally:
        await conn.close()


def cut_connections(database: str, *, refuse_new: bool) -> None:
    if refuse_new:
        asyncio.run(admin_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
    asyncio.run(
        admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
    )


def restore_connections(database: str) -> None:
    asyncio.run(admin_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))


async def stored_visits(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM visit"))
    finally:
        await conn.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[LiveServer, str, dict[str, str]]]:
    """A live server on a fresh PostgreSQL database, and 韦医生 signed in on phone-1."""
    with fresh_postgres() as url:
        server = LiveServer(data_dir=tmp_path, database_url=url)
        server.start(timeout=60)
        try:
            world = seed_world(url)
            response = httpx.post(
                f"{server.url}/api/auth/login",
                json={"phone": world.doctor, "password": PASSWORD, "device_id": "phone-1"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            yield server, url, {"Authorization": f"Bearer {response.json()['token']}"}
        finally:
            server.stop()


def test_a_push_while_the_database_refuses_connections_gets_503_and_is_stored_once_after(
    running: tuple[LiveServer, str, dict[str, str]],
) -> None:
    server, url, headers = running
    database = url.rsplit("/", 1)[1]
    first = [visit() for _ in range(3)]
    waiting = [visit() for _ in range(5)]
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as phone:
        assert phone.post("/api/sync/push", json=envelope(first)).status_code == 200

        cut_connections(database, refuse_new=True)
        try:
            during_push = phone.post("/api/sync/push", json=envelope(waiting))
            during_pull = phone.get("/api/sync/pull", params={"cursor": ""})
        finally:
            restore_connections(database)
        retried = phone.post("/api/sync/push", json=envelope(waiting))
        again = phone.post("/api/sync/push", json=envelope(waiting))
        pull_after = phone.get("/api/sync/pull", params={"cursor": "", "limit": 1000})

    for response in (during_push, during_pull):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        error = response.json()["error"]
        assert error["code"] == "unavailable"
        assert "nothing from this request was stored" in error["message"]
        assert error["details"] == []
    assert retried.status_code == 200, retried.text
    assert [r["status"] for r in retried.json()["results"]] == ["applied"] * 5
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 5
    assert pull_after.status_code == 200
    pulled = {c["id"] for c in pull_after.json()["changes"] if c["type"] == "visit"}
    assert pulled == {r["id"] for r in first + waiting}
    assert asyncio.run(stored_visits(url)) == 8
    assert "unhandled error" not in server.log_tail()  # a 503, never a 500


def test_terminated_connections_are_replaced_without_a_restart(
    running: tuple[LiveServer, str, dict[str, str]],
) -> None:
    server, url, headers = running
    database = url.rsplit("/", 1)[1]
    records = [visit() for _ in range(4)]
    statuses: list[int] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as phone:
        for _ in range(3):
            cut_connections(database, refuse_new=False)
            statuses.append(phone.get("/api/me").status_code)
        cut_connections(database, refuse_new=False)
        pushed = phone.post("/api/sync/push", json=envelope(records))
        if pushed.status_code == 503:  # the phone retries the same push, as its outbox does
            pushed = phone.post("/api/sync/push", json=envelope(records))
        after = [phone.get("/api/me").status_code for _ in range(3)]

    assert set(statuses) <= {200, 503}  # never a 500, never a dropped connection
    assert pushed.status_code == 200, pushed.text
    assert {r["status"] for r in pushed.json()["results"]} == {"applied"}
    assert after == [200, 200, 200]
    assert asyncio.run(stored_visits(url)) == 4
    assert server.process is not None and server.process.poll() is None  # same process
