"""GET /api/coverage, /api/coverage/{village} and /api/compliance (SPEC §7), and the reads behind them.

Reads come from the stored rows (server/recompute.py) in a fixed number of queries whatever the
number of visits; a village-week without a stored row yet is computed on the fly, never missing.
Pages call the plain functions (`week_rows`, `village_history`, `compliance_for_week`) too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from tortoise.expressions import Q

from server import openapi
from server.caller import Caller, api_caller
from server.errors import ApiError
from server.models import Assignment, CoverageRevision, CoverageWeek, Township, User, Village, Visit
from server.recompute import (
    ASSIGNMENT_FIELDS,
    STORED_FIELDS,
    VISIT_FIELDS,
    VillageWeek,
    assignment_of,
    compute,
    effective_provisional,
    stored_of,
    visit_of,
)
from server.responses import JSONResponse
from server.settings import Settings
from sync.compliance import ComplianceRow, compliance_rows
from sync.weeks import parse_week, week_dates, week_of, week_range, weeks_ending_with

MAX_RANGE_WEEKS = 104  # two years of one village on one page is plenty; more is a mistake
DEFAULT_RANGE_WEEKS = 12
_TOWNSHIP = re.compile(r"[0-9]{9}")


@dataclass(frozen=True)
class NamedRow:
    name: str
    row: VillageWeek


# --- reading (pages call these too) ---


async def week_rows(
    township_codes: list[str] | None, week: str, *, settings: Settings, now: datetime | None = None
) -> list[NamedRow]:
    """Every village of `township_codes` (None = all) in `week`, by township and code."""
    now = now or datetime.now(UTC)
    villages = (
        Village.all() if township_codes is None else Village.filter(township_id__in=township_codes)
    )
    places = await villages.order_by("township_id", "code").values("code", "name")
    kept = CoverageWeek.filter(week=week)
    if township_codes is not None:
        kept = kept.filter(township__in=township_codes)
    found = {r["village_id"]: stored_of(r, None) for r in await kept.values(*STORED_FIELDS)}
    fresh = await compute(
        [(p["code"], week) for p in places if p["code"] not in found], settings=settings, now=now
    )
    result = []
    for place in places:
        code = place["code"]
        row = found.get(code) or fresh.get((code, week))
        if row is not None:
            result.append(NamedRow(place["name"], _as_of(row, now, settings.tz)))
    return result


async def village_history(
    code: str, first: str, last: str, *, settings: Settings, now: datetime | None = None
) -> tuple[list[VillageWeek], list[dict[str, Any]]]:
    """One village's rows from week `first` to `last` (every week present) and its revisions."""
    now = now or datetime.now(UTC)
    weeks = week_range(first, last)
    found = {
        r["week"]: stored_of(r, None)
        for r in await CoverageWeek.filter(village_id=code, week__gte=first, week__lte=last).values(
            *STORED_FIELDS
        )
    }
    fresh = await compute([(code, w) for w in weeks if w not in found], settings=settings, now=now)
    rows = [
        _as_of(found.get(w) or fresh[(code, w)], now, settings.tz)
        for w in weeks
        if w in found or (code, w) in fresh
    ]
    revisions = [
        {
            "week": r["week"],
            "old_status": r["old_status"],
            "new_status": r["new_status"],
            "cause": r["cause"],
            "at": r["at"].isoformat(),
        }
        for r in await CoverageRevision.filter(village_id=code, week__gte=first, week__lte=last)
        .order_by("at", "id")
        .values("week", "old_status", "new_status", "cause", "at")
    ]
    return rows, revisions


@dataclass(frozen=True)
class NamedCompliance:
    name: str
    row: ComplianceRow


async def compliance_for_week(
    township_codes: list[str] | None, week: str, *, settings: Settings
) -> list[NamedCompliance]:
    """One row per doctor and assignment active in `week` at the villages of `township_codes`."""
    days = week_dates(week)
    active = Assignment.filter(start__lte=days[-1]).filter(
        Q(end__isnull=True) | Q(end__gte=days[0])
    )
    if township_codes is not None:
        active = active.filter(village__township_id__in=township_codes)
    assignments = [assignment_of(r) for r in await active.values(*ASSIGNMENT_FIELDS)]
    if not assignments:
        return []
    doctors = sorted({a.doctor for a in assignments})
    window = weeks_ending_with(week, settings.policy.adherence_weeks)
    visits = [
        visit_of(r)
        for r in await Visit.filter(
            village_id__in=sorted({a.village for a in assignments}),
            doctor_id__in=doctors,
            week__in=window,
        ).values(*VISIT_FIELDS)
    ]
    names = dict(await User.filter(id__in=doctors).values_list("id", "name"))
    rows = compliance_rows(week, assignments, visits, tz=settings.tz, policy=settings.policy)
    return [NamedCompliance(str(names.get(r.doctor, "")), r) for r in rows]


def _as_of(row: VillageWeek, now: datetime, tz: str) -> VillageWeek:
    provisional = effective_provisional(row, now, tz)
    return row if provisional == row.provisional else replace(row, provisional=provisional)


def row_json(name: str, row: VillageWeek) -> dict[str, Any]:
    return {
        "village": row.village,
        "name": name,
        "township": row.township,
        "week": row.week,
        "mode": row.mode,
        "status": row.status,
        "provisional": row.provisional,
        "duty_days": row.duty_days,
        "duty_required": row.duty_required,
        "patrol_days": row.patrol_days,
        "patrol_required": row.patrol_required,
        "flags": dict(sorted(row.flags.items())),
    }


# --- the request edge ---


def _week_param(request: Request, name: str, default: str | None) -> str:
    value = request.query_params.get(name)
    if value is None or value == "":
        if default is None:
            raise ApiError(
                422, "invalid", f"'{name}' is required.", [{"field": name, "code": "required"}]
            )
        return default
    try:
        parse_week(value)
    except ValueError as error:
        raise ApiError(
            422,
            "invalid",
            f"'{name}' is not an ISO week such as 2026-W47.",
            [{"field": name, "code": "invalid_week", "message": str(error)}],
        ) from error
    return value


async def _scope(caller: Caller, request: Request) -> list[str] | None:
    """The townships the request asks for and the caller may see; doctors get 403."""
    caller.require("supervisor", "admin")
    township = request.query_params.get("township")
    if township is None or township == "":
        return await caller.township_codes()
    if not _TOWNSHIP.fullmatch(township):
        raise ApiError(
            422,
            "invalid",
            "'township' must be a 9-digit township code.",
            [{"field": "township", "code": "invalid_township"}],
        )
    await caller.require_township(township)
    if not await Township.filter(code=township).exists():
        raise ApiError(404, "not_found", f"Unknown township {township}.")
    return [township]


def _this_week(settings: Settings) -> str:
    return week_of(datetime.now(UTC), settings.tz)


async def coverage(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    settings: Settings = request.app.state.settings
    townships = await _scope(caller, request)
    week = _week_param(request, "week", _this_week(settings))
    rows = await week_rows(townships, week, settings=settings)
    return JSONResponse({"week": week, "villages": [row_json(r.name, r.row) for r in rows]})


async def village_coverage(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    caller.require("supervisor", "admin")
    settings: Settings = request.app.state.settings
    village = await caller.require_village(request.path_params["village"])
    last = _week_param(request, "to", _this_week(settings))
    first = _week_param(request, "from", weeks_ending_with(last, DEFAULT_RANGE_WEEKS)[0])
    try:
        span = len(week_range(first, last))
    except ValueError as error:
        raise ApiError(
            422,
            "invalid",
            f"'from' ({first}) is after 'to' ({last}).",
            [{"field": "from", "code": "after_to"}],
        ) from error
    if span > MAX_RANGE_WEEKS:
        raise ApiError(
            422,
            "invalid",
            f"At most {MAX_RANGE_WEEKS} weeks at a time; {first} to {last} is {span}.",
            [{"field": "from", "code": "range_too_long"}],
        )
    rows, revisions = await village_history(village.code, first, last, settings=settings)
    return JSONResponse(
        {
            "village": village.code,
            "weeks": [row_json(village.name, r) for r in rows],
            "revisions": revisions,
        }
    )


async def compliance(request: Request) -> JSONResponse:
    caller = await api_caller(request)
    settings: Settings = request.app.state.settings
    townships = await _scope(caller, request)
    week = _week_param(request, "week", _this_week(settings))
    rows = await compliance_for_week(townships, week, settings=settings)
    return JSONResponse(
        {
            "week": week,
            "rows": [
                {
                    "doctor": r.row.doctor,
                    "name": r.name,
                    "assignment": r.row.assignment,
                    "village": r.row.village,
                    "kind": r.row.kind,
                    "days": r.row.days,
                    "required": r.row.required,
                    "adherence": r.row.adherence,
                    "flags": list(r.row.flags),
                }
                for r in rows
            ],
        }
    )


# --- the contract (GET /api/openapi.json) ---

WEEK = {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"}
ROW = {
    "type": "object",
    "required": [
        "village",
        "name",
        "township",
        "mode",
        "status",
        "provisional",
        "duty_days",
        "duty_required",
        "patrol_days",
        "patrol_required",
        "flags",
    ],  # fmt: skip
    "properties": {
        "village": {"type": "string"},
        "name": {"type": "string"},
        "township": {"type": "string"},
        "week": WEEK,
        "mode": {"type": "string", "enum": ["roster", "patrol", "both", "none"]},
        "status": {
            "type": "string",
            "enum": ["exempt", "self_served", "unassigned", "covered", "partial", "uncovered"],
        },
        "provisional": {"type": "boolean"},
        "duty_days": {"type": "integer"},
        "duty_required": {"type": "integer"},
        "patrol_days": {"type": "integer"},
        "patrol_required": {"type": "integer"},
        "flags": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}
TOWNSHIP_QUERY = ("township", {"type": "string", "pattern": "^[0-9]{9}$"}, False)

openapi.register(
    "get",
    "/api/coverage",
    {
        "summary": "Coverage of every village in scope for one ISO week (default: this week).",
        "query": [("week", WEEK, False), TOWNSHIP_QUERY],
        "response": {
            "type": "object",
            "required": ["week", "villages"],
            "properties": {"week": WEEK, "villages": {"type": "array", "items": ROW}},
        },
        "errors": [403, 404, 422],
    },
)
openapi.register(
    "get",
    "/api/coverage/{village}",
    {
        "summary": "One village's coverage week by week, with the revisions of final weeks.",
        "query": [("from", WEEK, False), ("to", WEEK, False)],
        "response": {
            "type": "object",
            "required": ["village", "weeks", "revisions"],
            "properties": {
                "village": {"type": "string"},
                "weeks": {"type": "array", "items": ROW},
                "revisions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["week", "old_status", "new_status", "cause", "at"],
                        "properties": {
                            "week": WEEK,
                            "old_status": {"type": "string"},
                            "new_status": {"type": "string"},
                            "cause": {"type": "string"},
                            "at": {"type": "string", "format": "date-time"},
                        },
                    },
                },
            },
        },
        "errors": [403, 404, 422],
    },
)
openapi.register(
    "get",
    "/api/compliance",
    {
        "summary": "Doctor compliance per doctor and assignment active in one ISO week.",
        "query": [("week", WEEK, False), TOWNSHIP_QUERY],
        "response": {
            "type": "object",
            "required": ["week", "rows"],
            "properties": {
                "week": WEEK,
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "doctor",
                            "name",
                            "assignment",
                            "village",
                            "kind",
                            "days",
                            "required",
                            "adherence",
                            "flags",
                        ],  # fmt: skip
                        "properties": {
                            "doctor": {"type": "string"},
                            "name": {"type": "string"},
                            "assignment": {"type": "string"},
                            "village": {"type": "string"},
                            "kind": {"type": "string", "enum": ["roster", "patrol"]},
                            "days": {"type": "integer"},
                            "required": {"type": "integer"},
                            "adherence": {"type": ["number", "null"]},
                            "flags": {
                                "type": "array",
                                "items": {
                                    "type": "string",
                                    "enum": ["short_tenure", "irregular_schedule", "no_schedule"],
                                },
                            },
                        },
                    },
                },
            },
        },
        "errors": [403, 404, 422],
    },
)
