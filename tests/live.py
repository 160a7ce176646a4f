"""A real `cunyi serve` in a subprocess on 127.0.0.1, for browser and fault tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CUNYI = str(Path(sys.executable).parent / "cunyi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CUNYI_DATA_DIR"] = str(self.data_dir)
        env.setdefault("CUNYI_SCHEDULER", "0")
        if self.database_url:
            env["CUNYI_DATABASE_URL"] = self.database_url
        else:
            env.pop("CUNYI_DATABASE_URL", None)
        env.update(self.extra_env)
        return env

    def cunyi(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `cunyi` command against this server's database (and raise if it fails)."""
        result = subprocess.run(
            [CUNYI, *args], env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"cunyi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def import_bundle(self, bundle: dict[str, Any]) -> None:
        path = self.data_dir / "bundle.json"
        path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
        self.cunyi("import", str(path))

    def start(self, timeout: float = 30) -> None:
        log = open(self.data_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [CUNYI, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            env=self.env(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cunyi serve exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cunyi serve did not start: {self.log_tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown handlers run, as when a machine loses power."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def live_server(data_dir: Path, **kw: Any) -> Iterator[LiveServer]:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = LiveServer(data_dir=data_dir, **kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = "/usr/bin/chromium"
