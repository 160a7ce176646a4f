"""Manage assignments and patrol schedules: create, end, change slots (warn on short roster plans)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from server.caller import Caller
from server.changes import ChangeNote
from server.errors import ApiError
from server.importer import touched_weeks
from server.models import Assignment, Township, User, Village
from server.pages.access import N_, STAFF, notice, page, show, township_in_scope
from server.pages.actions import after_change
from server.pages.dashboard import today
from server.pages.forms import FormProblem, parse_date
from server.recompute import ASSIGNMENT_FIELDS, assignment_of
from server.settings import Settings
from server.web import checked_form, redirect
from sync.compliance import is_short_tenure, tenure_days

KINDS = ("roster", "patrol")
HALVES = ("am", "pm")


def parse_slots(form: FormData) -> list[dict[str, Any]]:
    slots = []
    for value in form.getlist("slot"):
        weekday, _, half = str(value).partition("-")
        if not weekday.isdigit() or not 1 <= int(weekday) <= 7 or half not in HALVES:
            raise FormProblem(N_("Unknown patrol slot %(value)s."), value=value)
        slot = {"weekday": int(weekday), "half": half}
        if slot not in slots:
            slots.append(slot)
    return sorted(slots, key=lambda s: (s["weekday"], s["half"]))


async def _page(
    request: Request,
    caller: Caller,
    township: Township,
    *,
    problem: FormProblem | None = None,
    warning: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    village_filter = request.query_params.get("village", "")
    query = Assignment.filter(village__township_id=township.code)
    if village_filter:
        query = query.filter(village_id=village_filter)
    assignments = await query.prefetch_related("doctor", "village").order_by("village_id", "-start")
    doctors = await User.filter(township_id=township.code, role="doctor", active=True).order_by("name")
    villages = await Village.filter(township_id=township.code).order_by("code")
    return show(
        request,
        "assignments.html",
        caller,
        {
            "township": township,
            "assignments": assignments,
            "doctors": doctors,
            "villages": villages,
            "village_filter": village_filter,
            "today": today(request.app.state.settings),
            "problem": problem,
            "warning": warning,
            "values": values or {"kind": "roster", "village": village_filter},
            "weekdays": range(1, 8),
            "halves": HALVES,
            "slot_values": lambda slots: [f"{s['weekday']}-{s['half']}" for s in slots or []],
        },
        status_code=status_code,
    )


@page(*STAFF)
async def assignments_page(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    return await _page(request, caller, township)


def _short_warning(plan: Assignment, settings: Settings) -> dict[str, Any] | None:
    model = assignment_of({f: getattr(plan, f) for f in ASSIGNMENT_FIELDS})
    if is_short_tenure(model, settings.policy):
        return {"days": tenure_days(model), "min": settings.policy.min_tenure_days}
    return None


@page(*STAFF)
async def create_assignment(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=64 * 1024)
    values: dict[str, Any] = {key: form.get(key) for key in ("doctor", "village", "kind", "start", "end")}
    values["slots"] = [str(v) for v in form.getlist("slot")]
    try:
        doctor = await User.get_or_none(id=str(values["doctor"] or ""), role="doctor")
        if doctor is None or doctor.township_id != township.code:  # type: ignore[attr-defined]
            raise FormProblem(N_("Choose a doctor of this township."))
        village = await Village.get_or_none(code=str(values["village"] or ""))
        if village is None or village.township_id != township.code:  # type: ignore[attr-defined]
            raise FormProblem(N_("Choose a village of this township."))
        if values["kind"] not in KINDS:
            raise FormProblem(N_("Choose rostered duty or patrol."))
        start = parse_date(values["start"], required=True)
        end = parse_date(values["end"], required=False)
        assert start is not None
        if end is not None and end < start:
            raise FormProblem(N_("The end date is before the start date."))
        slots = parse_slots(form) if values["kind"] == "patrol" else []
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, values=values, status_code=422)

    plan = Assignment(
        id=str(uuid.uuid4()), doctor_id=doctor.id, village_id=village.code,
        kind=str(values["kind"]), start=start, end=end, slots=slots,
    )  # fmt: skip
    warning = _short_warning(plan, settings)
    if warning and form.get("confirm") != "1":
        # The half-year rule: ask once, keeping what was typed, before saving a short roster plan.
        return await _page(request, caller, township, warning=warning, values=values)
    async with in_transaction() as conn:
        await plan.save(using_db=conn, force_create=True)
        await after_change(
            conn, caller=caller, settings=settings, action="assignment_created", target=plan.id,
            details={"doctor": doctor.id, "village": village.code, "kind": plan.kind,
                     "start": start.isoformat(), "end": end.isoformat() if end else None,
                     "slots": slots, "short_tenure_confirmed": bool(warning)},
            touched=[(village.code, w) for w in touched_weeks(start, end, today(settings))],
            notes=[ChangeNote("assignment", plan.id, township=township.code, user_id=doctor.id)],
        )  # fmt: skip
    notice(request, N_("Assignment saved: %(doctor)s at %(village)s."), doctor=doctor.name, village=village.name)
    return redirect(f"/township/{township.code}/assignments")


async def _assignment_in(township: Township, assignment_id: str) -> Assignment:
    assignment = await Assignment.get_or_none(id=assignment_id).prefetch_related("village", "doctor")
    if assignment is None:
        raise ApiError(404, "not_found", f"Unknown assignment {assignment_id}.")
    if assignment.village.township_id != township.code:  # type: ignore[attr-defined]
        raise ApiError(403, "forbidden", f"Assignment {assignment_id} is outside this township.")
    return assignment


@page(*STAFF)
async def end_assignment(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    assignment = await _assignment_in(township, request.path_params["id"])
    try:
        end = parse_date(form.get("end"), required=False)
        if end is None:
            raise FormProblem(N_("Enter the last day of the assignment."))
        if end < assignment.start:
            raise FormProblem(N_("The end date is before the start date."))
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, status_code=422)
    old_end = assignment.end
    assignment.end = end
    warning = _short_warning(assignment, settings)
    if warning and form.get("confirm") != "1":
        values = {"end_id": assignment.id, "end": end.isoformat()}
        return await _page(request, caller, township, warning=warning, values=values)
    # Every week between the old and the new last day changes its active days.
    first = min(end, old_end) if old_end else end
    last = max(end, old_end) if old_end else None
    async with in_transaction() as conn:
        await assignment.save(using_db=conn, update_fields=["end", "updated_at"])
        await after_change(
            conn, caller=caller, settings=settings, action="assignment_ended", target=assignment.id,
            details={"old_end": old_end.isoformat() if old_end else None, "end": end.isoformat()},
            touched=[(assignment.village.code, w) for w in touched_weeks(first, last, today(settings))],
            notes=[ChangeNote("assignment", assignment.id, township=township.code,
                              user_id=assignment.doctor.id)],
        )  # fmt: skip
    notice(request, N_("Assignment of %(doctor)s ends on %(end)s."), doctor=assignment.doctor.name, end=end)
    return redirect(f"/township/{township.code}/assignments")


@page(*STAFF)
async def change_slots(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    assignment = await _assignment_in(township, request.path_params["id"])
    try:
        if assignment.kind != "patrol":
            raise FormProblem(N_("Only a patrol assignment has a schedule."))
        slots = parse_slots(form)
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, status_code=422)
    old = assignment.slots
    assignment.slots = slots
    async with in_transaction() as conn:
        await assignment.save(using_db=conn, update_fields=["slots", "updated_at"])
        # Slots decide schedule adherence (computed when asked), not coverage: nothing to recompute.
        await after_change(
            conn, caller=caller, settings=settings, action="assignment_slots", target=assignment.id,
            details={"old_slots": old, "slots": slots},
            notes=[ChangeNote("assignment", assignment.id, township=township.code,
                              user_id=assignment.doctor.id)],
        )  # fmt: skip
    notice(request, N_("Patrol schedule of %(doctor)s saved."), doctor=assignment.doctor.name)
    return redirect(f"/township/{township.code}/assignments")
