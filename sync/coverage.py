"""The coverage engine of SPEC §4: which visits count, and one village-week → its status row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple

from sync.model import Assignment, AssignmentKind, Village, Visit, VisitKind
from sync.policy import DEFAULT_POLICY, Policy
from sync.weeks import DEFAULT_TZ, local_date, week_dates, week_end, zone

Mode = Literal["roster", "patrol", "both", "none"]
Status = Literal["exempt", "self_served", "unassigned", "covered", "partial", "uncovered"]

# "duty visit ↔ roster assignment, patrol visit ↔ patrol assignment".
ASSIGNMENT_KIND: Mapping[VisitKind, AssignmentKind] = {"duty": "roster", "patrol": "patrol"}


class DayKey(NamedTuple):
    """One doctor's work of one kind at one village on one local date."""

    doctor: str
    village: str
    date: date
    kind: VisitKind


@dataclass(frozen=True)
class CoverageRow:
    village: str
    week: str
    mode: Mode
    status: Status
    duty_days: int
    duty_required: int
    patrol_days: int
    patrol_required: int
    roster_active_days: int
    patrol_active_days: int
    # The qualifying dates behind duty_days and patrol_days, for the village detail page.
    duty_dates: tuple[date, ...] = ()
    patrol_dates: tuple[date, ...] = ()


def visit_date(visit: Visit, tz: str = DEFAULT_TZ) -> date:
    """The local date a visit belongs to: that of its `started_at`, even when it ends after midnight."""
    return local_date(visit.started_at, tz)


NO_TIME = timedelta(0)


def visit_duration(visit: Visit) -> timedelta:
    """`ended_at − started_at` as elapsed time (zero while the visit is still open)."""
    started, ended = visit.started_at, visit.ended_at
    if ended is None:
        return NO_TIME
    # Subtract in UTC: two datetimes sharing a tzinfo subtract by wall clock, an hour off
    # across a daylight-saving change. (Stored visits are read back in UTC already.)
    if started.tzinfo is not UTC or ended.tzinfo is not UTC:
        started, ended = started.astimezone(UTC), ended.astimezone(UTC)
    elapsed = ended - started
    return elapsed if elapsed > NO_TIME else NO_TIME


def is_eligible(visit: Visit) -> bool:
    """True when the record itself may count: closed, not deleted, not dismissed by a supervisor,
    and not held back by an `overlap` flag a supervisor has not resolved yet."""
    if visit.ended_at is None or visit.deleted or visit.dismissed:
        return False
    return "overlap" not in visit.flags or visit.overlap_resolved


def assignment_contains(assignment: Assignment, day: date) -> bool:
    """True when `day` lies within the assignment's inclusive date range."""
    return assignment.start <= day and (assignment.end is None or day <= assignment.end)


def covering_assignment(
    visit: Visit, assignments: Iterable[Assignment], *, tz: str = DEFAULT_TZ
) -> Assignment | None:
    """The assignment of the visit's doctor at its village, of the matching kind, whose range
    contains the visit's date; None when there is none (the visit is then flagged `unassigned`)."""
    return _covering_on(visit, visit_date(visit, tz), assignments)


def _covering_on(visit: Visit, day: date, assignments: Iterable[Assignment]) -> Assignment | None:
    """covering_assignment for a visit whose local date `day` the caller already has."""
    kind = ASSIGNMENT_KIND[visit.kind]
    for assignment in assignments:
        if (
            assignment.doctor == visit.doctor
            and assignment.village == visit.village
            and assignment.kind == kind
            and assignment_contains(assignment, day)
        ):
            return assignment
    return None


def is_counting(visit: Visit, assignments: Iterable[Assignment], *, tz: str = DEFAULT_TZ) -> bool:
    """True when the visit counts for coverage (SPEC §4 'A visit counts')."""
    return is_eligible(visit) and covering_assignment(visit, assignments, tz=tz) is not None


def daily_totals(
    visits: Iterable[Visit], assignments: Iterable[Assignment], *, tz: str = DEFAULT_TZ
) -> dict[DayKey, timedelta]:
    """The summed durations of counting visits per doctor, village, local date and kind.

    "A lunch break may split a day into two check-ins": the parts add up.
    """
    return _dated_totals(
        [(v, visit_date(v, tz)) for v in visits if is_eligible(v)], tuple(assignments)
    )


def _dated_totals(
    dated: Iterable[tuple[Visit, date]], held: Sequence[Assignment]
) -> dict[DayKey, timedelta]:
    """daily_totals of eligible visits whose local dates the caller already has: is_counting,
    with each date worked out once for the check and the key."""
    # Summed under plain tuples, made DayKeys once per key (a lunch split is two visits, one key).
    totals: defaultdict[tuple[str, str, date, VisitKind], timedelta] = defaultdict(timedelta)
    for visit, day in dated:
        if _covering_on(visit, day, held) is not None:
            totals[(visit.doctor, visit.village, day, visit.kind)] += visit_duration(visit)
    return {DayKey(*key): total for key, total in totals.items()}


def _eligible_in_week(
    visits: Iterable[Visit], village: str, days: Sequence[date], tz: str
) -> list[tuple[Visit, date]]:
    """The eligible visits at `village` whose visit_date is one of `days` (a week, in order), each
    with that date (visit_date's work, with the zone looked up once for them all)."""
    place = zone(tz)
    first, last = days[0], days[-1]
    found = []
    for visit in visits:
        if visit.village == village:
            started = visit.started_at
            # Stored visits are read back in UTC; anything else must not be naive.
            if started.tzinfo is not UTC and started.utcoffset() is None:
                local_date(started, tz)  # refuses it, as visit_date does
            day = started.astimezone(place).date()
            if first <= day <= last and is_eligible(visit):
                found.append((visit, day))
    return found


def minimum_hours(kind: VisitKind, policy: Policy = DEFAULT_POLICY) -> timedelta:
    """How long one doctor must work on one date for it to count: 6 h duty, 4 h (half a day) patrol."""
    hours = policy.duty_min_hours if kind == "duty" else policy.patrol_min_hours
    return timedelta(hours=hours)


def qualifying_dates(
    totals: Mapping[DayKey, timedelta],
    kind: VisitKind,
    *,
    policy: Policy = DEFAULT_POLICY,
    village: str | None = None,
    doctor: str | None = None,
) -> frozenset[date]:
    """The distinct dates on which some doctor's total of `kind` reaches the policy minimum
    (optionally only at `village`, only for `doctor`).

    Totals are never added across doctors: two doctors with 3 h each are not one duty day.
    """
    needed = minimum_hours(kind, policy)
    return frozenset(
        key.date
        for key, total in totals.items()
        if key.kind == kind
        and total >= needed
        and (village is None or key.village == village)
        and (doctor is None or key.doctor == doctor)
    )


def active_dates(
    assignments: Iterable[Assignment],
    week: str,
    *,
    kind: AssignmentKind,
    village: str | None = None,
) -> tuple[date, ...]:
    """The dates of `week` on which at least one assignment of `kind` (at `village`) is in force."""
    days = week_dates(week)
    offsets: set[int] = set()
    for a in assignments:
        if a.kind == kind and (village is None or a.village == village):
            # The days of the week within [start, end]: one range of offsets from Monday.
            first, last = _span_in_week(a, days)
            offsets.update(range((first - days[0]).days, (last - days[0]).days + 1))
    if len(offsets) == len(days):
        return days  # in force all week, the common case
    return tuple(days[offset] for offset in sorted(offsets))


def _span_in_week(assignment: Assignment, days: Sequence[date]) -> tuple[date, date]:
    """The first and last of `days` (a week, in order) within the assignment's range; the first
    is after the last when none is."""
    first = max(assignment.start, days[0])
    last = days[-1] if assignment.end is None else min(assignment.end, days[-1])
    return first, last


def prorated_requirement(per_week: int, active_days: int) -> int:
    """ceil(per_week × active_days / 7): a week an assignment starts or ends in asks for less."""
    return -(-per_week * active_days // 7)


def mode_of(roster_active_days: int, patrol_active_days: int) -> Mode:
    """`roster`, `patrol`, `both` or `none`, by which kinds of assignment are active in the week."""
    if roster_active_days and patrol_active_days:
        return "both"
    if roster_active_days:
        return "roster"
    if patrol_active_days:
        return "patrol"
    return "none"


def village_week(
    village: Village,
    week: str,
    assignments: Iterable[Assignment],
    visits: Iterable[Visit],
    *,
    exempt: bool,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> CoverageRow:
    """The coverage row of one village and one week.

    `assignments` and `visits` may include other villages' and other weeks'; only this village's
    visits dated in `week` are counted.
    """
    held = [a for a in assignments if a.village == village.code]
    totals = _dated_totals(_eligible_in_week(visits, village.code, week_dates(week), tz), held)
    duty = sorted(qualifying_dates(totals, "duty", policy=policy))
    patrol = sorted(qualifying_dates(totals, "patrol", policy=policy))
    roster_active = len(active_dates(held, week, kind="roster"))
    patrol_active = len(active_dates(held, week, kind="patrol"))
    duty_required = prorated_requirement(policy.duty_days_per_week, roster_active)
    patrol_required = prorated_requirement(policy.patrol_visits_per_week, patrol_active)
    mode = mode_of(roster_active, patrol_active)
    return CoverageRow(
        village=village.code,
        week=week,
        mode=mode,
        status=coverage_status(
            mode=mode,
            exempt=exempt,
            needs_coverage=village.needs_coverage,
            duty_days=len(duty),
            duty_required=duty_required,
            patrol_days=len(patrol),
            patrol_required=patrol_required,
        ),
        duty_days=len(duty),
        duty_required=duty_required,
        patrol_days=len(patrol),
        patrol_required=patrol_required,
        roster_active_days=roster_active,
        patrol_active_days=patrol_active,
        duty_dates=tuple(duty),
        patrol_dates=tuple(patrol),
    )


def coverage_status(
    *,
    mode: Mode,
    exempt: bool,
    needs_coverage: bool,
    duty_days: int,
    duty_required: int,
    patrol_days: int,
    patrol_required: int,
) -> Status:
    """The village-week's status; the first matching rule of SPEC §4 wins."""
    if exempt:
        return "exempt"
    if mode == "none":
        return "unassigned" if needs_coverage else "self_served"
    roster_met = mode in ("roster", "both") and duty_days >= duty_required
    patrol_met = mode in ("patrol", "both") and patrol_days >= patrol_required
    if roster_met or patrol_met:
        return "covered"
    if duty_days or patrol_days:
        return "partial"
    return "uncovered"


def visit_flag_counts(visits: Iterable[Visit]) -> dict[str, int]:
    """How many visits carry each flag, for a village-week's `flags` (SPEC §7, e.g. {"unassigned": 5}).

    Only what is still open to review is counted: deleted and dismissed visits are left out, and
    an `overlap` a supervisor has resolved no longer counts as one.
    """
    counts: defaultdict[str, int] = defaultdict(int)
    for visit in visits:
        if visit.deleted or visit.dismissed:
            continue
        for flag in visit.flags:
            if flag == "overlap" and visit.overlap_resolved:
                continue
            counts[flag] += 1
    return dict(sorted(counts.items()))


def doctors_assigned(assignments: Iterable[Assignment], village: str, week: str) -> frozenset[str]:
    """The doctors holding any assignment at `village` on at least one date of `week`."""
    days = week_dates(week)
    return frozenset(
        a.doctor for a in assignments if a.village == village and _in_force_during(a, days)
    )


def _in_force_during(assignment: Assignment, days: Sequence[date]) -> bool:
    """assignment_contains(assignment, day) for at least one of `days` (a week, in order)."""
    first, last = _span_in_week(assignment, days)
    return first <= last


def unsynced_doctors(
    week: str,
    doctors_assigned_that_week: Iterable[str],
    last_sync_by_doctor: Mapping[str, datetime | None],
    *,
    tz: str = DEFAULT_TZ,
) -> tuple[str, ...]:
    """The doctors (sorted) who have not completed a sync since `week` ended: their phones may
    still hold visits of that week. A doctor missing from `last_sync_by_doctor` never synced."""
    ended = week_end(week, tz)
    return tuple(
        sorted(
            doctor
            for doctor in set(doctors_assigned_that_week)
            if (synced := last_sync_by_doctor.get(doctor)) is None or synced < ended
        )
    )


def is_provisional(
    week: str,
    now: datetime,
    tz: str,
    doctors_assigned_that_week: Iterable[str],
    last_sync_by_doctor: Mapping[str, datetime | None],
) -> bool:
    """True while `week` is not over, or while any doctor assigned during it has not completed a
    sync since it ended — so a supervisor can tell "nobody went" from "not synced yet"."""
    if now < week_end(week, tz):
        return True
    return bool(unsynced_doctors(week, doctors_assigned_that_week, last_sync_by_doctor, tz=tz))


# The village-weeks a county is judged on: exempt and self-served weeks needed nobody.
NEEDING_COVERAGE: tuple[Status, ...] = ("covered", "partial", "uncovered", "unassigned")


def coverage_rate(counts: Mapping[str, int]) -> float | None:
    """covered / (covered + partial + uncovered + unassigned); None when nothing needed coverage."""
    needing = sum(counts.get(status, 0) for status in NEEDING_COVERAGE)
    return counts.get("covered", 0) / needing if needing else None
