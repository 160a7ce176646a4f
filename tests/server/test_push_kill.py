"""A push is atomic and durable (issue 4): `kill -9` a real `cunyi serve` in the middle of a
stream of pushes, start it again, retry everything unacknowledged; every acknowledged record is
stored exactly once and nothing is half-written (SQLite WAL with synchronous=FULL)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from server.db import open_database, upgrade_schema
from tests.server.pushing import GUDING, days_ago, envelope, local, visit
from tests.world import PASSWORD, make_world

BATCHES = 40
PER_BATCH = 25
CUNYI = Path(sys.executable).with_name("cunyi")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(url: str) -> None:
    await upgrade_schema(url)
    await open_database(url)
    try:
        await make_world()
    finally:
        await Tortoise.close_connections()


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUNYI_")}
    env |= {"CUNYI_DATA_DIR": str(data_dir), "CUNYI_SCHEDULER": "0"}
    server = subprocess.Popen(
        [str(CUNYI), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("cunyi serve did not start")


def _batches() -> list[list[dict[str, Any]]]:
    start = local(days_ago(200), 8)
    out = []
    for b in range(BATCHES):
        batch = []
        for i in range(PER_BATCH):
            at = start + timedelta(hours=3 * (b * PER_BATCH + i))
            batch.append(visit(GUDING, at, at + timedelta(hours=2)))
        out.append(batch)
    return out


@pytest.mark.slow
def test_a_push_stream_killed_mid_way_loses_nothing_acknowledged_and_half_writes_nothing(
    tmp_path: Path,
) -> None:
    db_file = tmp_path / "cunyi.sqlite3"
    url = f"sqlite://{db_file}?journal_mode=WAL&synchronous=FULL&foreign_keys=ON&busy_timeout=10000"
    asyncio.run(_prepare(url))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(tmp_path, port)
    login = httpx.post(
        f"{base}/api/auth/login",
        json={
            "phone": "13800000004",
            "password": PASSWORD,
            "device_id": "phone-1",
            "device_name": "红米 Note 12",
        },
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    batches = _batches()
    acknowledged: dict[int, list[dict[str, Any]]] = {}
    # Kill once a few pushes are through, 50 ms into the sixth: while it is being stored.
    killer = threading.Timer(0, lambda: None)

    def kill_soon() -> None:
        os.kill(server.pid, signal.SIGKILL)

    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for n, batch in enumerate(batches):
            if n == 5:
                killer = threading.Timer(0.05, kill_soon)
                killer.start()
            try:
                response = client.post("/api/sync/push", json=envelope(batch))
            except httpx.TransportError:
                break
            assert response.status_code == 200, response.text
            acknowledged[n] = response.json()["results"]
    killer.join()
    server.wait(timeout=10)
    assert server.returncode == -signal.SIGKILL
    assert 5 <= len(acknowledged) < BATCHES, "the kill landed mid-stream"

    server = _serve(tmp_path, port)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            retried = {}
            for n, batch in enumerate(batches):
                if n not in acknowledged:
                    response = client.post("/api/sync/push", json=envelope(batch))
                    assert response.status_code == 200, response.text
                    retried[n] = response.json()["results"]
    finally:
        server.terminate()
        server.wait(timeout=10)

    for results in acknowledged.values():
        assert {r["status"] for r in results} == {"applied"}
    in_flight = min(set(range(BATCHES)) - acknowledged.keys())
    # The push being answered when the server died either committed whole or not at all.
    assert len({r["status"] for r in retried[in_flight]}) == 1
    assert {r["status"] for n, rs in retried.items() if n != in_flight for r in rs} == {"applied"}
    db = sqlite3.connect(db_file)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        total = BATCHES * PER_BATCH
        pushed = {r["id"] for batch in batches for r in batch}
        assert {row[0] for row in db.execute("SELECT id FROM visit")} == pushed
        assert db.execute("SELECT COUNT(*) FROM visit_version").fetchone() == (total,)
        assert db.execute(
            "SELECT COUNT(*) FROM visit_version v JOIN visit ON visit.id = v.visit_id "
            "AND visit.rev = v.rev AND visit.hlc = v.hlc"
        ).fetchone() == (total,)
        assert db.execute(
            "SELECT COUNT(DISTINCT entity_id), COUNT(*) FROM change WHERE type = 'visit'"
        ).fetchone() == (total, total)
    finally:
        db.close()
