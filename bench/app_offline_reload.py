"""Print the phone app's offline reload time: the median of N reloads served by the service
worker, from `reload()` to the signed-in screen drawn from IndexedDB, next to the shell's size.

Starts its own `cunyi serve` on 127.0.0.1 with a throwaway SQLite database, signs 韦医生 in with
Debian's Chromium at 360×740, switches the network off and reloads. Usage:
    .venv/bin/python bench/app_offline_reload.py [--reloads 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app_shell_size import BUDGET_BYTES, gzipped_size, precached_files  # noqa: E402
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, live_server  # noqa: E402
from tests.pwa.county import BUNDLE, WEI  # noqa: E402
from tests.pwa.phone import Phone  # noqa: E402


def offline_reload_ms(reloads: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="cunyi-bench-") as tmp:
        data_dir = Path(tmp)
        LiveServer(data_dir=data_dir).import_bundle(BUNDLE)
        with live_server(data_dir) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                phone = Phone(browser, server.url)
                phone.sign_in(WEI["phone"])
                phone.offline()
                times = []
                for _ in range(reloads):
                    start = time.perf_counter()
                    response = phone.page.reload(wait_until="load")
                    phone.page.wait_for_selector("body[data-screen=today] [data-testid=outbox-count]")
                    times.append((time.perf_counter() - start) * 1000)
                    if response is None or not response.from_service_worker:
                        raise SystemExit("the reload was not served by the service worker")
                phone.close()
                return times
            finally:
                browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=20)
    args = parser.parse_args()
    shell = sum(gzipped_size(path) for path in precached_files())
    times = offline_reload_ms(args.reloads)
    print(f"app shell {shell / 1024:.1f} KB gzipped (budget {BUDGET_BYTES // 1024} KB)")
    print(f"offline reload (service worker, {len(times)} reloads): median {statistics.median(times):.0f} ms,"
          f" min {min(times):.0f} ms, max {max(times):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
