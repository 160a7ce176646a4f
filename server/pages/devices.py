"""Devices of a township's staff: last sync, records waiting, storage, version; revoke a lost phone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from server.caller import Caller
from server.errors import ApiError
from server.models import AuditEntry, Device
from server.pages.access import N_, STAFF, notice, page, show, township_in_scope
from server.settings import Settings
from server.tokens import revoke_device
from server.web import checked_form, redirect
from sync.weeks import zone


@page(*STAFF)
async def devices_page(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    township = await township_in_scope(caller, request.path_params["code"])
    devices = (
        await Device.filter(user__township_id=township.code)
        .prefetch_related("user")
        .order_by("revoked_at", "user_id", "-last_seen_at")
    )
    tz = zone(settings.tz)
    return show(
        request,
        "devices.html",
        caller,
        {
            "township": township,
            "devices": devices,
            "local": lambda instant: instant.astimezone(tz).strftime("%Y-%m-%d %H:%M") if instant else None,
        },
    )


@page(*STAFF)
async def revoke_submit(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    await checked_form(request, max_size=16 * 1024)
    device = await Device.get_or_none(id=request.path_params["id"]).prefetch_related("user")
    if device is None:
        raise ApiError(404, "not_found", "Unknown device.")
    if device.user.township_id != township.code:  # type: ignore[attr-defined]
        raise ApiError(403, "forbidden", "This device belongs to another township.")
    async with in_transaction():
        await revoke_device(device)  # every token of the phone stops working at once
        await AuditEntry.create(
            actor=caller.user.id, action="device_revoked", target=f"device:{device.id}",
            details={"user": device.user.id, "device_id": device.device_id},
        )  # fmt: skip
    notice(request, N_("%(device)s of %(name)s is signed out; it must sign in again to sync."),
           device=device.device_name or device.device_id, name=device.user.name)  # fmt: skip
    return redirect(f"/township/{township.code}/devices")
