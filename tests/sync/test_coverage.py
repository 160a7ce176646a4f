"""The coverage rules of SPEC §4 (sync/coverage.py), against the shared worked examples and one by one."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.coverage import (
    CoverageRow,
    active_dates,
    coverage_rate,
    covering_assignment,
    daily_totals,
    doctors_assigned,
    is_counting,
    is_provisional,
    prorated_requirement,
    unsynced_doctors,
    village_week,
    visit_date,
    visit_duration,
    visit_flag_counts,
)
from sync.model import Assignment, Slot, Village, Visit
from sync.policy import Policy
from sync.weeks import week_dates

CASES_FILE = Path(__file__).parent.parent / "cases" / "coverage_examples.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))

CST = timezone(timedelta(hours=8))
SHANGHAI = "Asia/Shanghai"
W47 = "2026-W47"
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, d) for d in range(16, 23))
GUDING = Village(code="450225100201", township="450225100", name="古鼎村")
WEI, QIN = "韦医生", "覃医生"
WEI_ROSTER = Assignment("a-roster-wei", WEI, GUDING.code, "roster", date(2026, 9, 1), None)
QIN_PATROL = Assignment(
    "a-patrol-qin",
    QIN,
    GUDING.code,
    "patrol",
    date(2026, 9, 1),
    None,
    (Slot(2, "am"), Slot(5, "pm")),
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


VISIT_NUMBERS = itertools.count(1)


def visit(
    day: date,
    start: tuple[int, int] = (8, 0),
    end: tuple[int, int] | None = (17, 0),
    *,
    doctor: str = WEI,
    kind: str = "duty",
    village: str = GUDING.code,
    **fields: Any,
) -> Visit:
    return Visit(
        id=f"00000000-0000-4000-8000-{next(VISIT_NUMBERS):012d}",
        doctor=doctor,
        village=village,
        kind=kind,  # type: ignore[arg-type]
        started_at=at(day, *start),
        ended_at=None if end is None else at(day, *end),
        **fields,
    )


def full_week(*days: date, doctor: str = WEI) -> list[Visit]:
    return [visit(day, doctor=doctor) for day in (days or (MON, TUE, WED, THU, FRI))]


# --- the shared JSON cases, also run by the phone's pwa/week.js ---


def assignment_from(data: Mapping[str, Any]) -> Assignment:
    return Assignment(
        id=data["id"],
        doctor=data["doctor"],
        village=data["village"],
        kind=data["kind"],
        start=date.fromisoformat(data["start"]),
        end=None if data["end"] is None else date.fromisoformat(data["end"]),
        slots=tuple(Slot(s["weekday"], s["half"]) for s in data.get("slots", [])),
    )


def visit_from(data: Mapping[str, Any]) -> Visit:
    return Visit(
        id=data["id"],
        doctor=data["doctor"],
        village=data["village"],
        kind=data["kind"],
        started_at=datetime.fromisoformat(data["started_at"]),
        ended_at=None if data["ended_at"] is None else datetime.fromisoformat(data["ended_at"]),
        deleted=data["deleted"],
        dismissed=data["dismissed"],
        flags=frozenset(data["flags"]),
    )


def row_of_case(case: Mapping[str, Any]) -> CoverageRow:
    village = case["village"]
    return village_week(
        Village(
            code=village["code"],
            township=village["code"][:9],
            name=village["name"],
            needs_coverage=village["needs_coverage"],
        ),
        case["week"],
        [assignment_from(a) for a in case["assignments"]],
        [visit_from(v) for v in case["visits"]],
        exempt=case["exempt"],
        tz=case["tz"],
        policy=Policy(),
    )


def test_the_shared_cases_file_holds_every_worked_example_of_spec_section_4() -> None:
    statuses = {case["expected"]["status"] for case in CASES}
    spec_examples = [case for case in CASES if case["name"].startswith("spec: ")]

    assert len(spec_examples) == 10
    assert statuses == {"exempt", "self_served", "unassigned", "covered", "partial", "uncovered"}
    assert len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_shared_case(case: Mapping[str, Any]) -> None:
    row = row_of_case(case)

    assert {key: getattr(row, key) for key in case["expected"]} == case["expected"]


# --- what counts ---


def test_a_lunch_split_adds_up_to_a_full_duty_day() -> None:
    visits = full_week(MON, TUE, WED, THU) + [
        visit(FRI, (8, 0), (11, 30)),
        visit(FRI, (13, 0), (16, 0)),
    ]

    row = village_week(
        GUDING, W47, [WEI_ROSTER], visits, exempt=False, tz=SHANGHAI, policy=Policy()
    )

    assert (row.status, row.duty_days, row.duty_required) == ("covered", 5, 5)
    assert row.duty_dates == (MON, TUE, WED, THU, FRI)


def test_exactly_six_hours_is_a_duty_day_and_five_hours_fifty_nine_is_not() -> None:
    six = visit(MON, (8, 0), (14, 0))
    almost = visit(TUE, (8, 0), (13, 59))

    row = village_week(
        GUDING, W47, [WEI_ROSTER], [six, almost], exempt=False, tz=SHANGHAI, policy=Policy()
    )

    assert row.duty_dates == (MON,)


def test_exactly_four_hours_is_a_patrol_day() -> None:
    four = visit(TUE, (8, 30), (12, 30), doctor=QIN, kind="patrol")
    short = visit(FRI, (14, 0), (17, 59), doctor=QIN, kind="patrol")

    row = village_week(
        GUDING, W47, [QIN_PATROL], [four, short], exempt=False, tz=SHANGHAI, policy=Policy()
    )

    assert (row.status, row.patrol_days, row.patrol_required, row.patrol_dates) == (
        "partial",
        1,
        2,
        (TUE,),
    )


def test_a_visit_crossing_midnight_belongs_to_the_date_it_started() -> None:
    night = Visit("n1", WEI, GUDING.code, "duty", at(SUN, 20), at(SUN, 20) + timedelta(hours=8))

    row = village_week(
        GUDING, W47, [WEI_ROSTER], [night], exempt=False, tz=SHANGHAI, policy=Policy()
    )

    assert visit_date(night, SHANGHAI) == SUN
    assert row.duty_dates == (SUN,)
    assert (
        village_week(GUDING, "2026-W48", [WEI_ROSTER], [night], exempt=False, tz=SHANGHAI).duty_days
        == 0
    )


def test_a_timestamp_sent_in_utc_belongs_to_the_local_monday_of_the_next_week() -> None:
    utc_monday = Visit(
        "u1",
        WEI,
        GUDING.code,
        "duty",
        datetime.fromisoformat("2026-11-22T16:30:00Z"),
        datetime.fromisoformat("2026-11-22T23:00:00Z"),
    )

    this_week = village_week(GUDING, W47, [WEI_ROSTER], [utc_monday], exempt=False, tz=SHANGHAI)
    next_week = village_week(
        GUDING, "2026-W48", [WEI_ROSTER], [utc_monday], exempt=False, tz=SHANGHAI
    )

    assert this_week.duty_days == 0
    assert next_week.duty_dates == (date(2026, 11, 23),)


def test_the_same_utc_instant_belongs_to_sunday_in_berlin() -> None:
    village = Village("450225100201", "450225100", "古鼎村")
    roster = Assignment("a", WEI, village.code, "roster", date(2026, 1, 1), None)
    late_sunday = Visit(
        "b1",
        WEI,
        village.code,
        "duty",
        datetime.fromisoformat("2026-11-22T16:30:00Z"),
        datetime.fromisoformat("2026-11-22T23:00:00Z"),
    )

    row = village_week(village, W47, [roster], [late_sunday], exempt=False, tz="Europe/Berlin")

    assert row.duty_dates == (SUN,)


def test_durations_across_the_berlin_dst_change_are_real_elapsed_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Both ends share one tzinfo, so Python's own subtraction would give the wall-clock 6.5 h.
    night = Visit(
        "d1",
        WEI,
        GUDING.code,
        "duty",
        datetime(2026, 3, 29, 1, 0, tzinfo=berlin),
        datetime(2026, 3, 29, 7, 30, tzinfo=berlin),
    )
    roster = Assignment("a", WEI, GUDING.code, "roster", date(2026, 1, 1), None)

    row = village_week(GUDING, "2026-W13", [roster], [night], exempt=False, tz="Europe/Berlin")

    assert visit_duration(night) == timedelta(hours=5, minutes=30)
    assert row.duty_days == 0
    assert (row.roster_active_days, row.duty_required) == (7, 5)


def test_two_doctors_sharing_a_village_do_not_add_up_below_six_hours_each() -> None:
    qin_roster = Assignment("a-roster-qin", QIN, GUDING.code, "roster", date(2026, 9, 1), None)
    wei_morning = visit(MON, (8, 0), (11, 0))
    qin_afternoon = visit(MON, (13, 0), (17, 0), doctor=QIN)

    row = village_week(
        GUDING,
        W47,
        [WEI_ROSTER, qin_roster],
        [wei_morning, qin_afternoon],
        exempt=False,
        tz=SHANGHAI,
    )

    assert (row.duty_days, row.status) == (0, "uncovered")


def test_an_overlap_flagged_visit_counts_only_once_a_supervisor_resolves_it() -> None:
    flagged = visit(MON, flags=frozenset({"overlap"}))
    resolved = visit(TUE, flags=frozenset({"overlap"}), overlap_resolved=True)

    row = village_week(GUDING, W47, [WEI_ROSTER], [flagged, resolved], exempt=False, tz=SHANGHAI)

    assert not is_counting(flagged, [WEI_ROSTER], tz=SHANGHAI)
    assert is_counting(resolved, [WEI_ROSTER], tz=SHANGHAI)
    assert row.duty_dates == (TUE,)


def test_flag_counts_leave_out_deleted_dismissed_and_resolved_overlaps() -> None:
    visits = [
        visit(MON, flags=frozenset({"unassigned", "late"})),
        visit(TUE, flags=frozenset({"unassigned"})),
        visit(WED, flags=frozenset({"unassigned"}), deleted=True),
        visit(THU, flags=frozenset({"far_from_village"}), dismissed=True),
        visit(FRI, flags=frozenset({"overlap"}), overlap_resolved=True),
        visit(SAT, flags=frozenset({"overlap", "clock_skew"})),
    ]

    counts = visit_flag_counts(visits)

    assert counts == {"clock_skew": 1, "late": 1, "overlap": 1, "unassigned": 2}


def test_an_open_visit_does_not_count_until_it_is_closed() -> None:
    still_open = visit(MON, end=None)

    assert not is_counting(still_open, [WEI_ROSTER], tz=SHANGHAI)
    assert visit_duration(still_open) == timedelta(0)
    assert village_week(GUDING, W47, [WEI_ROSTER], [still_open], exempt=False).duty_days == 0


def test_deleted_and_dismissed_visits_never_count() -> None:
    deleted = visit(MON, deleted=True)
    dismissed = visit(TUE, dismissed=True)

    assert not is_counting(deleted, [WEI_ROSTER])
    assert not is_counting(dismissed, [WEI_ROSTER])


def test_an_unassigned_doctors_visits_do_not_count() -> None:
    qin_duty = full_week(doctor=QIN)

    row = village_week(GUDING, W47, [WEI_ROSTER], qin_duty, exempt=False, tz=SHANGHAI)

    assert covering_assignment(qin_duty[0], [WEI_ROSTER]) is None
    assert (row.status, row.duty_days) == ("uncovered", 0)


def test_a_visit_counts_only_under_an_assignment_of_the_matching_kind_and_date() -> None:
    patrol_visit = visit(MON, doctor=WEI, kind="patrol")
    before_start = visit(date(2026, 8, 31))
    ended = Assignment("a-old", WEI, GUDING.code, "roster", date(2026, 3, 1), date(2026, 8, 31))

    assert not is_counting(patrol_visit, [WEI_ROSTER])
    assert not is_counting(before_start, [WEI_ROSTER])
    assert covering_assignment(before_start, [WEI_ROSTER, ended]) == ended


def test_the_daily_totals_are_kept_per_doctor_village_date_and_kind() -> None:
    qin_roster = Assignment("a-roster-qin", QIN, GUDING.code, "roster", date(2026, 9, 1), None)
    visits = [
        visit(MON, (8, 0), (11, 0)),
        visit(MON, (13, 0), (16, 0)),
        visit(MON, (9, 0), (10, 0), doctor=QIN),
    ]

    totals = daily_totals(visits, [WEI_ROSTER, qin_roster], tz=SHANGHAI)

    assert totals == {
        (WEI, GUDING.code, MON, "duty"): timedelta(hours=6),
        (QIN, GUDING.code, MON, "duty"): timedelta(hours=1),
    }


# --- active days and prorating ---


@pytest.mark.parametrize(
    ("per_week", "days", "required"),
    [
        (5, 7, 5),
        (5, 5, 4),
        (5, 2, 2),
        (5, 1, 1),
        (5, 0, 0),
        (2, 7, 2),
        (2, 3, 1),
        (2, 4, 2),
        (2, 0, 0),
    ],
)
def test_requirements_are_prorated_up_to_the_next_whole_day(
    per_week: int, days: int, required: int
) -> None:
    assert prorated_requirement(per_week, days) == required


def test_an_assignment_starting_mid_week_is_active_from_its_first_day() -> None:
    from_wednesday = Assignment("a", WEI, GUDING.code, "roster", WED, None)
    visits = full_week(WED, THU, FRI, SAT)

    row = village_week(GUDING, W47, [from_wednesday], visits, exempt=False, tz=SHANGHAI)

    assert active_dates([from_wednesday], W47, kind="roster") == (WED, THU, FRI, SAT, SUN)
    assert (row.roster_active_days, row.duty_required, row.status) == (5, 4, "covered")


def test_an_assignment_ending_mid_week_is_active_until_its_last_day_inclusive() -> None:
    until_tuesday = Assignment("a", WEI, GUDING.code, "roster", date(2026, 9, 1), TUE)

    row = village_week(GUDING, W47, [until_tuesday], full_week(MON, WED), exempt=False, tz=SHANGHAI)

    assert (row.roster_active_days, row.duty_required, row.duty_days, row.status) == (
        2,
        2,
        1,
        "partial",
    )


def test_overlapping_assignments_of_one_kind_count_each_active_day_once() -> None:
    other = Assignment("a-roster-qin", QIN, GUDING.code, "roster", TUE, THU)

    row = village_week(GUDING, W47, [WEI_ROSTER, other], [], exempt=False, tz=SHANGHAI)

    assert (row.roster_active_days, row.duty_required, row.mode) == (7, 5, "roster")


def test_assignments_at_other_villages_do_not_make_this_village_active() -> None:
    elsewhere = Assignment("a", WEI, "450225100202", "roster", date(2026, 9, 1), None)

    row = village_week(GUDING, W47, [elsewhere], full_week(), exempt=False, tz=SHANGHAI)

    assert (row.mode, row.status) == ("none", "unassigned")


def test_the_policy_numbers_come_from_the_policy() -> None:
    lenient = Policy(duty_min_hours=4.0, duty_days_per_week=3)

    row = village_week(
        GUDING,
        W47,
        [WEI_ROSTER],
        full_week(MON, TUE) + [visit(WED, (8, 0), (12, 0))],
        exempt=False,
        tz=SHANGHAI,
        policy=lenient,
    )

    assert (row.duty_days, row.duty_required, row.status) == (3, 3, "covered")


# --- status ---


def test_both_kinds_assigned_is_mode_both_and_either_kind_can_cover() -> None:
    visits = [
        visit(TUE, (8, 30), (12, 30), doctor=QIN, kind="patrol"),
        visit(FRI, (14, 0), (18, 0), doctor=QIN, kind="patrol"),
    ]

    row = village_week(GUDING, W47, [WEI_ROSTER, QIN_PATROL], visits, exempt=False, tz=SHANGHAI)

    assert (row.mode, row.duty_days, row.patrol_days, row.status) == ("both", 0, 2, "covered")


def test_exempt_wins_over_everything() -> None:
    row = village_week(GUDING, W47, [], [], exempt=True, tz=SHANGHAI)

    assert (row.status, row.mode) == ("exempt", "none")


def test_a_village_that_does_not_need_coverage_and_has_no_assignment_is_self_served() -> None:
    dalang = Village("450225100203", "450225100", "大浪村", needs_coverage=False)

    assert village_week(dalang, W47, [], [], exempt=False).status == "self_served"
    assert village_week(GUDING, W47, [], [], exempt=False).status == "unassigned"


# --- provisional ---

WEEK_OVER = datetime(2026, 11, 23, 0, 0, tzinfo=CST)


def test_a_week_that_is_not_over_is_provisional_even_when_everyone_synced() -> None:
    synced = {WEI: WEEK_OVER}

    assert is_provisional(W47, WEEK_OVER - timedelta(seconds=1), SHANGHAI, [WEI], synced)


def test_a_week_is_provisional_while_one_assigned_doctor_has_not_synced_since_it_ended() -> None:
    last_sync = {WEI: WEEK_OVER + timedelta(hours=9), QIN: WEEK_OVER - timedelta(minutes=5)}
    now = WEEK_OVER + timedelta(days=3)

    assert is_provisional(W47, now, SHANGHAI, [WEI, QIN], last_sync)
    assert unsynced_doctors(W47, [WEI, QIN], last_sync, tz=SHANGHAI) == (QIN,)


def test_a_doctor_who_never_synced_keeps_the_week_provisional() -> None:
    assert is_provisional(
        W47, WEEK_OVER + timedelta(days=30), SHANGHAI, [WEI, QIN], {WEI: WEEK_OVER, QIN: None}
    )
    assert unsynced_doctors(W47, [WEI, QIN], {WEI: WEEK_OVER}, tz=SHANGHAI) == (QIN,)


def test_a_week_is_final_once_every_assigned_doctor_has_synced_since_it_ended() -> None:
    last_sync = {WEI: WEEK_OVER, QIN: WEEK_OVER + timedelta(days=1), "黄医生": None}

    assert not is_provisional(W47, WEEK_OVER + timedelta(days=2), SHANGHAI, [WEI, QIN], last_sync)
    assert unsynced_doctors(W47, [WEI, QIN], last_sync, tz=SHANGHAI) == ()


def test_a_week_with_nobody_assigned_is_final_once_it_is_over() -> None:
    assert not is_provisional(W47, WEEK_OVER, SHANGHAI, [], {})


def test_the_week_ends_at_local_midnight_in_the_given_zone() -> None:
    synced_in_utc = {
        WEI: datetime.fromisoformat("2026-11-22T16:00:00Z")
    }  # Monday 00:00 in Shanghai

    assert not is_provisional(W47, WEEK_OVER, SHANGHAI, [WEI], synced_in_utc)
    assert is_provisional(W47, WEEK_OVER, "Europe/Berlin", [WEI], synced_in_utc)


def test_the_doctors_assigned_during_a_week_include_those_who_left_or_arrived_mid_week() -> None:
    left = Assignment("a1", WEI, GUDING.code, "roster", date(2026, 5, 1), TUE)
    arrives = Assignment("a2", QIN, GUDING.code, "patrol", SUN, None)
    gone = Assignment("a3", "黄医生", GUDING.code, "roster", date(2026, 1, 1), date(2026, 11, 15))
    elsewhere = Assignment("a4", "蒙医生", "450225100202", "roster", date(2026, 1, 1), None)

    assert doctors_assigned([left, arrives, gone, elsewhere], GUDING.code, W47) == {WEI, QIN}


# --- the property: more counting visits never make a week worse ---

RANK = {"uncovered": 0, "partial": 1, "covered": 2}
DOCTORS = (WEI, QIN)
ASSIGNMENTS = (
    WEI_ROSTER,
    Assignment("a-roster-qin", QIN, GUDING.code, "roster", THU, None),
    Assignment("a-patrol-qin", QIN, GUDING.code, "patrol", date(2026, 9, 1), WED),
    Assignment("a-patrol-wei", WEI, GUDING.code, "patrol", FRI, None),
)


@st.composite
def visits_in_w47(draw: st.DrawFn) -> Visit:
    start = datetime(2026, 11, 16, tzinfo=CST) + timedelta(
        minutes=draw(st.integers(0, 7 * 24 * 60 - 1))
    )
    length = timedelta(minutes=draw(st.integers(1, 12 * 60)))
    return Visit(
        id=f"v{draw(st.integers(0, 10**9))}",
        doctor=draw(st.sampled_from(DOCTORS)),
        village=GUDING.code,
        kind=draw(st.sampled_from(("duty", "patrol"))),
        started_at=start,
        ended_at=start + length,
    )


def counting(candidates: Sequence[Visit]) -> list[Visit]:
    return [v for v in candidates if is_counting(v, ASSIGNMENTS, tz=SHANGHAI)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(visits_in_w47(), max_size=12),
    st.lists(visits_in_w47(), min_size=1, max_size=6),
)
def test_adding_a_counting_visit_never_lowers_the_status_or_the_day_counts(
    before: list[Visit], candidates: list[Visit]
) -> None:
    added = counting(candidates)

    old = village_week(GUDING, W47, ASSIGNMENTS, before, exempt=False, tz=SHANGHAI)
    new = village_week(GUDING, W47, ASSIGNMENTS, before + added, exempt=False, tz=SHANGHAI)

    assert RANK[cast(str, new.status)] >= RANK[cast(str, old.status)]
    assert new.duty_days >= old.duty_days
    assert new.patrol_days >= old.patrol_days
    assert (new.duty_required, new.patrol_required) == (old.duty_required, old.patrol_required)


def test_coverage_rate_leaves_out_exempt_and_self_served_weeks() -> None:
    assert coverage_rate({"covered": 3, "partial": 1, "exempt": 5, "self_served": 2}) == 0.75
    assert coverage_rate({"exempt": 2}) is None
    assert coverage_rate({"covered": 1, "unassigned": 1}) == 0.5


# --- the week-at-a-time shortcuts agree with the day-by-day rules ---

WEEKS = ("2026-W47", "2026-W13", "2026-W44")  # W13 and W44 hold Berlin's clock changes
AROUND = [date(2026, 3, 16) + timedelta(days=n) for n in range(0, 260, 3)]


@st.composite
def assignments_near(draw: st.DrawFn) -> Assignment:
    """An assignment at 古鼎村 or its neighbour whose range may start or end in any of WEEKS, or
    end before it starts (nothing refuses that here)."""
    start = draw(st.sampled_from(AROUND))
    end = draw(st.none() | st.sampled_from(AROUND))
    return Assignment(
        id=f"a{draw(st.integers(0, 10**6))}",
        doctor=draw(st.sampled_from((WEI, QIN))),
        village=draw(st.sampled_from((GUDING.code, "450225100202"))),
        kind=draw(st.sampled_from(("roster", "patrol"))),
        start=start,
        end=end,
    )


def in_force(assignment: Assignment, day: date) -> bool:
    return assignment.start <= day and (assignment.end is None or day <= assignment.end)


@settings(max_examples=300, deadline=None)
@given(st.lists(assignments_near(), max_size=5), st.sampled_from(WEEKS))
def test_the_active_dates_are_the_days_some_assignment_is_in_force(
    held: list[Assignment], week: str
) -> None:
    days = week_dates(week)

    for kind in ("roster", "patrol"):
        assert active_dates(held, week, kind=kind) == tuple(
            d for d in days if any(a.kind == kind and in_force(a, d) for a in held)
        )
        assert active_dates(held, week, kind=kind, village=GUDING.code) == tuple(
            d
            for d in days
            if any(a.kind == kind and a.village == GUDING.code and in_force(a, d) for a in held)
        )


@settings(max_examples=300, deadline=None)
@given(st.lists(assignments_near(), max_size=5), st.sampled_from(WEEKS))
def test_the_doctors_assigned_are_those_in_force_on_some_day_of_the_week(
    held: list[Assignment], week: str
) -> None:
    expected = {
        a.doctor
        for a in held
        if a.village == GUDING.code and any(in_force(a, d) for d in week_dates(week))
    }

    assert doctors_assigned(held, GUDING.code, week) == expected


@st.composite
def local_visits(draw: st.DrawFn, week: str, tz: str) -> Visit:
    """A visit starting anywhere from the day before `week` to the day after, in local time."""
    first = datetime.combine(week_dates(week)[0] - timedelta(days=1), datetime.min.time())
    start = (first + timedelta(minutes=draw(st.integers(0, 9 * 24 * 60)))).replace(
        tzinfo=ZoneInfo(tz)
    )
    length = draw(st.none() | st.integers(1, 12 * 60))
    return Visit(
        id=f"v{draw(st.integers(0, 10**9))}",
        doctor=draw(st.sampled_from((WEI, QIN))),
        village=GUDING.code,
        kind=draw(st.sampled_from(("duty", "patrol"))),
        started_at=start,
        ended_at=None if length is None else start + timedelta(minutes=length),
        deleted=draw(st.booleans()),
        flags=draw(st.sampled_from((frozenset(), frozenset({"overlap"})))),
        overlap_resolved=draw(st.booleans()),
    )


def in_utc(visit: Visit) -> Visit:
    """The visit as the server reads it back: both times in UTC."""
    ended = None if visit.ended_at is None else visit.ended_at.astimezone(UTC)
    return replace(visit, started_at=visit.started_at.astimezone(UTC), ended_at=ended)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(WEEKS), st.sampled_from((SHANGHAI, "Europe/Berlin")))
def test_a_week_read_back_in_utc_is_the_week_recorded_in_local_time(
    data: st.DataObject, week: str, tz: str
) -> None:
    visits = data.draw(st.lists(local_visits(week, tz), max_size=14))
    held = [
        Assignment("r", WEI, GUDING.code, "roster", date(2026, 1, 1), None),
        Assignment("p", QIN, GUDING.code, "patrol", date(2026, 1, 1), None),
    ]

    recorded = village_week(GUDING, week, held, visits, exempt=False, tz=tz)
    read_back = village_week(GUDING, week, held, [in_utc(v) for v in visits], exempt=False, tz=tz)

    assert read_back == recorded
    assert [visit_duration(in_utc(v)) for v in visits] == [visit_duration(v) for v in visits]


def test_a_visit_without_an_offset_is_refused_even_when_it_would_not_count() -> None:
    naive = replace(visit(MON), started_at=datetime(2026, 11, 16, 8, 0), deleted=True)

    with pytest.raises(ValueError, match="naive"):
        village_week(GUDING, W47, [WEI_ROSTER], [naive], exempt=False, tz=SHANGHAI)
