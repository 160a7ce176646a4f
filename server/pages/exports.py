"""Coverage exports for a week range as CSV or XLSX: one township, or a whole county for admins."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.errors import ApiError
from server.models import CoverageWeek, Township
from server.pages.access import STAFF, page, township_in_scope
from server.pages.county import county_in_scope
from server.pages.dashboard import WEEKS_SHOWN, recent_weeks
from server.settings import Settings
from sync.weeks import parse_week, week_range

MAX_WEEKS = 106  # two years per file keeps a county export within memory
COLUMNS = (
    "week", "township", "township_name", "village", "village_name", "mode", "status",
    "provisional", "duty_days", "duty_required", "patrol_days", "patrol_required", "flags",
)  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def requested_weeks(request: Request, settings: Settings) -> list[str]:
    default = recent_weeks(settings, WEEKS_SHOWN)
    first = request.query_params.get("from") or default[-1]
    last = request.query_params.get("to") or default[0]
    try:
        parse_week(first)
        parse_week(last)
        weeks = week_range(first, last)
    except ValueError as exc:
        raise ApiError(422, "invalid_week", str(exc)) from exc
    if len(weeks) > MAX_WEEKS:
        raise ApiError(422, "too_many_weeks", f"Export at most {MAX_WEEKS} weeks at a time.")
    return weeks


async def coverage_lines(township_codes: list[str], weeks: list[str]) -> list[dict[str, Any]]:
    rows = (
        await CoverageWeek.filter(township__in=township_codes, week__in=weeks)
        .order_by("township", "village_id", "week")
        .values(*[c for c in COLUMNS if c not in ("village", "village_name", "township_name", "flags")],
                "flags", village="village_id", village_name="village__name",
                township_name="village__township__name")
    )  # fmt: skip
    for row in rows:
        row["flags"] = json.dumps(row["flags"] or {}, ensure_ascii=False, sort_keys=True)
    return rows


def as_csv(rows: list[dict[str, Any]], filename: str) -> Response:
    out = io.StringIO()
    # A byte-order mark lets Excel on Windows open the Chinese names as UTF-8.
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def as_xlsx(rows: list[dict[str, Any]], filename: str) -> Response:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("coverage")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
    )


def _send(rows: list[dict[str, Any]], name: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise ApiError(404, "not_found", f"No export as .{fmt}: choose .csv or .xlsx.")
    return as_xlsx(rows, name) if fmt == "xlsx" else as_csv(rows, name)


@page(*STAFF)
async def township_export(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    weeks = requested_weeks(request, settings)
    rows = await coverage_lines([township.code], weeks)
    name = f"coverage-{township.code}-{weeks[0]}-{weeks[-1]}"
    return _send(rows, name, request.path_params["format"])


@page("admin")
async def county_export(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    county = await county_in_scope(caller, request.path_params["code"])
    weeks = requested_weeks(request, settings)
    codes = list(await Township.filter(county_id=county.code).values_list("code", flat=True))
    rows = await coverage_lines([str(c) for c in codes], weeks)
    name = f"coverage-{county.code}-{weeks[0]}-{weeks[-1]}"
    return _send(rows, name, request.path_params["format"])
