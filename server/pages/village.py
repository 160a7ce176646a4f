"""Village detail: assignments, stored weeks, one week's visits with flags, conflicts and revisions."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.models import (
    Assignment,
    CoverageRevision,
    CoverageWeek,
    Exemption,
    Township,
    User,
    Visit,
    VisitVersion,
)
from server.pages.access import STAFF, page, show
from server.pages.dashboard import checked_week, mark_provisional, recent_weeks
from server.settings import Settings
from sync.weeks import next_week, previous_week, week_dates, zone

WEEKS_LISTED = 12
REVISIONS_LISTED = 50


@page(*STAFF)
async def village_detail(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    village = await caller.require_village(request.path_params["code"])
    township = await Township.get(code=village.township_id)  # type: ignore[attr-defined]
    current = recent_weeks(settings, 1)[0]
    week = checked_week(request.query_params.get("week"), current)

    assignments = (
        await Assignment.filter(village_id=village.code).prefetch_related("doctor").order_by("-start")
    )
    weeks = await CoverageWeek.filter(village_id=village.code).order_by("-week").limit(WEEKS_LISTED)
    row = next((r for r in weeks if r.week == week), None) or await CoverageWeek.get_or_none(
        village_id=village.code, week=week
    )
    visits = (
        await Visit.filter(village_id=village.code, week=week)
        .prefetch_related("doctor")
        .order_by("started_at")
    )
    losers = (
        await VisitVersion.filter(visit_id__in=[v.id for v in visits], outcome="conflict_loser")
        .order_by("received_at")
        if visits
        else []
    )
    revisions = (
        await CoverageRevision.filter(village_id=village.code).order_by("-at").limit(REVISIONS_LISTED)
    )
    now = datetime.now(UTC)
    for shown in [*weeks, row]:
        if shown is not None:
            mark_provisional(shown, now, settings)
    unsynced = {d for r in [*weeks, row] if r for d in (r.unsynced or [])}
    names = dict(await User.filter(id__in=sorted(unsynced)).values_list("id", "name")) if unsynced else {}
    exemption = await Exemption.get_or_none(village_id=village.code, week=week)
    tz = zone(settings.tz)
    return show(
        request,
        "village.html",
        caller,
        {
            "township": township,
            "village": village,
            "week": week,
            "current": current,
            "days": week_dates(week),
            "previous_week": previous_week(week),
            "next_week": next_week(week) if week < current else None,
            "assignments": assignments,
            "weeks": weeks,
            "row": row,
            "visits": visits,
            "losers": losers,
            "revisions": revisions,
            "exemption": exemption,
            "names": names,
            "local": lambda instant: instant.astimezone(tz) if instant else None,
        },
    )
