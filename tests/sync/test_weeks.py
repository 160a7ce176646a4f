"""Local dates and ISO weeks of SPEC §4 (sync/weeks.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.weeks import (
    format_week,
    local_date,
    local_midnight,
    next_week,
    parse_week,
    previous_week,
    week_dates,
    week_end,
    week_monday,
    week_of,
    week_of_date,
    week_range,
    week_start,
    weeks_ending_with,
    weeks_in_year,
    zone,
)

SHANGHAI = timezone(timedelta(hours=8))


def test_a_week_parses_into_its_iso_year_and_number() -> None:
    assert parse_week("2026-W47") == (2026, 47)
    assert parse_week("2026-W01") == (2026, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2026-W54",
        "2026-47",
        "abc",
        "",
        "2026-W00",
        "2026-w47",
        "2026-W7",
        "2026-W047",
        " 2026-W47",
        "2026-W47 ",
        "0000-W01",
        "２０２６-W47",
    ],
)
def test_anything_but_an_existing_iso_week_is_refused_with_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO week"):
        parse_week(text)


def test_week_53_exists_only_in_long_iso_years() -> None:
    assert weeks_in_year(2026) == 53
    assert weeks_in_year(2025) == 52

    assert parse_week("2026-W53") == (2026, 53)
    with pytest.raises(ValueError, match="W01 to W52"):
        parse_week("2025-W53")


def test_a_week_is_written_with_a_two_digit_number() -> None:
    assert format_week(2026, 7) == "2026-W07"
    assert format_week(2026, 47) == "2026-W47"
    with pytest.raises(ValueError):
        format_week(2025, 53)


def test_the_seven_dates_of_a_week_run_monday_to_sunday() -> None:
    dates = week_dates("2026-W47")

    assert dates[0] == date(2026, 11, 16)
    assert dates[-1] == date(2026, 11, 22)
    assert [d.isoweekday() for d in dates] == [1, 2, 3, 4, 5, 6, 7]


def test_the_first_iso_week_of_2026_starts_in_december_2025() -> None:
    assert week_monday("2026-W01") == date(2025, 12, 29)
    assert week_of_date(date(2025, 12, 31)) == "2026-W01"
    assert week_of_date(date(2027, 1, 1)) == "2026-W53"


def test_a_visit_started_at_an_instant_in_utc_belongs_to_its_shanghai_date_and_week() -> None:
    started_at = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)

    assert local_date(started_at, "Asia/Shanghai") == date(2026, 11, 23)
    assert week_of(started_at, "Asia/Shanghai") == "2026-W48"
    assert week_of(started_at, "UTC") == "2026-W47"


def test_week_of_defaults_to_shanghai() -> None:
    assert week_of(datetime(2026, 11, 15, 16, 30, tzinfo=UTC)) == "2026-W47"


def test_a_naive_datetime_has_no_local_date() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 11, 16, 8, 0))


def test_an_unknown_time_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("Asia/Guilin")


def test_a_shanghai_week_runs_from_monday_00_00_to_the_next_monday_00_00_local() -> None:
    start, end = week_start("2026-W47"), week_end("2026-W47")

    assert start == datetime(2026, 11, 16, 0, 0, tzinfo=SHANGHAI)
    assert end == datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI)
    assert end - start == timedelta(days=7)


def test_a_berlin_week_with_the_spring_dst_change_lasts_167_hours() -> None:
    start, end = week_start("2026-W13", "Europe/Berlin"), week_end("2026-W13", "Europe/Berlin")

    assert start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # Monday 23 March 00:00 CET
    assert end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # Monday 30 March 00:00 CEST
    assert end - start == timedelta(hours=167)


def test_a_berlin_week_with_the_autumn_dst_change_lasts_169_hours() -> None:
    start, end = week_start("2026-W43", "Europe/Berlin"), week_end("2026-W43", "Europe/Berlin")

    assert end - start == timedelta(hours=169)


def test_a_day_that_starts_with_a_skipped_midnight_begins_when_the_clocks_jump() -> None:
    # Chile moves its clocks from 00:00 to 01:00 on the first Sunday of September 2026.
    begins = local_midnight(date(2026, 9, 6), "America/Santiago")

    assert begins == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert local_date(begins, "America/Santiago") == date(2026, 9, 6)
    assert local_date(begins - timedelta(seconds=1), "America/Santiago") == date(2026, 9, 5)


def test_the_week_before_the_first_week_of_a_year_is_the_last_of_the_previous_year() -> None:
    assert previous_week("2026-W01") == "2025-W52"
    assert previous_week("2027-W01") == "2026-W53"
    assert previous_week("2026-W47") == "2026-W46"
    assert next_week("2026-W53") == "2027-W01"


def test_a_week_range_includes_both_ends_and_crosses_years() -> None:
    assert week_range("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert week_range("2026-W47", "2026-W47") == ["2026-W47"]
    assert len(week_range("2026-W30", "2026-W47")) == 18


def test_a_backwards_week_range_is_refused() -> None:
    with pytest.raises(ValueError, match="backwards"):
        week_range("2026-W47", "2026-W30")


def test_the_adherence_window_is_the_four_weeks_ending_with_this_one_oldest_first() -> None:
    assert weeks_ending_with("2026-W02", 4) == ["2025-W51", "2025-W52", "2026-W01", "2026-W02"]
    with pytest.raises(ValueError):
        weeks_ending_with("2026-W02", 0)


# --- weeks and zones are remembered once worked out; refusals are not ---


@pytest.mark.parametrize(
    "ask",
    [parse_week, week_monday, week_dates, lambda week: week_end(week, "Asia/Shanghai")],
    ids=["parse_week", "week_monday", "week_dates", "week_end"],
)
def test_a_refused_week_is_refused_again_when_asked_again(ask: Callable[[str], object]) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="not an ISO week"):
            ask("2026-W54")


@pytest.mark.parametrize("value", [None, 202647, b"2026-W47", ["2026-W47"]])
def test_a_week_that_is_not_text_is_a_value_error(value: Any) -> None:
    for ask in (parse_week, week_dates, lambda week: week_end(week, "Asia/Shanghai")):
        with pytest.raises(ValueError, match="not an ISO week"):
            ask(value)


def test_an_unknown_time_zone_is_refused_again_when_asked_again() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="unknown time zone"):
            zone("Asia/Guilin")
        with pytest.raises(ValueError, match="unknown time zone"):
            week_end("2026-W47", "Asia/Guilin")


def test_a_weeks_end_is_that_of_the_zone_asked_for_each_time() -> None:
    shanghai = week_end("2026-W47", "Asia/Shanghai")
    berlin = week_end("2026-W47", "Europe/Berlin")

    assert (
        shanghai
        == week_end("2026-W47", "Asia/Shanghai")
        == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    )
    assert (
        berlin == week_end("2026-W47", "Europe/Berlin") == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1990, 2040),
    st.integers(1, 53),
    st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/Santiago"]),
)
def test_every_week_asked_twice_has_the_dates_and_end_its_calendar_gives(
    year: int, number: int, tz: str
) -> None:
    if number > weeks_in_year(year):
        number = weeks_in_year(year)
    week = format_week(year, number)
    days = tuple(date.fromisocalendar(year, number, weekday) for weekday in range(1, 8))

    for _ in range(2):
        assert week_dates(week) == days
        assert week_monday(week) == days[0]
        assert week_end(week, tz) == local_midnight(days[-1] + timedelta(days=1), tz)
