"""Sign-in and sign-out pages: the session cookie holds a revocable token, like a phone's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.auth import check_credentials, client_address
from server.errors import ApiError
from server.tokens import issue_token, revoke_token
from server.web import checked_form, page_caller, redirect, render


def _safe_next(value: object) -> str:
    # Only same-site paths: never an open redirect to another host.
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


async def login_page(request: Request) -> Response:
    return render(request, "login.html", {"next": _safe_next(request.query_params.get("next"))})


async def login_submit(request: Request) -> Response:
    form = await checked_form(request, max_size=16 * 1024)
    phone = str(form.get("phone") or "").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(form.get("next"))
    try:
        user = await check_credentials(phone, password, client_address(request))
    except ApiError as exc:
        context = {"error": exc.message, "error_code": exc.code, "phone": phone, "next": next_url}
        response = render(request, "login.html", context, status_code=exc.status)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    token = await issue_token(user, f"web-{user.id}", request.headers.get("user-agent", "")[:200])
    request.session.clear()
    request.session["token"] = token
    request.session["lang"] = user.language
    return redirect(next_url)


async def logout_submit(request: Request) -> Response:
    await checked_form(request, max_size=16 * 1024)
    caller = await page_caller(request)
    if caller is not None:
        await revoke_token(caller.token)
    request.session.clear()
    return redirect("/login")


async def home(request: Request) -> Response:
    caller = await page_caller(request)
    if caller is None:
        return redirect("/login")
    if caller.role == "doctor":
        return redirect("/app/")
    # A supervisor starts on their township's dashboard, an admin on their county's view.
    if caller.role == "supervisor" and caller.user.township_id:  # type: ignore[attr-defined]
        return redirect(f"/township/{caller.user.township_id}")  # type: ignore[attr-defined]
    if caller.role == "admin":
        return redirect(f"/county/{caller.user.county_id or ''}")  # type: ignore[attr-defined]
    return render(request, "home.html", caller=caller)
