"""Run every benchmark in bench/ and append what they print to bench/results.txt.

    python -m bench.run --quick   # default sizes, a minute or two (make bench-quick)
    python -m bench.run --full    # province scale where a bench has one (make bench)

Each bench is a module of this package run as `python -m bench.<name>`, with the arguments
listed in RUNS for it (or none). Each run's output is appended with the machine and the date,
so figures from one run compare with one another.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results.txt"
NOT_BENCHES = {"__init__", "run", "sync_world"}  # sync_world: shared by the sync benches

# Arguments per bench and mode; a bench missing here runs once, with no arguments.
RUNS: dict[str, dict[str, list[list[str]]]] = {
    "coverage_bench": {
        "quick": [["--db", "sqlite"], ["--db", "postgres"]],
        "full": [["--full", "--db", "sqlite"], ["--full", "--db", "postgres"]],
    },
    "ingest_bench": {
        "quick": [["--quick", "--db", "sqlite"], ["--quick", "--db", "postgres"]],
        "full": [["--full", "--db", "sqlite"], ["--full", "--db", "postgres"]],
    },
    "load_bench": {"quick": [["--quick"]], "full": [["--full"]]},
    "pull_bench": {
        "quick": [["--db", "sqlite"], ["--db", "postgres"]],
        "full": [["--db", "sqlite"], ["--db", "postgres"]],
    },
}


def benches() -> list[str]:
    return sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in NOT_BENCHES)


def machine() -> str:
    uname = platform.uname()
    return f"{uname.system} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def run_one(name: str, args: list[str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
    )
    text = done.stdout + (f"\n[stderr]\n{done.stderr.strip()}" if done.returncode else "")
    return done.returncode, text.rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run the benchmarks in bench/")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="default sizes (the default)")
    mode.add_argument("--full", action="store_true", help="province scale")
    parser.add_argument("only", nargs="*", help="run only these benches (module names)")
    args = parser.parse_args(argv)
    chosen = "full" if args.full else "quick"
    failed = 0
    header = f"=== {datetime.now(UTC).isoformat(timespec='seconds')}  {chosen}  {machine()}"
    blocks = [header]
    print(header, flush=True)
    for name in args.only or benches():
        for extra in RUNS.get(name, {}).get(chosen, [[]]):
            title = f"--- {name} {' '.join(extra)}".rstrip()
            print(title, flush=True)
            code, text = run_one(name, extra)
            print(text, flush=True)
            blocks += [title, text]
            if code:
                failed += 1
                blocks.append(f"(exit {code})")
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n".join(blocks) + "\n\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
