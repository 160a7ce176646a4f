"""The weekly reminder timetable of SPEC §11, the "behind pace" rule of the Thursday nudge, and
the township dashboard's pace of the running week per village.

Behind pace, precisely: for one assignment in the current week, `done` is the doctor's own
qualifying days so far (through today, as synced), `required` its prorated requirement (SPEC §4),
and `planned_left` the dates after today on which the doctor would still work if they kept their
plan: a patrol assignment's slot weekdays, or for a roster assignment the first
`duty_days_per_week` weekdays (Monday to Friday with the default 5). A doctor is behind pace when
`required − done > planned_left`: keeping to the plan for the rest of the week no longer reaches
the requirement. A patrol assignment without slots has no plan left to keep, so anything still
needed is behind pace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sync.compliance import own_qualifying_dates
from sync.coverage import active_dates, assignment_contains, prorated_requirement
from sync.model import Assignment, AssignmentKind, Visit
from sync.policy import DEFAULT_POLICY, Policy
from sync.weeks import DEFAULT_TZ, local_date, week_dates, week_monday, week_of, zone

ReminderKind = Literal["weekly", "nudge"]

# When each kind is due, as (days after Monday, local time): Monday 08:00 and Thursday 18:00.
DUE: dict[ReminderKind, tuple[int, time]] = {
    "weekly": (0, time(8, 0)),
    "nudge": (3, time(18, 0)),
}


def due_at(week: str, kind: ReminderKind, tz: str = DEFAULT_TZ) -> datetime:
    """The instant (aware, in `tz`) at which `kind` reminders of `week` are due."""
    days, at = DUE[kind]
    day = week_monday(week) + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=zone(tz))


def due_kinds(now: datetime, tz: str = DEFAULT_TZ) -> tuple[str, list[ReminderKind]]:
    """The current week and the kinds already due in it at `now`, in timetable order.

    Only the current week: a run missed while the server was down is caught up later in the
    same week, never for a week that is over.
    """
    week = week_of(now, tz)
    return week, [kind for kind in DUE if due_at(week, kind, tz) <= now]


def planned_weekdays(assignment: Assignment, policy: Policy = DEFAULT_POLICY) -> frozenset[int]:
    """The weekdays (Monday = 1) the doctor plans to work under this assignment."""
    if assignment.kind == "patrol":
        return frozenset(slot.weekday for slot in assignment.slots)
    return frozenset(range(1, min(policy.duty_days_per_week, 7) + 1))


@dataclass(frozen=True)
class Pace:
    assignment: str
    village: str
    kind: AssignmentKind
    done: int
    required: int
    planned_left: int
    # The dates still planned this week (patrol slots or roster weekdays), for the nudge's text.
    planned_dates: tuple[date, ...]

    @property
    def still_needed(self) -> int:
        return max(0, self.required - self.done)

    @property
    def behind(self) -> bool:
        return self.still_needed > self.planned_left


def assignment_pace(
    assignment: Assignment,
    week: str,
    today: date,
    visits: Iterable[Visit],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> Pace:
    """How far one assignment's doctor is in `week` at the end of `today` (see module docstring)."""
    days = week_dates(week)
    done = own_qualifying_dates(
        assignment, visits, [d for d in days if d <= today], tz=tz, policy=policy
    )
    per_week = (
        policy.duty_days_per_week if assignment.kind == "roster" else policy.patrol_visits_per_week
    )
    active = len(active_dates([assignment], week, kind=assignment.kind))
    weekdays = planned_weekdays(assignment, policy)
    planned = tuple(
        d
        for d in days
        if d > today and d.isoweekday() in weekdays and assignment_contains(assignment, d)
    )
    return Pace(
        assignment=assignment.id,
        village=assignment.village,
        kind=assignment.kind,
        done=len(done),
        required=prorated_requirement(per_week, active),
        planned_left=len(planned),
        planned_dates=planned,
    )


def behind_pace(
    assignments: Iterable[Assignment],
    week: str,
    now: datetime,
    visits: Iterable[Visit],
    *,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> list[Pace]:
    """The paces, by village, of the assignments active in `week` whose doctor is behind at `now`."""
    held = list(visits)
    today = local_date(now, tz)
    days = week_dates(week)
    active = [a for a in assignments if any(assignment_contains(a, d) for d in days)]
    paces = [assignment_pace(a, week, today, held, tz=tz, policy=policy) for a in active]
    return sorted((p for p in paces if p.behind), key=lambda p: (p.village, p.assignment))


# --- the running week of a village, as the township dashboard counts it ----------------------

VillagePace = Literal["covered", "on_track", "behind"]


def days_left(today: date) -> int:
    """The days of `today`'s ISO week still to come, today included (Monday 7 … Sunday 1)."""
    return 8 - today.isoweekday()


def days_still_needed(
    mode: str, duty_days: int, duty_required: int, patrol_days: int, patrol_required: int
) -> int:
    """Days a village-week still needs to be covered: of its one kind of service, or of the
    nearer of the two when it has both (either makes it covered, SPEC §4)."""
    needs = []
    if mode in ("roster", "both"):
        needs.append(max(0, duty_required - duty_days))
    if mode in ("patrol", "both"):
        needs.append(max(0, patrol_required - patrol_days))
    return min(needs) if needs else 0


def village_pace(status: str, mode: str, still_needed: int, left: int) -> VillagePace | None:
    """Where a village stands in the running week: covered already, on track (the days still
    needed fit in the `left` days), or behind; None when it has no service to pace (mode `none`)
    or is exempt."""
    if mode == "none" or status == "exempt":
        return None
    if status == "covered":
        return "covered"
    return "on_track" if still_needed <= left else "behind"
