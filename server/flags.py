"""Supervisors' decisions on flagged visits (SPEC §5, §10): resolve an `overlap`, dismiss a visit.

Each decision is one transaction: the visits change, an AuditEntry records who decided what,
coverage of the touched village-weeks is recomputed (a final week that changes status gets a
revision), and `visit` and `coverage` change notes go last so the doctor's phone pulls the news.

Resolving an overlap (decision): the supervisor picks which of the overlapping visits count, one
or several. All of them get `overlap_resolved` (the question is answered, they leave the queue);
the chosen ones are un-dismissed, the others are dismissed with the reason "overlap resolved"
(a dismissal made earlier for another reason keeps its reason). Dismissing one side of an
overlap by hand also resolves the other side when nothing else overlaps it any more.
A supervisor's decision does not bump a visit's `rev`: the doctor's pending edits still apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.changes import ChangeNote, append_changes
from server.errors import ApiError
from server.models import AuditEntry, User, Village, Visit
from server.recompute import VISIT_FIELDS, recompute_notes, visit_of
from server.settings import Settings
from sync import model
from sync.records import overlapping_visits

OVERLAP_REASON = "overlap resolved"
CAUSE_OVERLAP_RESOLVED = "overlap_resolved"
CAUSE_VISIT_DISMISSED = "visit_dismissed"
MAX_REASON = 500
# A pushed visit lasts at most 16 hours (SPEC §5), so anything overlapping one started at most
# that long before it; twice that reaches the neighbours of its neighbours.
REACH = timedelta(hours=16)


@dataclass(frozen=True)
class FlaggedVisit:
    """One entry of the flag queue."""

    id: str
    doctor: str
    doctor_name: str
    village: str
    village_name: str
    township: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    flags: tuple[str, ...]  # still open to review (a resolved overlap is left out)
    overlaps_with: tuple[str, ...]  # the doctor's visits at other villages overlapping this one


async def resolve_overlap(
    visit_id: str, counting: list[str], *, actor: User, settings: Settings
) -> None:
    """Let the visits in `counting` (this one and/or those overlapping it) count; dismiss the rest."""
    async with in_transaction() as conn:
        visit, _ = await _visit_in_scope(visit_id, actor, conn)
        if "overlap" not in visit.flags:
            raise ApiError(
                422, "not_overlap", f"Visit {visit_id} is not flagged overlap.",
                [{"field": "id", "code": "not_overlap"}],
            )  # fmt: skip
        nearby = await _doctor_visits_near(visit, conn)
        group = [visit.id, *overlapping_visits(_live(visit), [_live(v) for v in nearby])]
        _check_counting(counting, group)
        chosen = [v for v in group if v in counting]
        others = [v for v in group if v not in counting]
        now = datetime.now(UTC)
        await (
            Visit.filter(id__in=chosen)
            .using_db(conn)
            .update(overlap_resolved=True, dismissed=False, dismiss_reason=None, updated_at=now)
        )
        if others:
            await (
                Visit.filter(id__in=others, dismissed=False)
                .using_db(conn)
                .update(dismiss_reason=OVERLAP_REASON)
            )
            await (
                Visit.filter(id__in=others)
                .using_db(conn)
                .update(overlap_resolved=True, dismissed=True, updated_at=now)
            )
        await AuditEntry.create(
            actor=actor.id,
            action="resolve_overlap",
            target=f"visit:{visit_id}",
            details={"counting": chosen, "dismissed": others},
            using_db=conn,
        )
        touched = [v for v in [visit, *nearby] if v.id in group]
        await _recompute_and_note(touched, CAUSE_OVERLAP_RESOLVED, settings, conn)


async def dismiss_visit(visit_id: str, reason: str, *, actor: User, settings: Settings) -> None:
    """Stop a visit counting, with the supervisor's reason (shown to the doctor)."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        raise ApiError(
            422, "invalid", f"A reason of 1 to {MAX_REASON} characters is required.",
            [{"field": "reason", "code": "required" if not reason else "too_long"}],
        )  # fmt: skip
    async with in_transaction() as conn:
        visit, _ = await _visit_in_scope(visit_id, actor, conn)
        nearby = await _doctor_visits_near(visit, conn, reach=2 * REACH)
        now = datetime.now(UTC)
        await (
            Visit.filter(id=visit.id)
            .using_db(conn)
            .update(dismissed=True, dismiss_reason=reason, updated_at=now)
        )
        # A partner whose only overlap was this visit overlaps nothing now: it may count again.
        gone = replace(visit, dismissed=True)
        after = [gone, *nearby]
        cleared = [
            p.id
            for p in nearby
            if p.id in overlapping_visits(_live(visit), [_live(n) for n in nearby])
            and "overlap" in p.flags
            and not p.overlap_resolved
            and not p.dismissed
            and not overlapping_visits(p, [a for a in after if a.id != p.id])
        ]
        if cleared:
            await (
                Visit.filter(id__in=cleared)
                .using_db(conn)
                .update(overlap_resolved=True, updated_at=now)
            )
        await AuditEntry.create(
            actor=actor.id,
            action="dismiss_visit",
            target=f"visit:{visit_id}",
            details={"reason": reason, "overlap_resolved": cleared},
            using_db=conn,
        )
        touched = [visit, *(p for p in nearby if p.id in cleared)]
        await _recompute_and_note(touched, CAUSE_VISIT_DISMISSED, settings, conn)


async def open_flags(township_codes: list[str] | None, limit: int) -> list[FlaggedVisit]:
    """The flag queue, newest first: visits neither deleted nor dismissed with a flag still open to
    review (see `visit_flag_counts`); `township_codes` None = every township."""
    limit = max(1, min(limit, 1000))
    query = Visit.filter(deleted=False, dismissed=False).exclude(flags=[])
    if township_codes is not None:
        query = query.filter(village__township_id__in=township_codes)
    found: list[dict[str, Any]] = []
    offset = 0
    for _ in range(10):  # a bounded number of pages, however many resolved overlaps lie between
        page = (
            await query.order_by("-started_at", "id")
            .offset(offset)
            .limit(limit * 2)
            .values(*VISIT_FIELDS)
        )
        found += [r for r in page if _open(visit_of(r))]
        offset += len(page)
        if len(found) >= limit or len(page) < limit * 2:
            break
    found = found[:limit]
    if not found:
        return []
    visits = [visit_of(r) for r in found]
    doctors = sorted({v.doctor for v in visits})
    neighbours: list[model.Visit] = []
    overlapped = [v for v in visits if "overlap" in v.flags]
    if overlapped:
        neighbours = [
            visit_of(r)
            for r in await Visit.filter(
                doctor_id__in=sorted({v.doctor for v in overlapped}),
                deleted=False,
                started_at__gte=min(v.started_at for v in overlapped) - REACH,
                started_at__lte=max(_end(v) for v in overlapped),
            ).values(*VISIT_FIELDS)
        ]
    doctor_names = dict(await User.filter(id__in=doctors).values_list("id", "name"))
    places = {
        r["code"]: r
        for r in await Village.filter(code__in=sorted({v.village for v in visits})).values(
            "code", "name", "township_id"
        )
    }
    return [
        FlaggedVisit(
            id=v.id,
            doctor=v.doctor,
            doctor_name=str(doctor_names.get(v.doctor, "")),
            village=v.village,
            village_name=places[v.village]["name"],
            township=places[v.village]["township_id"],
            kind=v.kind,
            started_at=v.started_at,
            ended_at=v.ended_at,
            flags=tuple(sorted(f for f in v.flags if f != "overlap" or not v.overlap_resolved)),
            overlaps_with=overlapping_visits(_live(v), [_live(n) for n in neighbours])
            if "overlap" in v.flags
            else (),
        )
        for v in visits
    ]


# --- plumbing ---


def _open(visit: model.Visit) -> bool:
    return any(f != "overlap" or not visit.overlap_resolved for f in visit.flags)


def _live(visit: model.Visit) -> model.Visit:
    # Which visits overlap is a question of times; a dismissal must not hide a partner.
    return replace(visit, dismissed=False) if visit.dismissed else visit


def _end(visit: model.Visit) -> datetime:
    return visit.ended_at or visit.started_at


def _check_counting(counting: object, group: list[str]) -> None:
    if (
        not isinstance(counting, list)
        or not counting
        or not all(isinstance(c, str) for c in counting)
    ):
        raise ApiError(
            422, "invalid", "'counting' must list the ids of the visits that count.",
            [{"field": "counting", "code": "required"}],
        )  # fmt: skip
    strangers = sorted(set(counting) - set(group))
    if strangers:
        raise ApiError(
            422,
            "invalid",
            "'counting' may only name this visit and the visits overlapping it.",
            [{"field": "counting", "code": "not_overlapping", "id": s} for s in strangers],
        )


async def _visit_in_scope(
    visit_id: str, actor: User, conn: BaseDBAsyncClient
) -> tuple[model.Visit, dict[str, Any]]:
    rows = await Visit.filter(id=visit_id).using_db(conn).values(*VISIT_FIELDS)
    if not rows:
        raise ApiError(404, "not_found", f"Unknown visit {visit_id}.")
    visit = visit_of(rows[0])
    place = (
        await Village.filter(code=visit.village)
        .using_db(conn)
        .values("code", "township_id", "township__county_id")
    )[0]
    township, county = place["township_id"], place["township__county_id"]
    allowed = (actor.role == "supervisor" and actor.township_id == township) or (  # type: ignore[attr-defined]
        actor.role == "admin" and actor.county_id in (None, county)  # type: ignore[attr-defined]
    )
    if not allowed:
        raise ApiError(403, "forbidden", f"Visit {visit_id} is outside your scope.")
    if visit.deleted:
        raise ApiError(
            422, "deleted", f"Visit {visit_id} was deleted by its doctor.",
            [{"field": "id", "code": "deleted"}],
        )  # fmt: skip
    return visit, place


async def _doctor_visits_near(
    visit: model.Visit, conn: BaseDBAsyncClient, reach: timedelta = REACH
) -> list[model.Visit]:
    rows = (
        await Visit.filter(
            doctor_id=visit.doctor,
            deleted=False,
            started_at__gte=visit.started_at - reach,
            started_at__lte=_end(visit) + (reach - REACH),
        )
        .exclude(id=visit.id)
        .using_db(conn)
        .values(*VISIT_FIELDS)
    )
    return [visit_of(r) for r in rows]


async def _recompute_and_note(
    visits: Iterable[model.Visit], cause: str, settings: Settings, conn: BaseDBAsyncClient
) -> None:
    held = list(visits)
    weeks = dict(
        await Visit.filter(id__in=[v.id for v in held]).using_db(conn).values_list("id", "week")
    )
    outcome = await recompute_notes(
        {(v.village, str(weeks[v.id])) for v in held},
        cause=cause,
        settings=settings,
        connection=conn,
    )
    places = {
        r["code"]: r
        for r in await Village.filter(code__in=sorted({v.village for v in held}))
        .using_db(conn)
        .values("code", "township_id", "township__county_id")
    }
    visit_notes = [
        ChangeNote(
            type="visit",
            entity_id=v.id,
            township=places[v.village]["township_id"],
            county=places[v.village]["township__county_id"],
            user_id=v.doctor,
        )
        for v in held
    ]
    await append_changes(visit_notes + outcome.notes, conn)
