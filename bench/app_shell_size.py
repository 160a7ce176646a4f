"""Print the gzipped size of every file the service worker precaches, against the 60 KB budget.

The app shell is the PRECACHE list of pwa/sw.js (plus sw.js itself, which the browser also
downloads on the first visit). Sizes are gzip level 6, what a typical server sends.
Exits 1 when the total is over budget.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

BUDGET_BYTES = 60 * 1024
PWA = Path(__file__).resolve().parent.parent / "pwa"


def precached_files() -> list[Path]:
    source = (PWA / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const PRECACHE = \[(.*?)\];", source, re.S)
    if block is None:
        raise SystemExit("no PRECACHE list in pwa/sw.js")
    names = re.findall(r"'\./([^']*)'", block.group(1))
    return [PWA / (name or "index.html") for name in names] + [PWA / "sw.js"]


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def main() -> int:
    files = precached_files()
    total_raw = total_gz = 0
    print(f"{'file':<28} {'bytes':>8} {'gzip':>8}")
    for path in files:
        raw, gz = path.stat().st_size, gzipped_size(path)
        total_raw += raw
        total_gz += gz
        print(f"{str(path.relative_to(PWA)):<28} {raw:>8} {gz:>8}")
    verdict = "within" if total_gz <= BUDGET_BYTES else "OVER"
    print(f"{'total (' + str(len(files)) + ' files)':<28} {total_raw:>8} {total_gz:>8}")
    print(f"app shell {total_gz / 1024:.1f} KB gzipped: {verdict} the {BUDGET_BYTES // 1024} KB budget")
    return 0 if total_gz <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
