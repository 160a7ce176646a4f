"""Local dates and ISO weeks (`2026-W47`) in the deployment's time zone, as SPEC §4 counts them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"

# [0-9], not \d: \d also matches full-width digits (２０２６), which an IME may type.
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


# Memoised: a recompute asks for the same few weeks' dates and ends, and the deployment's zone, for
# every village-week and every visit. Only successes are kept (an error is raised anew each time),
# and the bounds cap what a caller passing many distinct weeks can make us keep.
WEEKS_KEPT = 4096


def zone(tz: str) -> ZoneInfo:
    """The time zone named `tz` (an IANA name such as 'Asia/Shanghai'); ValueError if unknown."""
    return _zone(tz) if isinstance(tz, str) else _load_zone(tz)


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return _load_zone(tz)


def _load_zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz!r}") from error


def parse_week(week: str) -> tuple[int, int]:
    """The (ISO year, week number) written in `week`, e.g. '2026-W47' → (2026, 47).

    Strict: exactly `YYYY-Www`, and the week must exist in that ISO year (W53 only in long years).
    """
    if not isinstance(week, str):
        raise ValueError(f"not an ISO week {week!r}: expected the form 2026-W47")
    return _parse_week(week)


@lru_cache(maxsize=WEEKS_KEPT)
def _parse_week(week: str) -> tuple[int, int]:
    match = _WEEK.fullmatch(week)
    if match is None:
        raise ValueError(f"not an ISO week {week!r}: expected the form 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    if year < 1:
        raise ValueError(f"not an ISO week {week!r}: there is no year 0000")
    last = weeks_in_year(year)
    if not 1 <= number <= last:
        raise ValueError(f"not an ISO week {week!r}: {year} has weeks W01 to W{last}")
    return year, number


def weeks_in_year(year: int) -> int:
    """52 or 53: the number of ISO weeks of ISO year `year` (28 December is always in the last)."""
    return date(year, 12, 28).isocalendar().week


def format_week(year: int, number: int) -> str:
    """The week written as SPEC writes it, e.g. (2026, 7) → '2026-W07'; ValueError if it does not exist."""
    week = f"{year:04d}-W{number:02d}"
    parse_week(week)
    return week


def week_monday(week: str) -> date:
    """The Monday that starts `week`."""
    year, number = parse_week(week)
    return date.fromisocalendar(year, number, 1)


def week_dates(week: str) -> tuple[date, ...]:
    """The seven local dates of `week`, Monday first."""
    parse_week(week)  # refuses a non-string before it reaches the cache
    return _week_dates(week)


@lru_cache(maxsize=WEEKS_KEPT)
def _week_dates(week: str) -> tuple[date, ...]:
    monday = week_monday(week)
    return tuple(monday + timedelta(days=offset) for offset in range(7))


def week_of_date(day: date) -> str:
    """The ISO week that contains the local date `day`."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def local_date(instant: datetime, tz: str = DEFAULT_TZ) -> date:
    """The local date in `tz` of an aware instant (a visit's date is that of its `started_at`)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        # A naive time could be any of 24 hours' worth of dates; refuse rather than guess.
        raise ValueError(f"naive datetime {instant.isoformat()}: an offset is required")
    return instant.astimezone(zone(tz)).date()


def week_of(started_at: datetime, tz: str = DEFAULT_TZ) -> str:
    """The ISO week of the local date of `started_at` in `tz`."""
    return week_of_date(local_date(started_at, tz))


def local_midnight(day: date, tz: str = DEFAULT_TZ) -> datetime:
    """The instant (in UTC) at which local date `day` begins in `tz`.

    Returned in UTC because Python compares and subtracts two datetimes sharing one tzinfo by
    wall clock, which is an hour off across a daylight-saving change.
    """
    # fold=0 on a skipped midnight (zones that change at 00:00) gives the pre-change offset,
    # i.e. the instant the clocks jumped, which is when that day really began.
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def week_start(week: str, tz: str = DEFAULT_TZ) -> datetime:
    """The instant (in UTC) of Monday 00:00 local that begins `week`."""
    return local_midnight(week_monday(week), tz)


def week_end(week: str, tz: str = DEFAULT_TZ) -> datetime:
    """The instant (in UTC) of the next Monday 00:00 local, when `week` is over (exclusive end)."""
    parse_week(week)
    return _week_end(week, tz)


@lru_cache(maxsize=WEEKS_KEPT)
def _week_end(week: str, tz: str) -> datetime:
    return local_midnight(week_monday(week) + timedelta(days=7), tz)


def previous_week(week: str) -> str:
    """The ISO week before `week`."""
    return week_of_date(week_monday(week) - timedelta(days=7))


def next_week(week: str) -> str:
    """The ISO week after `week`."""
    return week_of_date(week_monday(week) + timedelta(days=7))


def week_range(first: str, last: str) -> list[str]:
    """The weeks from `first` to `last`, both included; ValueError if `first` is after `last`."""
    start, stop = week_monday(first), week_monday(last)
    if start > stop:
        raise ValueError(f"week range from {first} to {last} runs backwards")
    return [
        week_of_date(start + timedelta(days=7 * n)) for n in range((stop - start).days // 7 + 1)
    ]


def weeks_ending_with(week: str, count: int) -> list[str]:
    """The `count` weeks ending with `week`, oldest first (the adherence window of SPEC §4)."""
    if count < 1:
        raise ValueError(f"a window needs at least one week, not {count}")
    monday = week_monday(week)
    return [week_of_date(monday - timedelta(days=7 * n)) for n in range(count - 1, -1, -1)]
