"""Who may open a page: sign-in, role and township scope, the 403 page, and one-shot notices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.caller import Caller
from server.errors import ApiError
from server.models import Township
from server.web import login_redirect, page_caller, redirect, render

Handler = Callable[[Request, Caller], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

STAFF = ("supervisor", "admin")


def N_(message: str) -> str:
    """Marks a page message written in Python for the zh-CN catalog; translated when rendered."""
    return message


def page(*roles: str) -> Callable[[Handler], Endpoint]:
    """A page or form action for `roles`: signed-out callers go to /login, doctors to the phone
    app, and any refusal (role, scope, CSRF, unknown code) renders the error page with its status."""

    def wrap(handler: Handler) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            caller = await page_caller(request)
            if caller is None:
                return login_redirect(request)
            if caller.role == "doctor" and "doctor" not in roles:
                return redirect("/app/")
            try:
                if caller.role not in roles:
                    raise ApiError(403, "forbidden", N_("Your role may not open this page."))
                return await handler(request, caller)
            except ApiError as exc:
                return error_page(request, caller, exc)

        return endpoint

    return wrap


def error_page(request: Request, caller: Caller | None, exc: ApiError) -> Response:
    # API messages are English sentences; the page shows a translated sentence per status instead.
    return render(
        request,
        "error.html",
        {"status": exc.status, "code": exc.code, "message": exc.message},
        caller=caller,
        status_code=exc.status,
    )


async def township_in_scope(caller: Caller, code: str) -> Township:
    """The township `code` if the caller may see it: 404 when unknown, 403 when outside scope."""
    township = await Township.get_or_none(code=code)
    if township is None:
        raise ApiError(404, "not_found", f"Unknown township {code}.")
    await caller.require_township(code)
    return township


def notice(request: Request, message: str, **params: Any) -> None:
    """A message shown once on the next page (after a POST redirects back)."""
    request.session["notice"] = {"message": message, "params": {k: str(v) for k, v in params.items()}}


def take_notice(request: Request) -> dict[str, Any] | None:
    value = request.session.pop("notice", None)
    return value if isinstance(value, dict) else None


def show(
    request: Request,
    template: str,
    caller: Caller,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """render() plus what every signed-in page shows: the one-shot notice."""
    values = {"notice": take_notice(request), **(context or {})}
    return render(request, template, values, caller=caller, status_code=status_code)
