"""What each user's weekly reminder says: load plain data, ask sync/ for the rules, word it.

Monday (`weekly`): a doctor gets last week's result per village and this week's requirement and
schedule; a supervisor gets the villages of their township not covered last week. Thursday
(`nudge`): only doctors behind pace (sync/pace.py), with what is still needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from server.models import Assignment as AssignmentRow
from server.models import CoverageWeek, Exemption, Township, User
from server.models import Village as VillageRow
from server.models import Visit as VisitRow

# Rows become sync.model dataclasses through the one converter the coverage engine uses.
from server.recompute import ASSIGNMENT_FIELDS, VISIT_FIELDS, assignment_of, compute, visit_of
from server.reminder_texts import (
    Requirement,
    Shortfall,
    VillageResult,
    nudge_text,
    summary_text,
    weekly_text,
)
from server.settings import Settings
from sync.compliance import doctor_compliance
from sync.coverage import assignment_contains
from sync.model import Assignment, Visit
from sync.pace import ReminderKind, behind_pace, due_at
from sync.weeks import previous_week, week_dates

NOT_COVERED = ("partial", "uncovered", "unassigned")


@dataclass(frozen=True)
class Draft:
    """A reminder not yet stored: what `user` will read for `week` and `kind`."""

    user: User
    week: str
    kind: ReminderKind
    title: str
    body: str
    url: str


@dataclass(frozen=True)
class CoverageSummary:
    status: str
    provisional: bool
    duty_days: int
    duty_required: int
    patrol_days: int
    patrol_required: int


# ---- the ORM edge: rows → sync.model ---------------------------------------------------------


def active_in(assignment: Assignment, week: str) -> bool:
    return any(assignment_contains(assignment, day) for day in week_dates(week))


async def assignments_of(doctor_ids: Iterable[str]) -> dict[str, list[Assignment]]:
    by_doctor: defaultdict[str, list[Assignment]] = defaultdict(list)
    rows = AssignmentRow.filter(doctor_id__in=list(doctor_ids)).order_by("village_id", "id")
    for row in await rows.values(*ASSIGNMENT_FIELDS):
        by_doctor[row["doctor_id"]].append(assignment_of(row))
    return by_doctor


async def village_names(codes: Iterable[str]) -> dict[str, str]:
    rows = await VillageRow.filter(code__in=list(set(codes))).values_list("code", "name")
    return {code: name for code, name in rows}


async def exempt_villages(codes: Iterable[str], week: str) -> set[str]:
    rows = await Exemption.filter(village_id__in=list(codes), week=week).values_list(
        "village_id", flat=True
    )
    return {str(code) for code in rows}


async def coverage_of(
    codes: Iterable[str], week: str, settings: Settings, now: datetime
) -> dict[str, CoverageSummary]:
    """The coverage of villages in `week`: the stored rows (server/recompute.py), or, for a
    village-week not stored yet, the same rule computed here from sync/coverage.py."""
    wanted = sorted(set(codes))
    found = {
        row.village_id: CoverageSummary(  # type: ignore[attr-defined]
            row.status, row.provisional, row.duty_days, row.duty_required,
            row.patrol_days, row.patrol_required,
        )
        for row in await CoverageWeek.filter(village_id__in=wanted, week=week)
    }
    missing = [code for code in wanted if code not in found]
    if missing:
        found.update(await computed_coverage(missing, week, settings, now))
    return found


async def computed_coverage(
    codes: list[str], week: str, settings: Settings, now: datetime
) -> dict[str, CoverageSummary]:
    """Coverage of villages without a stored row yet, computed as the coverage engine would."""
    rows = await compute([(code, week) for code in codes], settings=settings, now=now)
    return {
        village: CoverageSummary(
            row.status, row.provisional,
            row.duty_days, row.duty_required, row.patrol_days, row.patrol_required,
        )  # fmt: skip
        for (village, _), row in rows.items()
    }


# ---- Monday: doctors ----------------------------------------------------------------------


async def weekly_doctor_drafts(
    doctors: list[User], week: str, settings: Settings, now: datetime
) -> list[Draft]:
    last = previous_week(week)
    held = await assignments_of(d.id for d in doctors)
    codes = {a.village for items in held.values() for a in items}
    names = await village_names(codes)
    coverage = await coverage_of(
        {a.village for items in held.values() for a in items if active_in(a, last)},
        last, settings, now,
    )
    drafts: list[Draft] = []
    for doctor in doctors:
        mine = held.get(doctor.id, [])
        results: list[VillageResult] = []
        seen: set[tuple[str, str]] = set()
        for a in mine:
            cell = coverage.get(a.village)
            if not active_in(a, last) or cell is None or (a.village, a.kind) in seen:
                continue
            seen.add((a.village, a.kind))
            roster = a.kind == "roster"
            results.append(
                VillageResult(
                    village=names.get(a.village, a.village),
                    kind=a.kind,
                    status=cell.status,
                    days=cell.duty_days if roster else cell.patrol_days,
                    required=cell.duty_required if roster else cell.patrol_required,
                    provisional=cell.provisional,
                )
            )
        requirements = [
            Requirement(
                village=names.get(a.village, a.village),
                kind=a.kind,
                required=doctor_compliance(a, week, [], tz=settings.tz, policy=settings.policy).required,
                slots=a.slots,
            )
            for a in mine
            if active_in(a, week)
        ]
        if not results and not requirements:
            continue  # nothing to say to a doctor without assignments either week
        title, body = weekly_text(doctor.language, week, last, results, requirements)
        drafts.append(Draft(doctor, week, "weekly", title, body, "/app/#/today"))
    return drafts


# ---- Monday: supervisors ------------------------------------------------------------------


async def weekly_supervisor_drafts(
    supervisors: list[User], week: str, settings: Settings, now: datetime
) -> list[Draft]:
    last = previous_week(week)
    codes = {s.township_id for s in supervisors}  # type: ignore[attr-defined]
    townships = {t.code: t.name for t in await Township.filter(code__in=list(codes))}
    villages = await VillageRow.filter(township_id__in=list(codes)).order_by("code")
    coverage = await coverage_of([v.code for v in villages], last, settings, now)
    drafts: list[Draft] = []
    for supervisor in supervisors:
        township = supervisor.township_id  # type: ignore[attr-defined]
        not_covered = [
            v
            for v in villages
            if v.township_id == township  # type: ignore[attr-defined]
            and v.code in coverage
            and coverage[v.code].status in NOT_COVERED
        ]
        # "How many are still provisional": of the villages not covered, those whose result may
        # still change because a doctor has not synced since the week ended.
        provisional = sum(1 for v in not_covered if coverage[v.code].provisional)
        title, body = summary_text(
            supervisor.language, last, townships.get(township, township),
            [v.name for v in not_covered], provisional,
        )
        drafts.append(Draft(supervisor, week, "weekly", title, body, f"/township/{township}"))
    return drafts


# ---- Thursday: doctors behind pace ----------------------------------------------------------


async def nudge_drafts(
    doctors: list[User], week: str, settings: Settings, now: datetime
) -> list[Draft]:
    # Judged as of Thursday 18:00 even when made later (a server catching up on Saturday): the
    # nudge is Thursday's, and a doctor on pace on Thursday evening gets none.
    as_of = min(now, due_at(week, "nudge", settings.tz))
    held = await assignments_of(d.id for d in doctors)
    visits: defaultdict[str, list[Visit]] = defaultdict(list)
    rows = VisitRow.filter(doctor_id__in=[d.id for d in doctors], week=week)
    for row in await rows.values(*VISIT_FIELDS):
        visits[row["doctor_id"]].append(visit_of(row))
    codes = {a.village for items in held.values() for a in items}
    names = await village_names(codes)
    # A village-week a supervisor exempted (typhoon, Spring Festival) asks nothing of anyone.
    exempt = await exempt_villages(codes, week)
    drafts: list[Draft] = []
    for doctor in doctors:
        mine = held.get(doctor.id, [])
        paces = [
            p
            for p in behind_pace(
                mine, week, as_of, visits.get(doctor.id, []), tz=settings.tz, policy=settings.policy
            )
            if p.village not in exempt
        ]
        if not paces:
            continue
        by_id = {a.id: a for a in mine}
        shortfalls = [
            Shortfall(
                village=names.get(p.village, p.village),
                kind=p.kind,
                done=p.done,
                required=p.required,
                needed=p.still_needed,
                planned=tuple(
                    s
                    for s in by_id[p.assignment].slots
                    if s.weekday in {d.isoweekday() for d in p.planned_dates}
                ),
            )
            for p in paces
        ]
        title, body = nudge_text(doctor.language, week, shortfalls)
        drafts.append(Draft(doctor, week, "nudge", title, body, "/app/#/today"))
    return drafts


async def drafts_for(
    kind: ReminderKind,
    week: str,
    settings: Settings,
    now: datetime,
    *,
    user_ids: Collection[str] | None = None,
) -> list[Draft]:
    """Every reminder of `kind` for `week` that the active users (only those of `user_ids`, when
    given) should get."""
    query = User.filter(active=True)
    if user_ids is not None:
        query = query.filter(id__in=list(user_ids))
    users = await query.order_by("id")
    doctors = [u for u in users if u.role == "doctor"]
    if kind == "nudge":
        return await nudge_drafts(doctors, week, settings, now)
    supervisors = [
        u for u in users if u.role == "supervisor" and u.township_id  # type: ignore[attr-defined]
    ]
    return await weekly_doctor_drafts(doctors, week, settings, now) + await weekly_supervisor_drafts(
        supervisors, week, settings, now
    )
