"""The township dashboard: villages × the last 8 weeks from stored coverage rows, with filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.errors import ApiError
from server.models import CoverageWeek, User, Village
from server.pages.access import STAFF, page, show, township_in_scope
from server.settings import Settings
from sync.coverage import is_provisional
from sync.pace import days_left, days_still_needed, village_pace
from sync.weeks import (
    local_date,
    parse_week,
    previous_week,
    week_dates,
    week_end,
    week_of_date,
    weeks_ending_with,
)

WEEKS_SHOWN = 8
STATUSES = ("covered", "partial", "uncovered", "unassigned", "exempt", "self_served")
MODES = ("roster", "patrol", "both", "none")


@dataclass
class Pace:
    """The current week so far: how many villages are covered already and how many can still be."""

    days_left: int  # today included
    covered: int = 0
    on_track: int = 0  # not covered yet, but the days still needed fit in the days left
    behind: int = 0  # needs more days than are left


@dataclass
class VillageLine:
    village: Village
    cells: list[CoverageWeek | None]
    still_needed: int | None = None  # this week's days still needed, when not yet covered
    names: dict[str, str] = field(default_factory=dict)


def today(settings: Settings) -> date:
    return local_date(datetime.now(UTC), settings.tz)


def recent_weeks(settings: Settings, count: int = WEEKS_SHOWN) -> list[str]:
    """The `count` weeks ending with the current one, newest first (a phone sees them first)."""
    return list(reversed(weeks_ending_with(week_of_date(today(settings)), count)))


def shown_provisional(row: CoverageWeek, now: datetime, settings: Settings) -> bool:
    """A stored row stays provisional only while its week runs or a doctor still owes a sync
    (the stored flag is flipped later by the scheduler; pages must be right the minute a week ends)."""
    return row.provisional and is_provisional(row.week, now, settings.tz, row.unsynced or [], {})


def mark_provisional(row: CoverageWeek, now: datetime, settings: Settings) -> None:
    """Set what a page shows of a row's finality: provisional, and why (week running or unsynced)."""
    row.provisional = shown_provisional(row, now, settings)
    # While the week runs every assigned doctor "owes" a sync: say the week is running instead.
    row.week_running = now < week_end(row.week, settings.tz)


def checked_week(value: str | None, default: str) -> str:
    if not value:
        return default
    try:
        parse_week(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_week", str(exc)) from exc
    return value


@page(*STAFF)
async def township_dashboard(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    weeks = recent_weeks(settings)
    current = weeks[0]
    # Filters look at one week: by default the last week that has ended, the one to act on.
    focus = request.query_params.get("week") or weeks[1]
    if focus not in weeks:
        focus = weeks[1]
    status = request.query_params.get("status", "")
    mode = request.query_params.get("mode", "")
    needs = request.query_params.get("needs", "")
    search = request.query_params.get("q", "").strip()

    villages = await Village.filter(township_id=township.code).order_by("code")
    rows = await CoverageWeek.filter(township=township.code, week__in=weeks)
    now = datetime.now(UTC)
    for row in rows:
        mark_provisional(row, now, settings)
    by_key = {(r.village_id, r.week): r for r in rows}  # type: ignore[attr-defined]
    unsynced = {doctor for r in rows for doctor in (r.unsynced or [])}
    names = dict(await User.filter(id__in=sorted(unsynced)).values_list("id", "name")) if unsynced else {}

    pace = Pace(days_left=days_left(today(settings)))
    lines: list[VillageLine] = []
    for village in villages:
        cells = [by_key.get((village.code, week)) for week in weeks]
        now_row = cells[0]
        line = VillageLine(village=village, cells=cells, names=names)
        if now_row is not None:
            needed = days_still_needed(
                now_row.mode,
                now_row.duty_days,
                now_row.duty_required,
                now_row.patrol_days,
                now_row.patrol_required,
            )
            standing = village_pace(now_row.status, now_row.mode, needed, pace.days_left)
            if standing == "covered":
                pace.covered += 1
            elif standing is not None:
                line.still_needed = needed
                if standing == "on_track":
                    pace.on_track += 1
                else:
                    pace.behind += 1
        focus_row = cells[weeks.index(focus)]
        if search and search not in village.name and not village.code.startswith(search):
            continue
        if needs in ("yes", "no") and village.needs_coverage != (needs == "yes"):
            continue
        if status in STATUSES and (focus_row is None or focus_row.status != status):
            continue
        if mode in MODES and (focus_row is None or focus_row.mode != mode):
            continue
        lines.append(line)

    return show(
        request,
        "dashboard.html",
        caller,
        {
            "township": township,
            "weeks": weeks,
            "current": current,
            "focus": focus,
            "week_days": {w: week_dates(w) for w in weeks},
            "lines": lines,
            "total": len(villages),
            "pace": pace,
            "names": names,
            "filters": {"status": status, "mode": mode, "needs": needs, "q": search},
            "statuses": STATUSES,
            "modes": MODES,
            "previous": previous_week,
        },
    )
