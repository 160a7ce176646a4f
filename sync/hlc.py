"""The hybrid logical clock of SPEC §6: `<15-digit ms>-<5-digit counter>-<node id>`.

Fixed-width fields make plain string comparison the same as comparing (ms, counter, node).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

WALL_DIGITS = 15
COUNTER_DIGITS = 5
MAX_WALL_MS = 10**WALL_DIGITS - 1
MAX_COUNTER = 10**COUNTER_DIGITS - 1
MAX_NODE_CHARS = 128

# The node id is everything after the second dash: device ids are often UUIDs, dashes included.
_HLC = re.compile(r"(\d{15})-(\d{5})-([!-~]{1,128})", re.ASCII)


class InvalidHlc(ValueError):
    """A string that is not `<15 digits>-<5 digits>-<node id>`."""


@dataclass(frozen=True)
class Hlc:
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return format_hlc(self.wall_ms, self.counter, self.node)


def format_hlc(wall_ms: int, counter: int, node: str) -> str:
    if not 0 <= wall_ms <= MAX_WALL_MS:
        raise InvalidHlc(f"wall-clock milliseconds {wall_ms} do not fit in {WALL_DIGITS} digits")
    if not 0 <= counter <= MAX_COUNTER:
        raise InvalidHlc(f"counter {counter} does not fit in {COUNTER_DIGITS} digits")
    text = f"{wall_ms:0{WALL_DIGITS}d}-{counter:0{COUNTER_DIGITS}d}-{node}"
    parse_hlc(text)  # checks the node id with the same rule as incoming clocks
    return text


def parse_hlc(text: str) -> Hlc:
    match = _HLC.fullmatch(text)
    if match is None:
        raise InvalidHlc(
            f"{text!r} is not a hybrid logical clock: expected 15 digits of milliseconds, "
            f"5 digits of counter and a node id (printable ASCII, no spaces, at most "
            f"{MAX_NODE_CHARS} characters), joined by '-'"
        )
    return Hlc(int(match[1]), int(match[2]), match[3])


def is_valid_hlc(text: object) -> bool:
    return isinstance(text, str) and _HLC.fullmatch(text) is not None


def hlc_after(a: str, b: str) -> bool:
    """True when `a` is later than `b`; SPEC §6 fixes this as plain string comparison."""
    return a > b


def _wall_ms_now() -> int:
    return time.time_ns() // 1_000_000


class HybridClock:
    """One node's clock: `tick()` stamps a local change, `receive()` moves past a pulled hlc.

    `wall` returns wall-clock milliseconds; tests pass a fake. `last` restores a saved clock, so
    a restart never goes back even if the wall clock did. The phone's hlc.js mirrors this.
    """

    def __init__(
        self, node: str, wall: Callable[[], int] = _wall_ms_now, last: str | None = None
    ) -> None:
        format_hlc(0, 0, node)  # rejects a node id that would make unparseable clocks
        self.node = node
        self._wall = wall
        saved = parse_hlc(last) if last is not None else Hlc(0, 0, node)
        self._last_ms = saved.wall_ms
        self._counter = saved.counter

    @property
    def last(self) -> str:
        return format_hlc(self._last_ms, self._counter, self.node)

    def tick(self) -> str:
        now_ms = self._wall()
        if now_ms > self._last_ms:
            self._last_ms, self._counter = now_ms, 0
        else:
            # The wall clock stood still or went back: keep the old time, count up.
            self._bump_counter()
        return self.last

    def receive(self, remote: str) -> str:
        """Advance past `remote` (and past the wall clock); returns the clock's new value."""
        other = parse_hlc(remote)
        now_ms = self._wall()
        latest = max(self._last_ms, other.wall_ms, now_ms)
        if latest == self._last_ms and latest == other.wall_ms:
            self._counter = max(self._counter, other.counter)
            self._bump_counter()
        elif latest == self._last_ms:
            self._bump_counter()
        elif latest == other.wall_ms:
            self._last_ms, self._counter = latest, other.counter
            self._bump_counter()
        else:
            self._last_ms, self._counter = latest, 0
        return self.last

    def _bump_counter(self) -> None:
        if self._counter < MAX_COUNTER:
            self._counter += 1
        else:
            # 100,000 events in one millisecond: borrow the next millisecond rather than fail.
            self._last_ms, self._counter = self._last_ms + 1, 0
