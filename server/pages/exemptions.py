"""Exemptions: a supervisor excuses a village-week (typhoon, Spring Festival), one per village and week."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from server.caller import Caller
from server.changes import ChangeNote
from server.errors import ApiError
from server.models import Exemption, Township, Village
from server.pages.access import N_, STAFF, notice, page, show, township_in_scope
from server.pages.actions import after_change
from server.pages.dashboard import recent_weeks
from server.pages.forms import FormProblem
from server.settings import Settings
from server.web import checked_form, redirect
from sync.weeks import next_week, parse_week

LISTED = 200
MAX_REASON = 500


async def _page(
    request: Request,
    caller: Caller,
    township: Township,
    *,
    problem: FormProblem | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    exemptions = (
        await Exemption.filter(village__township_id=township.code)
        .prefetch_related("village")
        .order_by("-week", "village_id")
        .limit(LISTED)
    )
    villages = await Village.filter(township_id=township.code).order_by("code")
    current = recent_weeks(settings, 1)[0]
    # Weeks offered: the last eight and the next four (a typhoon warning comes days ahead).
    ahead = [next_week(current)]
    for _ in range(3):
        ahead.append(next_week(ahead[-1]))
    return show(
        request,
        "exemptions.html",
        caller,
        {
            "township": township,
            "exemptions": exemptions,
            "villages": villages,
            "weeks": list(reversed(ahead)) + recent_weeks(settings),
            "current": current,
            "problem": problem,
            "values": values or {"week": current},
        },
        status_code=status_code,
    )


@page(*STAFF)
async def exemptions_page(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    return await _page(request, caller, township)


@page(*STAFF)
async def create_exemption(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    values = {key: str(form.get(key) or "").strip() for key in ("village", "week", "reason")}
    try:
        village = await Village.get_or_none(code=values["village"])
        if village is None or village.township_id != township.code:  # type: ignore[attr-defined]
            raise FormProblem(N_("Choose a village of this township."))
        try:
            parse_week(values["week"])
        except ValueError as exc:
            raise FormProblem(N_("%(value)s is not a week like 2026-W47."), value=values["week"]) from exc
        if not values["reason"] or len(values["reason"]) > MAX_REASON:
            raise FormProblem(N_("Give a reason of up to 500 characters."))
        if await Exemption.filter(village_id=village.code, week=values["week"]).exists():
            raise FormProblem(
                N_("%(village)s is already exempted in %(week)s."), village=village.name, week=values["week"]
            )
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, values=values, status_code=422)
    week = values["week"]
    async with in_transaction() as conn:
        exemption = await Exemption.create(
            village_id=village.code, week=week, reason=values["reason"], created_by=caller.user.id,
            using_db=conn,
        )  # fmt: skip
        await after_change(
            conn, caller=caller, settings=settings, action="exemption_created",
            target=f"{village.code}:{week}", details={"reason": values["reason"], "id": exemption.id},
            touched=[(village.code, week)],
            notes=[ChangeNote("exemption", f"{village.code}:{week}", township=township.code)],
        )  # fmt: skip
    notice(request, N_("%(village)s is exempted in %(week)s."), village=village.name, week=week)
    return redirect(f"/township/{township.code}/exemptions")


@page(*STAFF)
async def remove_exemption(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    exemption = await Exemption.get_or_none(id=request.path_params["id"]).prefetch_related("village")
    if exemption is None:
        raise ApiError(404, "not_found", "Unknown exemption.")
    if exemption.village.township_id != township.code:  # type: ignore[attr-defined]
        raise ApiError(403, "forbidden", "This exemption is outside the township.")
    village, week = exemption.village, exemption.week
    async with in_transaction() as conn:
        await exemption.delete(using_db=conn)
        await after_change(
            conn, caller=caller, settings=settings, action="exemption_removed",
            target=f"{village.code}:{week}",
            details={"reason": str(form.get("reason") or "").strip()[:MAX_REASON],
                     "exempted_for": exemption.reason},
            touched=[(village.code, week)],
            notes=[ChangeNote("exemption", f"{village.code}:{week}", township=township.code)],
        )  # fmt: skip
    notice(request, N_("The exemption of %(village)s in %(week)s is removed."), village=village.name, week=week)
    return redirect(f"/township/{township.code}/exemptions")
