"""Several processes on one database (SPEC §8, §12): `cunyi serve --workers 4` on a fresh
PostgreSQL database, and `cunyi` commands started at the same moment on a new database."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.live import CUNYI, ROOT, LiveServer
from tests.server.fresh import fresh_database, fresh_postgres, seed_world
from tests.world import PASSWORD


def worker_pids(server: LiveServer) -> set[int]:
    """The uvicorn worker processes under the `cunyi serve` parent (multiprocessing's spawned
    children; its resource tracker is a child too, and not a worker)."""
    assert server.process is not None
    parent = server.process.pid
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        cmdline = (stat.parent / "cmdline").read_bytes()
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            pids.add(int(stat.parent.name))
    return pids


async def migrations_applied(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT name FROM tortoise_migrations ORDER BY name")
    finally:
        await conn.close()
    return [r["name"] for r in rows]


async def sign_in(client: httpx.AsyncClient, phone: str, device: str) -> str:
    response = await client.post(
        "/api/auth/login",
        json={"phone": phone, "password": PASSWORD, "device_id": device, "device_name": "红米"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def statuses_of_me(url: str, token: str, times: int) -> list[int]:
    """GET /api/me on a new connection each time, so the requests spread over the workers."""
    statuses = []
    for _ in range(times):
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            r = await c.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            statuses.append(r.status_code)
    return statuses


def test_four_workers_on_a_fresh_postgres_database_share_sign_ins_and_revocations(
    tmp_path: Path,
) -> None:
    with fresh_postgres() as url:
        server = LiveServer(data_dir=tmp_path, database_url=url, workers=4)
        server.start(timeout=60)
        try:
            workers = worker_pids(server)
            applied = asyncio.run(migrations_applied(url))
            world = seed_world(url)

            async def scenario() -> tuple[list[int], list[int], list[int]]:
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
                    tokens = await asyncio.gather(
                        *(sign_in(c, world.doctor, f"phone-{i}") for i in range(3))
                    )
                    kept = await statuses_of_me(server.url, tokens[0], 12)
                    revoked_token = tokens[1]
                    before = await statuses_of_me(server.url, revoked_token, 4)
                    logout = await c.post(
                        "/api/auth/logout", headers={"Authorization": f"Bearer {revoked_token}"}
                    )
                    assert logout.status_code == 200, logout.text
                    after = await statuses_of_me(server.url, revoked_token, 12)
                return kept, before, after

            kept, before, after = asyncio.run(scenario())
        finally:
            server.stop()

    assert len(workers) == 4, server.log_tail()
    assert applied == sorted(set(applied)) and len(applied) >= 1  # each migration once
    assert kept == [200] * 12  # a token made in one worker is honoured by every worker
    assert before == [200] * 4
    assert after == [401] * 12  # and its revocation is seen by every worker at once


def run_at_once(
    commands: list[list[str]], env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    processes = [
        subprocess.Popen(
            [CUNYI, *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for p, args in zip(processes, commands, strict=True):
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess([CUNYI, *args], p.returncode, out, err))
    return results


def test_commands_started_at_the_same_moment_on_a_fresh_database_all_succeed(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        env = LiveServer(data_dir=tmp_path, database_url=url).env()
        commands = [
            [
                "create-user",
                "--role",
                "admin",
                "--name",
                name,
                "--phone",
                phone,
                "--password",
                PASSWORD,
            ]
            for name, phone in (
                ("蓝局长", "13800000101"),
                ("覃科长", "13800000102"),
                ("韦主任", "13800000103"),
            )
        ]

        results = run_at_once(commands, env)

    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert len(result.stdout.strip()) == 36  # the new user's id, a UUID
    assert len({r.stdout for r in results}) == 3


def test_processes_started_together_agree_on_the_kept_secret_key(tmp_path: Path) -> None:
    env = LiveServer(data_dir=tmp_path).env()
    env.pop("CUNYI_SECRET_KEY", None)
    env.pop("CUNYI_VAPID_PRIVATE_KEY", None)
    script = "from server.settings import load_settings; print(load_settings().secret_key)"
    python = str(Path(CUNYI).parent / "python")

    processes = [
        subprocess.Popen(
            [python, "-c", script],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]

    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]  # no temporary left


def test_behind_a_trusted_proxy_failed_sign_ins_are_counted_per_forwarded_address(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        server = LiveServer(
            data_dir=tmp_path,
            database_url=url,
            extra_env={"CUNYI_FORWARDED_ALLOW_IPS": "127.0.0.1"},
        )
        server.start(timeout=60)
        try:

            def wrong_sign_in(phone: str, address: str) -> int:
                response = httpx.post(
                    f"{server.url}/api/auth/login",
                    json={"phone": phone, "password": "猜错了", "device_id": "phone-x"},
                    headers={"X-Forwarded-For": address},
                    timeout=30,
                )
                return response.status_code

            guesses = [wrong_sign_in(f"1390000{i:04d}", "10.45.0.7") for i in range(29)]
            same_address = wrong_sign_in("13900009999", "10.45.0.7")
            other_address = wrong_sign_in("13900009998", "10.45.0.8")
        finally:
            server.stop()

    assert guesses == [401] * 29
    assert same_address == 429  # the guessing address is locked…
    assert other_address == 401  # …not the proxy's, which every township shares


def test_hosts_share_a_vapid_key_written_on_one_line_in_their_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.settings import _make_vapid_keys, load_settings

    pem, public = _make_vapid_keys()
    monkeypatch.setenv("CUNYI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CUNYI_SECRET_KEY", "同一个密钥-shared-by-every-host")
    monkeypatch.setenv("CUNYI_VAPID_PRIVATE_KEY", pem.strip().replace("\n", "\\n"))

    settings = load_settings()

    assert settings.vapid_public_key == public
    assert not (tmp_path / "keys.json").exists()  # nothing kept on this host's disk
