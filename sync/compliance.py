"""Doctor compliance of SPEC §4: per doctor, week and assignment, own days, tenure and schedule adherence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sync.coverage import (
    active_dates,
    assignment_contains,
    daily_totals,
    is_counting,
    prorated_requirement,
    qualifying_dates,
    visit_date,
)
from sync.model import Assignment, AssignmentKind, Visit, VisitKind
from sync.policy import DEFAULT_POLICY, Policy
from sync.weeks import DEFAULT_TZ, week_dates, weeks_ending_with, zone

ComplianceFlag = Literal["short_tenure", "irregular_schedule", "no_schedule"]


@dataclass(frozen=True)
class ComplianceRow:
    doctor: str
    assignment: str
    village: str
    kind: AssignmentKind
    week: str
    days: int
    required: int
    adherence: float | None
    flags: tuple[ComplianceFlag, ...]
    # The doctor's own qualifying dates this week, behind `days`.
    dates: tuple[date, ...] = ()


def visit_kind_for(assignment: Assignment) -> VisitKind:
    """The kind of visit that counts for an assignment: duty for roster, patrol for patrol."""
    return "duty" if assignment.kind == "roster" else "patrol"


def tenure_days(assignment: Assignment) -> int | None:
    """The number of days the assignment is planned for (or lasted), both ends included;
    None when it is open-ended."""
    if assignment.end is None:
        return None
    return (assignment.end - assignment.start).days + 1


def is_short_tenure(assignment: Assignment, policy: Policy = DEFAULT_POLICY) -> bool:
    """True for a roster assignment planned for, or ended after, fewer than `min_tenure_days`:
    "the same administrative village for at least half a year in a row". Open-ended is not short."""
    days = tenure_days(assignment)
    return assignment.kind == "roster" and days is not None and days < policy.min_tenure_days


def own_qualifying_dates(
    assignment: Assignment,
    visits: Iterable[Visit],
    days: Iterable[date],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[date, ...]:
    """The dates among `days` (sorted) on which the assignment's doctor, under this very
    assignment, reached the policy minimum at its village on their own."""
    wanted = {day for day in days if assignment_contains(assignment, day)}
    mine = [v for v in visits if v.doctor == assignment.doctor and visit_date(v, tz) in wanted]
    # Counting against this assignment alone keeps a renewed assignment's days apart from the old one's.
    totals = daily_totals(mine, [assignment], tz=tz)
    return tuple(sorted(qualifying_dates(totals, visit_kind_for(assignment), policy=policy)))


def starts_in_slot(visit: Visit, assignment: Assignment, *, tz: str = DEFAULT_TZ) -> bool:
    """True when the visit starts in one of the assignment's slots: on the slot's weekday, in the
    morning (`am`, local start hour < 12) or afternoon (`pm`, ≥ 12)."""
    local = visit.started_at.astimezone(zone(tz))
    half = "am" if local.hour < 12 else "pm"
    return any(s.weekday == local.isoweekday() and s.half == half for s in assignment.slots)


def schedule_adherence(
    assignment: Assignment,
    week: str,
    visits: Iterable[Visit],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[float | None, int]:
    """(adherence, qualifying patrol dates) over the `adherence_weeks` weeks ending with `week`.

    Adherence is the share of the doctor's qualifying patrol dates under this assignment on which
    a counting patrol started in one of its slots; None for roster, without slots, or with no
    qualifying patrol in the window.
    """
    if assignment.kind != "patrol" or not assignment.slots:
        return None, 0
    window = [day for w in weeks_ending_with(week, policy.adherence_weeks) for day in week_dates(w)]
    held = [v for v in visits if v.doctor == assignment.doctor]
    dates = own_qualifying_dates(assignment, held, window, tz=tz, policy=policy)
    if not dates:
        return None, 0
    qualifying = set(dates)
    on_schedule = {
        visit_date(v, tz)
        for v in held
        if visit_date(v, tz) in qualifying
        and is_counting(v, [assignment], tz=tz)
        and starts_in_slot(v, assignment, tz=tz)
    }
    return len(on_schedule) / len(dates), len(dates)


def doctor_compliance(
    assignment: Assignment,
    week: str,
    visits: Iterable[Visit],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> ComplianceRow:
    """The compliance row of one assignment's doctor for `week` (SPEC §7 /api/compliance row).

    `visits` should cover the adherence window (the four weeks ending with `week`).
    """
    held = list(visits)
    dates = own_qualifying_dates(assignment, held, week_dates(week), tz=tz, policy=policy)
    active = len(active_dates([assignment], week, kind=assignment.kind))
    per_week = (
        policy.duty_days_per_week if assignment.kind == "roster" else policy.patrol_visits_per_week
    )
    adherence, patrols = schedule_adherence(assignment, week, held, tz=tz, policy=policy)
    flags: list[ComplianceFlag] = []
    if is_short_tenure(assignment, policy):
        flags.append("short_tenure")
    if adherence is not None and adherence < policy.adherence_threshold and patrols >= 2:
        flags.append("irregular_schedule")
    if assignment.kind == "patrol" and not assignment.slots:
        flags.append("no_schedule")
    return ComplianceRow(
        doctor=assignment.doctor,
        assignment=assignment.id,
        village=assignment.village,
        kind=assignment.kind,
        week=week,
        days=len(dates),
        required=prorated_requirement(per_week, active),
        adherence=adherence,
        flags=tuple(flags),
        dates=dates,
    )


def compliance_rows(
    week: str,
    assignments: Iterable[Assignment],
    visits: Iterable[Visit],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> list[ComplianceRow]:
    """One row per assignment active on at least one date of `week`, by village, doctor and id."""
    days = week_dates(week)
    held = list(visits)
    active = [a for a in assignments if any(assignment_contains(a, day) for day in days)]
    active.sort(key=lambda a: (a.village, a.doctor, a.id))
    return [doctor_compliance(a, week, held, tz=tz, policy=policy) for a in active]
