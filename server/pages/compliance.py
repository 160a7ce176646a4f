"""Doctor compliance (SPEC §4) for a chosen week: own days, tenure and four-week schedule adherence."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.models import Assignment, User, Village, Visit
from server.pages.access import STAFF, page, show, township_in_scope
from server.pages.dashboard import checked_week, recent_weeks
from server.recompute import ASSIGNMENT_FIELDS, VISIT_FIELDS, assignment_of, visit_of
from server.settings import Settings
from sync.compliance import compliance_rows
from sync.weeks import next_week, previous_week, weeks_ending_with


@page(*STAFF)
async def doctor_compliance(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    weeks = recent_weeks(settings, 2)
    week = checked_week(request.query_params.get("week"), weeks[1])
    window = weeks_ending_with(week, settings.policy.adherence_weeks)

    assignments = [
        assignment_of(a)
        for a in await Assignment.filter(village__township_id=township.code).values(
            *ASSIGNMENT_FIELDS
        )
    ]
    visits = [
        visit_of(v)
        for v in await Visit.filter(village__township_id=township.code, week__in=window).values(
            *VISIT_FIELDS
        )
    ]
    rows = compliance_rows(week, assignments, visits, tz=settings.tz, policy=settings.policy)
    doctors = {r.doctor for r in rows}
    names = dict(await User.filter(id__in=sorted(doctors)).values_list("id", "name")) if doctors else {}
    villages = dict(
        await Village.filter(township_id=township.code).values_list("code", "name")
    )
    return show(
        request,
        "compliance.html",
        caller,
        {
            "township": township,
            "week": week,
            "weeks": recent_weeks(settings),
            "previous_week": previous_week(week),
            "next_week": next_week(week) if week < weeks[0] else None,
            "rows": rows,
            "names": names,
            "villages": villages,
            "window": window,
            "threshold": settings.policy.adherence_threshold,
            "min_tenure_days": settings.policy.min_tenure_days,
        },
    )
