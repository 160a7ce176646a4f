"""Doctor compliance of SPEC §4 and the /api/compliance row of §7 (sync/compliance.py)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from sync.compliance import (
    compliance_rows,
    doctor_compliance,
    is_short_tenure,
    schedule_adherence,
    starts_in_slot,
    tenure_days,
)
from sync.model import Assignment, Slot, Visit
from sync.policy import Policy

CST = timezone(timedelta(hours=8))
SHANGHAI = "Asia/Shanghai"
W47 = "2026-W47"
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, d) for d in range(16, 23))
GUDING, PEIXIU = "450225100201", "450225100202"
WEI, QIN = "韦医生", "覃医生"
TUE_AM_FRI_PM = (Slot(2, "am"), Slot(5, "pm"))
QIN_PATROL = Assignment(
    "a-patrol-qin", QIN, GUDING, "patrol", date(2026, 9, 1), None, TUE_AM_FRI_PM
)
WEI_ROSTER = Assignment("a-roster-wei", WEI, GUDING, "roster", date(2026, 9, 1), None)
VISIT_NUMBERS = itertools.count(1)


def visit(
    day: date,
    start: tuple[int, int],
    hours: float,
    *,
    doctor: str = QIN,
    kind: str = "patrol",
    village: str = GUDING,
    flags: frozenset[str] = frozenset(),
) -> Visit:
    started_at = datetime(day.year, day.month, day.day, *start, tzinfo=CST)
    return Visit(
        id=f"00000000-0000-4000-8000-{next(VISIT_NUMBERS):012d}",
        doctor=doctor,
        village=village,
        kind=kind,  # type: ignore[arg-type]
        started_at=started_at,
        ended_at=started_at + timedelta(hours=hours),
        flags=flags,
    )


def weeks_before(day: date, weeks: int) -> date:
    return day - timedelta(days=7 * weeks)


def duty_week(*days: date, doctor: str = WEI) -> list[Visit]:
    return [visit(d, (8, 0), 9, doctor=doctor, kind="duty") for d in days]


# --- days and requirement ---


def test_a_rostered_doctor_with_five_full_days_meets_the_requirement() -> None:
    row = doctor_compliance(WEI_ROSTER, W47, duty_week(MON, TUE, WED, THU, FRI), tz=SHANGHAI)

    assert (row.doctor, row.assignment, row.village, row.kind) == (
        WEI,
        "a-roster-wei",
        GUDING,
        "roster",
    )
    assert (row.days, row.required, row.adherence, row.flags) == (5, 5, None, ())
    assert row.dates == (MON, TUE, WED, THU, FRI)


def test_days_are_the_doctors_own_not_the_villages() -> None:
    qin_roster = Assignment("a-roster-qin", QIN, GUDING, "roster", date(2026, 9, 1), None)
    visits = duty_week(MON, TUE) + duty_week(WED, THU, FRI, doctor=QIN)

    rows = compliance_rows(W47, [WEI_ROSTER, qin_roster], visits, tz=SHANGHAI)

    assert [(r.doctor, r.days, r.required) for r in rows] == [(QIN, 3, 5), (WEI, 2, 5)]


def test_own_days_need_the_policy_minimum_and_a_lunch_split_adds_up() -> None:
    visits = [
        visit(MON, (8, 0), 3.5, doctor=WEI, kind="duty"),
        visit(MON, (13, 0), 2.5, doctor=WEI, kind="duty"),
        visit(TUE, (8, 0), 5.99, doctor=WEI, kind="duty"),
    ]

    row = doctor_compliance(WEI_ROSTER, W47, visits, tz=SHANGHAI)

    assert row.dates == (MON,)


def test_the_requirement_is_the_assignments_own_prorated_requirement() -> None:
    from_saturday = Assignment("a-patrol-qin", QIN, GUDING, "patrol", SAT, None, (Slot(7, "am"),))

    row = doctor_compliance(from_saturday, W47, [visit(SUN, (8, 0), 4)], tz=SHANGHAI)

    assert (row.days, row.required, row.adherence, row.flags) == (1, 1, 1.0, ())


def test_a_renewed_assignment_mid_week_gives_two_rows_each_with_its_own_days() -> None:
    old = Assignment("a-2026a", WEI, GUDING, "roster", date(2026, 5, 1), WED)
    new = Assignment("a-2026b", WEI, GUDING, "roster", THU, date(2027, 5, 31))
    visits = duty_week(MON, TUE, WED, THU, FRI)

    rows = compliance_rows(W47, [new, old], visits, tz=SHANGHAI)

    assert [(r.assignment, r.days, r.required) for r in rows] == [
        ("a-2026a", 3, 3),
        ("a-2026b", 2, 3),
    ]


def test_only_assignments_active_during_the_week_get_a_row() -> None:
    ended = Assignment("a-old", WEI, PEIXIU, "roster", date(2026, 1, 1), date(2026, 11, 15))
    future = Assignment("a-next", QIN, PEIXIU, "patrol", date(2026, 11, 23), None, TUE_AM_FRI_PM)
    last_day = Assignment("a-last", QIN, GUDING, "roster", date(2026, 1, 1), MON)

    rows = compliance_rows(W47, [ended, future, last_day, WEI_ROSTER], [], tz=SHANGHAI)

    assert [r.assignment for r in rows] == ["a-last", "a-roster-wei"]


def test_visits_that_do_not_count_are_not_the_doctors_days() -> None:
    visits = [
        visit(MON, (8, 0), 9, doctor=WEI, kind="duty", flags=frozenset({"overlap"})),
        visit(TUE, (8, 0), 9, doctor=WEI, kind="patrol"),
        visit(WED, (8, 0), 9, doctor=WEI, kind="duty", village=PEIXIU),
        visit(THU, (8, 0), 9, doctor=WEI, kind="duty"),
    ]

    row = doctor_compliance(WEI_ROSTER, W47, visits, tz=SHANGHAI)

    assert row.dates == (THU,)


# --- short tenure ---


def test_a_roster_assignment_planned_for_fewer_than_183_days_is_short_tenure() -> None:
    three_months = Assignment("a", WEI, GUDING, "roster", date(2026, 9, 1), date(2026, 11, 30))

    row = doctor_compliance(three_months, W47, [], tz=SHANGHAI)

    assert tenure_days(three_months) == 91
    assert row.flags == ("short_tenure",)


def test_183_days_counting_both_ends_is_half_a_year() -> None:
    half_year = Assignment("a", WEI, GUDING, "roster", date(2026, 6, 1), date(2026, 11, 30))
    a_day_less = Assignment("a", WEI, GUDING, "roster", date(2026, 6, 2), date(2026, 11, 30))

    assert tenure_days(half_year) == 183
    assert not is_short_tenure(half_year)
    assert is_short_tenure(a_day_less)


def test_an_open_ended_roster_assignment_is_not_short_tenure() -> None:
    assert tenure_days(WEI_ROSTER) is None
    assert not is_short_tenure(WEI_ROSTER)


def test_a_roster_assignment_ended_early_is_short_tenure() -> None:
    cut_short = Assignment("a", WEI, GUDING, "roster", date(2026, 9, 1), WED)

    assert doctor_compliance(cut_short, W47, [], tz=SHANGHAI).flags == ("short_tenure",)


def test_short_tenure_is_a_roster_rule_only() -> None:
    short_patrol = Assignment(
        "a", QIN, GUDING, "patrol", date(2026, 11, 1), date(2026, 11, 30), TUE_AM_FRI_PM
    )

    assert not is_short_tenure(short_patrol)


def test_the_tenure_threshold_is_a_policy_setting() -> None:
    three_months = Assignment("a", WEI, GUDING, "roster", date(2026, 9, 1), date(2026, 11, 30))

    assert not is_short_tenure(three_months, Policy(min_tenure_days=90))


# --- schedule adherence ---


def test_patrols_on_their_slots_for_four_weeks_adhere_fully() -> None:
    visits = [
        visit(weeks_before(day, n), start, 4)
        for n in range(4)
        for day, start in ((TUE, (8, 30)), (FRI, (14, 0)))
    ]

    row = doctor_compliance(QIN_PATROL, W47, visits, tz=SHANGHAI)

    assert (row.days, row.required, row.adherence, row.flags) == (2, 2, 1.0, ())


def test_half_the_patrols_off_schedule_is_an_irregular_schedule() -> None:
    visits = [
        visit(TUE, (8, 30), 4),
        visit(FRI, (14, 0), 4),
        visit(weeks_before(WED, 1), (8, 30), 4),  # Wednesday: no slot
        visit(weeks_before(FRI, 2), (8, 0), 4),  # Friday morning: the slot is the afternoon
    ]

    row = doctor_compliance(QIN_PATROL, W47, visits, tz=SHANGHAI)

    assert row.adherence == 0.5
    assert row.flags == ("irregular_schedule",)


def test_three_of_four_on_schedule_is_exactly_the_threshold_and_not_irregular() -> None:
    visits = [
        visit(TUE, (8, 30), 4),
        visit(FRI, (14, 0), 4),
        visit(weeks_before(TUE, 1), (9, 0), 4),
    ]
    visits.append(visit(weeks_before(THU, 3), (9, 0), 4))

    row = doctor_compliance(QIN_PATROL, W47, visits, tz=SHANGHAI)

    assert row.adherence == 0.75
    assert row.flags == ()


def test_a_single_off_schedule_patrol_is_not_enough_to_call_the_schedule_irregular() -> None:
    row = doctor_compliance(QIN_PATROL, W47, [visit(WED, (9, 0), 4)], tz=SHANGHAI)

    assert (row.adherence, row.flags) == (0.0, ())


def test_adherence_is_none_without_qualifying_patrols() -> None:
    short = visit(TUE, (8, 30), 3)

    assert schedule_adherence(QIN_PATROL, W47, [short], tz=SHANGHAI) == (None, 0)
    assert doctor_compliance(QIN_PATROL, W47, [short], tz=SHANGHAI).adherence is None


def test_adherence_is_none_for_a_roster_assignment() -> None:
    row = doctor_compliance(WEI_ROSTER, W47, duty_week(MON, TUE), tz=SHANGHAI)

    assert row.adherence is None


def test_a_patrol_assignment_without_slots_is_flagged_no_schedule() -> None:
    unscheduled = Assignment("a", QIN, GUDING, "patrol", date(2026, 9, 1), None)
    visits = [visit(WED, (9, 0), 4), visit(THU, (15, 0), 4)]

    row = doctor_compliance(unscheduled, W47, visits, tz=SHANGHAI)

    assert (row.days, row.adherence, row.flags) == (2, None, ("no_schedule",))


def test_the_window_is_the_four_weeks_ending_with_this_one() -> None:
    five_weeks_ago = visit(weeks_before(WED, 4), (9, 0), 4)
    four_weeks_ago = visit(weeks_before(TUE, 3), (9, 0), 4)

    assert schedule_adherence(QIN_PATROL, W47, [five_weeks_ago], tz=SHANGHAI) == (None, 0)
    assert schedule_adherence(QIN_PATROL, W47, [four_weeks_ago], tz=SHANGHAI) == (1.0, 1)


def test_patrols_after_this_week_do_not_count_in_its_window() -> None:
    next_wednesday = visit(WED + timedelta(days=7), (9, 0), 4)

    assert schedule_adherence(QIN_PATROL, W47, [next_wednesday], tz=SHANGHAI) == (None, 0)


def test_am_means_a_local_start_before_noon_and_pm_from_noon() -> None:
    tuesday_morning_only = Assignment(
        "a", QIN, GUDING, "patrol", date(2026, 9, 1), None, (Slot(2, "am"),)
    )

    assert starts_in_slot(visit(TUE, (11, 59), 4), tuesday_morning_only, tz=SHANGHAI)
    assert not starts_in_slot(visit(TUE, (12, 0), 4), tuesday_morning_only, tz=SHANGHAI)


def test_the_slot_half_is_read_in_local_time_even_when_the_phone_sent_utc() -> None:
    in_utc = Visit(
        "u1",
        QIN,
        GUDING,
        "patrol",
        datetime.fromisoformat("2026-11-20T05:00:00Z"),  # Friday 13:00 in Shanghai
        datetime.fromisoformat("2026-11-20T09:00:00Z"),
    )

    assert starts_in_slot(in_utc, QIN_PATROL, tz=SHANGHAI)
    assert not starts_in_slot(in_utc, QIN_PATROL, tz="UTC")  # 05:00, a Friday morning


def test_a_date_adheres_when_any_counting_patrol_that_day_starts_in_a_slot() -> None:
    friday_pm_only = Assignment(
        "a", QIN, GUDING, "patrol", date(2026, 9, 1), None, (Slot(5, "pm"),)
    )
    visits = [visit(FRI, (8, 0), 2), visit(FRI, (14, 0), 2)]

    assert schedule_adherence(friday_pm_only, W47, visits, tz=SHANGHAI) == (1.0, 1)


def test_a_patrol_held_back_by_an_overlap_does_not_make_a_date_adhere() -> None:
    friday_pm_only = Assignment(
        "a", QIN, GUDING, "patrol", date(2026, 9, 1), None, (Slot(5, "pm"),)
    )
    visits = [visit(FRI, (8, 0), 4), visit(FRI, (14, 0), 4, flags=frozenset({"overlap"}))]

    assert schedule_adherence(friday_pm_only, W47, visits, tz=SHANGHAI) == (0.0, 1)


def test_adherence_counts_only_patrols_under_this_assignment() -> None:
    started_last_week = Assignment(
        "a-new", QIN, GUDING, "patrol", weeks_before(MON, 1), None, TUE_AM_FRI_PM
    )
    before_it = visit(weeks_before(WED, 2), (9, 0), 4)
    elsewhere = visit(WED, (9, 0), 4, village=PEIXIU)

    assert schedule_adherence(
        started_last_week, W47, [before_it, elsewhere, visit(TUE, (9, 0), 4)], tz=SHANGHAI
    ) == (
        1.0,
        1,
    )


def test_the_adherence_threshold_and_window_are_policy_settings() -> None:
    visits = [visit(TUE, (8, 30), 4), visit(WED, (9, 0), 4), visit(weeks_before(WED, 1), (9, 0), 4)]
    strict = Policy(adherence_threshold=0.9, adherence_weeks=1)

    row = doctor_compliance(QIN_PATROL, W47, visits, tz=SHANGHAI, policy=strict)

    assert (row.adherence, row.flags) == (0.5, ("irregular_schedule",))
