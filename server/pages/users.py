"""Staff of a township: create doctors (and, for admins, supervisors) and reset passwords."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from server.caller import Caller
from server.errors import ApiError
from server.models import QUALIFICATIONS, AuditEntry, Township, User
from server.pages.access import N_, STAFF, notice, page, show, township_in_scope
from server.pages.forms import FormProblem
from server.passwords import hash_password
from server.web import checked_form, redirect

MIN_PASSWORD = 8  # decision: long enough to resist guessing behind the sign-in throttle


def roles_for(caller: Caller) -> tuple[str, ...]:
    """Supervisors manage their doctors; an admin may also create a township's supervisor."""
    return ("doctor", "supervisor") if caller.role == "admin" else ("doctor",)


def checked_password(value: object) -> str:
    password = str(value or "")
    if len(password) < MIN_PASSWORD:
        raise FormProblem(N_("A password needs at least %(n)s characters."), n=MIN_PASSWORD)
    return password


async def _page(
    request: Request,
    caller: Caller,
    township: Township,
    *,
    problem: FormProblem | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    users = await User.filter(township_id=township.code).order_by("role", "name")
    return show(
        request,
        "users.html",
        caller,
        {
            "township": township,
            "users": users,
            "roles": roles_for(caller),
            "qualifications": QUALIFICATIONS,
            "problem": problem,
            "values": values or {"role": "doctor", "qualification": "village_doctor"},
            "min_password": MIN_PASSWORD,
        },
        status_code=status_code,
    )


@page(*STAFF)
async def users_page(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    return await _page(request, caller, township)


@page(*STAFF)
async def create_user(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    values = {key: str(form.get(key) or "").strip() for key in ("id", "name", "phone", "role", "qualification")}
    try:
        if not values["name"] or len(values["name"]) > 100:
            raise FormProblem(N_("Enter a name of up to 100 characters."))
        if not values["phone"].isdigit() or not 5 <= len(values["phone"]) <= 32:
            raise FormProblem(N_("Enter the phone number as digits only."))
        if values["role"] not in roles_for(caller):
            raise FormProblem(N_("You may not create a user with this role."))
        if values["qualification"] not in QUALIFICATIONS:
            raise FormProblem(N_("Choose a qualification."))
        password = checked_password(form.get("password"))
        user_id = values["id"] or str(uuid.uuid4())
        if len(user_id) > 64 or await User.filter(id=user_id).exists():
            raise FormProblem(N_("The staff number %(id)s is already used."), id=user_id)
        if await User.filter(phone=values["phone"]).exists():
            raise FormProblem(N_("The phone number %(phone)s is already used."), phone=values["phone"])
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, values=values, status_code=422)
    digest = await asyncio.to_thread(hash_password, password)  # argon2 is slow on purpose
    async with in_transaction() as conn:
        await User.create(
            id=user_id, name=values["name"], phone=values["phone"], password_hash=digest,
            role=values["role"], township_id=township.code, qualification=values["qualification"],
            using_db=conn,
        )  # fmt: skip
        await AuditEntry.create(
            actor=caller.user.id, action="user_created", target=user_id,
            details={"role": values["role"], "township": township.code}, using_db=conn,
        )  # fmt: skip
    notice(request, N_("%(name)s can now sign in with %(phone)s."), name=values["name"], phone=values["phone"])
    return redirect(f"/township/{township.code}/users")


@page(*STAFF)
async def reset_password(request: Request, caller: Caller) -> Response:
    township = await township_in_scope(caller, request.path_params["code"])
    form = await checked_form(request, max_size=16 * 1024)
    user = await User.get_or_none(id=request.path_params["id"])
    if user is None or user.township_id != township.code:  # type: ignore[attr-defined]
        raise ApiError(404, "not_found", "Unknown user in this township.")
    if user.role not in roles_for(caller):
        raise ApiError(403, "forbidden", "You may not reset this user's password.")
    try:
        password = checked_password(form.get("password"))
    except FormProblem as problem:
        return await _page(request, caller, township, problem=problem, status_code=422)
    # Decision: a reset does not sign the user's phones out (their outbox keeps syncing);
    # revoke a lost phone on the devices page instead.
    user.password_hash = await asyncio.to_thread(hash_password, password)
    async with in_transaction() as conn:
        await user.save(using_db=conn, update_fields=["password_hash"])
        await AuditEntry.create(
            actor=caller.user.id, action="password_reset", target=user.id, details={}, using_db=conn
        )
    notice(request, N_("The password of %(name)s is reset."), name=user.name)
    return redirect(f"/township/{township.code}/users")
