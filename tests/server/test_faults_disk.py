"""Faults of a laptop's SQLite database (SPEC §12): the disk fills up, or the database can only be
read. A push gets a clear 5xx with the SPEC §6 error body and NO acknowledgement of anything not
stored; once the fault is gone, the phone's retry stores every record exactly once."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from tests.live import LiveServer
from tests.server.fresh import seed_world, sqlite_url
from tests.server.pushing import envelope, visit
from tests.world import PASSWORD

DISK_MB = 8


@contextmanager
def small_disk(path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB on `path` (the tests run as root), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no space left."""
    filler = disk / "filler.bin"
    with suppress(OSError), open(filler, "wb", buffering=0) as f:
        while True:
            f.write(b"\0" * 65536)
    with suppress(OSError), open(filler, "ab", buffering=0) as f:  # the last few bytes too
        while True:
            f.write(b"\0")
    return filler


def sign_in(server: LiveServer, phone: str) -> dict[str, str]:
    response = httpx.post(
        f"{server.url}/api/auth/login",
        json={"phone": phone, "password": PASSWORD, "device_id": "phone-1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def stored_visits(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM visit").fetchone()[0])


def test_a_push_on_a_full_disk_gets_507_and_is_stored_exactly_once_after_space_is_freed(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        database = disk / "cunyi.sqlite3"
        server = LiveServer(data_dir=tmp_path / "data", database_url=sqlite_url(database))
        (tmp_path / "data").mkdir()
        server.start(timeout=60)
        try:
            world = seed_world(server.database_url or "")
            headers = sign_in(server, world.doctor)
            first = [visit() for _ in range(3)]
            waiting = [visit(notes="血压随访，" * 40) for _ in range(500)]
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as phone:
                assert phone.post("/api/sync/push", json=envelope(first)).status_code == 200

                filler = fill(disk)
                full = phone.post("/api/sync/push", json=envelope(waiting))
                filler.unlink()
                retried = phone.post("/api/sync/push", json=envelope(waiting))
                again = phone.post("/api/sync/push", json=envelope(waiting))
            log = server.log_tail()
        finally:
            server.stop()
        count = stored_visits(database)

    assert full.status_code == 507, full.text
    error = full.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert "nothing from this request was stored" in error["message"]
    assert "results" not in full.json()  # no record acknowledged
    assert retried.status_code == 200, retried.text
    assert [r["status"] for r in retried.json()["results"]] == ["applied"] * 500
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 500
    assert count == 503
    assert "unhandled error" not in log


def test_a_push_to_a_read_only_database_gets_503_and_is_stored_exactly_once_after(
    tmp_path: Path,
) -> None:
    database = tmp_path / "cunyi.sqlite3"
    writable = LiveServer(data_dir=tmp_path, database_url=sqlite_url(database))
    writable.start(timeout=60)
    try:
        world = seed_world(sqlite_url(database))
        headers = sign_in(writable, world.doctor)
        first = [visit() for _ in range(2)]
        assert (
            httpx.post(
                f"{writable.url}/api/sync/push", json=envelope(first), headers=headers
            ).status_code
            == 200
        )
    finally:
        writable.stop()
    waiting = [visit() for _ in range(20)]

    # The same database opened read-only (root ignores file modes, so the URL says it).
    read_only = LiveServer(data_dir=tmp_path, database_url=sqlite_url(database) + "&query_only=ON")
    read_only.start(timeout=60)
    try:
        with httpx.Client(base_url=read_only.url, headers=headers, timeout=30) as phone:
            refused = phone.post("/api/sync/push", json=envelope(waiting))
            pulled = phone.get("/api/sync/pull", params={"cursor": ""})
    finally:
        read_only.stop()
    after_refusal = stored_visits(database)

    writable = LiveServer(data_dir=tmp_path, database_url=sqlite_url(database))
    writable.start(timeout=60)
    try:
        with httpx.Client(base_url=writable.url, headers=headers, timeout=30) as phone:
            retried = phone.post("/api/sync/push", json=envelope(waiting))
            again = phone.post("/api/sync/push", json=envelope(waiting))
    finally:
        writable.stop()

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "unavailable"
    assert "results" not in refused.json()
    assert pulled.status_code == 503  # a pull records the sync (SPEC §4 provisional), so it too
    assert pulled.json()["error"]["code"] == "unavailable"
    assert after_refusal == 2
    assert [r["status"] for r in retried.json()["results"]] == ["applied"] * 20
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 20
    assert stored_visits(database) == 22
