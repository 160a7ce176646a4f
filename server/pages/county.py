"""The county view for admins: every township's coverage rate per week, paginated, and the
county's rate over time as a server-drawn SVG chart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from tortoise.expressions import Subquery
from tortoise.functions import Count

from server.caller import Caller
from server.errors import ApiError
from server.models import County, CoverageWeek, Township
from server.pages.access import page, show
from server.pages.chart import rate_chart
from server.pages.dashboard import recent_weeks
from server.settings import Settings
from server.web import redirect
from sync.coverage import coverage_rate
from sync.weeks import week_end

PER_PAGE = 50
TREND_WEEKS = 26

# The coverage rate (decision): covered village-weeks over the village-weeks that needed coverage.
# Exempt and self-served weeks are left out of both; unassigned weeks count as not covered.
async def county_in_scope(caller: Caller, code: str) -> County:
    caller.require("admin")
    county = await County.get_or_none(code=code)
    if county is None:
        raise ApiError(404, "not_found", f"Unknown county {code}.")
    own = caller.user.county_id  # type: ignore[attr-defined]
    if own is not None and own != code:
        raise ApiError(403, "forbidden", f"County {code} is outside your scope.")
    return county


def counts_by(rows: Iterable[dict[str, object]], *keys: str) -> dict[tuple[str, ...], dict[str, int]]:
    table: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    for row in rows:
        table[tuple(str(row[k]) for k in keys)][str(row["status"])] = int(row["n"])  # type: ignore[call-overload]
    return table


@page("admin")
async def county_list(request: Request, caller: Caller) -> Response:
    """A deployment-wide admin (no county) picks a county; a county admin goes to theirs."""
    own = caller.user.county_id  # type: ignore[attr-defined]
    if own:
        return redirect(f"/county/{own}")
    counties = await County.all().order_by("code")
    return show(request, "counties.html", caller, {"counties": counties})


@page("admin")
async def county_view(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    county = await county_in_scope(caller, request.path_params["code"])
    weeks = recent_weeks(settings)  # newest first
    total = await Township.filter(county_id=county.code).count()
    pages = max(1, -(-total // PER_PAGE))
    try:
        number = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        number = 1
    townships = (
        await Township.filter(county_id=county.code)
        .order_by("code")
        .offset((number - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    codes = [t.code for t in townships]
    per_township = counts_by(
        await CoverageWeek.filter(township__in=codes, week__in=weeks)
        .annotate(n=Count("id"))
        .group_by("township", "week", "status")
        .values("township", "week", "status", "n"),
        "township",
        "week",
    ) if codes else {}

    trend_weeks = recent_weeks(settings, TREND_WEEKS)[::-1]  # oldest first
    in_county = Subquery(Township.filter(county_id=county.code).values("code"))
    per_week = counts_by(
        await CoverageWeek.filter(township__in=in_county, week__in=trend_weeks)
        .annotate(n=Count("id"))
        .group_by("week", "status")
        .values("week", "status", "n"),
        "week",
    )
    now = datetime.now(UTC)
    trend = [
        (w, coverage_rate(per_week.get((w,), {})), now < week_end(w, settings.tz)) for w in trend_weeks
    ]
    table = [
        (t, [coverage_rate(per_township.get((t.code, w), {})) for w in weeks]) for t in townships
    ]
    return show(
        request,
        "county.html",
        caller,
        {
            "county": county,
            "weeks": weeks,
            "table": table,
            "needing": per_township,
            "trend": trend,
            "chart": rate_chart(trend),
            "page": number,
            "pages": pages,
            "total": total,
        },
    )
