"""The weekly reminder timetable and the Thursday "behind pace" rule (sync/pace.py, SPEC §11)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sync.model import Assignment, Slot, Visit
from sync.pace import (
    assignment_pace,
    behind_pace,
    days_left,
    days_still_needed,
    due_at,
    due_kinds,
    village_pace,
)
from sync.policy import Policy

CST = timezone(timedelta(hours=8))
SHANGHAI = "Asia/Shanghai"
W47 = "2026-W47"
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, d) for d in range(16, 23))
THURSDAY_EVENING = datetime(2026, 11, 19, 18, 0, tzinfo=CST)
GUDING, XINGUO = "450225100201", "450225100202"
WEI, QIN = "doc-1", "doc-2"
WEI_ROSTER = Assignment("asg-1", WEI, GUDING, "roster", date(2026, 6, 1), None)
QIN_PATROL = Assignment(
    "asg-2", QIN, XINGUO, "patrol", date(2026, 6, 1), None, (Slot(2, "am"), Slot(5, "pm"))
)
NUMBERS = itertools.count(1)


def visit(day: date, start: int, hours: float, *, doctor: str, kind: str, village: str) -> Visit:
    started_at = datetime(day.year, day.month, day.day, start, 0, tzinfo=CST)
    return Visit(
        id=f"00000000-0000-4000-8000-{next(NUMBERS):012d}",
        doctor=doctor,
        village=village,
        kind=kind,  # type: ignore[arg-type]
        started_at=started_at,
        ended_at=started_at + timedelta(hours=hours),
    )


def duty(*days: date) -> list[Visit]:
    return [visit(d, 8, 9, doctor=WEI, kind="duty", village=GUDING) for d in days]


def patrol(*days: date) -> list[Visit]:
    return [visit(d, 8, 4, doctor=QIN, kind="patrol", village=XINGUO) for d in days]


def test_weekly_reminders_are_due_monday_at_eight_local_time() -> None:
    due = due_at(W47, "weekly", SHANGHAI)

    assert due == datetime(2026, 11, 16, 8, 0, tzinfo=CST)


def test_the_nudge_is_due_thursday_at_six_in_the_evening() -> None:
    due = due_at(W47, "nudge", SHANGHAI)

    assert due == datetime(2026, 11, 19, 18, 0, tzinfo=CST)


def test_nothing_is_due_early_on_monday() -> None:
    week, kinds = due_kinds(datetime(2026, 11, 16, 7, 59, tzinfo=CST), SHANGHAI)

    assert (week, kinds) == (W47, [])


def test_a_server_started_on_wednesday_catches_up_mondays_reminders_only() -> None:
    week, kinds = due_kinds(datetime(2026, 11, 18, 10, 0, tzinfo=CST), SHANGHAI)

    assert (week, kinds) == (W47, ["weekly"])


def test_on_sunday_both_kinds_of_the_current_week_are_due_and_no_older_week() -> None:
    week, kinds = due_kinds(datetime(2026, 11, 22, 23, 0, tzinfo=CST), SHANGHAI)

    assert (week, kinds) == (W47, ["weekly", "nudge"])


def test_due_times_follow_the_deployment_time_zone() -> None:
    # 00:30 UTC Monday is 08:30 in Shanghai: due there, not in a UTC deployment.
    now = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)

    assert due_kinds(now, SHANGHAI)[1] == ["weekly"]
    assert due_kinds(now, "UTC")[1] == []


def test_a_rostered_doctor_with_four_days_by_thursday_is_on_pace() -> None:
    pace = assignment_pace(WEI_ROSTER, W47, THU, duty(MON, TUE, WED, THU), tz=SHANGHAI)

    assert (pace.done, pace.required, pace.still_needed, pace.planned_left) == (4, 5, 1, 1)
    assert not pace.behind


def test_a_rostered_doctor_with_three_days_by_thursday_is_behind() -> None:
    pace = assignment_pace(WEI_ROSTER, W47, THU, duty(MON, TUE, THU), tz=SHANGHAI)

    assert (pace.done, pace.still_needed, pace.planned_left) == (3, 2, 1)
    assert pace.behind


def test_short_duty_days_do_not_count_towards_pace() -> None:
    visits = duty(MON, TUE, WED) + [visit(THU, 8, 5, doctor=WEI, kind="duty", village=GUDING)]

    pace = assignment_pace(WEI_ROSTER, W47, THU, visits, tz=SHANGHAI)

    assert pace.done == 3
    assert pace.behind


def test_a_patrol_doctor_with_tuesday_done_and_friday_planned_is_on_pace() -> None:
    pace = assignment_pace(QIN_PATROL, W47, THU, patrol(TUE), tz=SHANGHAI)

    assert (pace.done, pace.required, pace.planned_left) == (1, 2, 1)
    assert pace.planned_dates == (FRI,)
    assert not pace.behind


def test_a_patrol_doctor_who_missed_tuesday_is_behind() -> None:
    pace = assignment_pace(QIN_PATROL, W47, THU, [], tz=SHANGHAI)

    assert (pace.still_needed, pace.planned_left) == (2, 1)
    assert pace.behind


def test_two_slots_on_one_day_plan_only_one_patrol_day() -> None:
    same_day = Assignment(
        "asg-9", QIN, XINGUO, "patrol", date(2026, 6, 1), None, (Slot(5, "am"), Slot(5, "pm"))
    )

    pace = assignment_pace(same_day, W47, THU, [], tz=SHANGHAI)

    assert pace.planned_left == 1
    assert pace.behind


def test_a_patrol_without_slots_is_behind_while_anything_is_still_needed() -> None:
    unscheduled = Assignment("asg-8", QIN, XINGUO, "patrol", date(2026, 6, 1), None, ())

    assert assignment_pace(unscheduled, W47, THU, patrol(MON), tz=SHANGHAI).behind
    assert not assignment_pace(unscheduled, W47, THU, patrol(MON, WED), tz=SHANGHAI).behind


def test_a_prorated_week_asks_only_for_its_share() -> None:
    # Starts Wednesday: 5 active days, ceil(5 × 5 / 7) = 4 duty days; Wed, Thu done, Fri planned.
    starting = Assignment("asg-7", WEI, GUDING, "roster", WED, None)

    pace = assignment_pace(starting, W47, THU, duty(WED, THU), tz=SHANGHAI)

    assert (pace.required, pace.done, pace.planned_left) == (4, 2, 1)
    assert pace.behind


def test_an_assignment_ending_today_has_nothing_planned_left() -> None:
    ending = Assignment("asg-6", WEI, GUDING, "roster", date(2026, 6, 1), THU)

    pace = assignment_pace(ending, W47, THU, duty(MON, TUE, WED), tz=SHANGHAI)

    assert (pace.required, pace.planned_left) == (3, 0)
    assert not pace.behind


def test_a_four_day_duty_policy_plans_monday_to_thursday() -> None:
    policy = Policy(duty_days_per_week=4)

    pace = assignment_pace(WEI_ROSTER, W47, WED, duty(MON, TUE), tz=SHANGHAI, policy=policy)

    assert (pace.required, pace.planned_left) == (4, 1)
    assert pace.behind


def test_behind_pace_lists_only_the_assignments_behind() -> None:
    visits = duty(MON, TUE, WED, THU) + patrol()

    behind = behind_pace([WEI_ROSTER, QIN_PATROL], W47, THURSDAY_EVENING, visits, tz=SHANGHAI)

    assert [p.assignment for p in behind] == ["asg-2"]


def test_behind_pace_ignores_assignments_not_active_this_week() -> None:
    ended = Assignment("asg-5", WEI, GUDING, "roster", date(2026, 6, 1), date(2026, 11, 1))

    assert behind_pace([ended], W47, THURSDAY_EVENING, [], tz=SHANGHAI) == []


# --- the dashboard's pace of the running week ----------------------------------------------


@pytest.mark.parametrize(
    ("today", "left"),
    [(date(2026, 11, 23), 7), (date(2026, 11, 26), 4), (date(2026, 11, 29), 1)],
)
def test_days_left_counts_today(today: date, left: int) -> None:
    assert days_left(today) == left


def test_days_still_needed_of_one_kind_or_the_nearer_of_two() -> None:
    assert days_still_needed("roster", 2, 5, 0, 0) == 3
    assert days_still_needed("patrol", 0, 0, 1, 2) == 1
    assert days_still_needed("both", 1, 5, 1, 2) == 1  # one more patrol covers it
    assert days_still_needed("roster", 6, 5, 0, 0) == 0  # never negative
    assert days_still_needed("none", 0, 0, 0, 0) == 0


@pytest.mark.parametrize(
    ("status", "mode", "needed", "left", "expected"),
    [
        ("covered", "roster", 0, 3, "covered"),
        ("partial", "roster", 3, 3, "on_track"),  # exactly enough days left
        ("partial", "roster", 4, 3, "behind"),
        ("uncovered", "patrol", 2, 1, "behind"),
        ("exempt", "roster", 5, 1, None),
        ("unassigned", "none", 0, 7, None),
        ("self_served", "none", 0, 7, None),
    ],
)
def test_village_pace(
    status: str, mode: str, needed: int, left: int, expected: str | None
) -> None:
    assert village_pace(status, mode, needed, left) == expected
