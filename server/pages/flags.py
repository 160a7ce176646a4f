"""The flag queue: review flagged visits, resolve an overlap, dismiss a visit with a reason."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.errors import ApiError
from server.flags import dismiss_visit, open_flags, resolve_overlap
from server.models import Visit
from server.pages.access import N_, STAFF, notice, page, show, township_in_scope
from server.settings import Settings
from server.web import checked_form, redirect
from sync.weeks import zone

QUEUE_LIMIT = 200


@page(*STAFF)
async def flag_queue(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    queue = await open_flags([township.code], QUEUE_LIMIT)
    # Overlaps first: they stop coverage until decided; the other flags are for information.
    queue.sort(key=lambda f: ("overlap" not in f.flags, -f.started_at.timestamp()))
    partner_ids = sorted({p for f in queue for p in f.overlaps_with})
    partners = {
        v.id: v
        for v in await Visit.filter(id__in=partner_ids).prefetch_related("village")
    } if partner_ids else {}
    tz = zone(settings.tz)
    return show(
        request,
        "flags.html",
        caller,
        {
            "township": township,
            "queue": queue,
            "partners": partners,
            "limit": QUEUE_LIMIT,
            "local": lambda instant: instant.astimezone(tz) if instant else None,
        },
    )


@page(*STAFF)
async def resolve_submit(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    counting = [str(v) for v in form.getlist("counting")]
    try:
        await resolve_overlap(
            request.path_params["id"], counting, actor=caller.user, settings=settings
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        notice(request, N_("Not saved: choose at least one of the overlapping visits to count."))
    else:
        notice(request, N_("Overlap resolved; coverage is updated."))
    return redirect(f"/township/{township.code}/flags")


@page(*STAFF)
async def dismiss_submit(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    try:
        await dismiss_visit(
            request.path_params["id"], str(form.get("reason") or ""), actor=caller.user,
            settings=settings,
        )  # fmt: skip
    except ApiError as exc:
        if exc.status != 422:
            raise
        notice(request, N_("Not saved: give a reason of up to 500 characters."))
    else:
        notice(request, N_("Visit dismissed; it no longer counts."))
    back = str(form.get("back") or "")
    return redirect(back if back.startswith("/village/") else f"/township/{township.code}/flags")
