"""What every server-rendered page shares: the signed session, CSRF, language and rendering."""

from __future__ import annotations

import secrets
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.caller import Caller
from server.errors import ApiError
from server.i18n import gettext_for, normalise_language
from server.tokens import user_for_token

TEMPLATES = Environment(
    loader=FileSystemLoader(__import__("pathlib").Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("lang")
    if chosen:
        return normalise_language(chosen)
    return normalise_language(request.session.get("lang"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request, max_size: int = 64 * 1024 * 1024) -> FormData:
    """The posted form, after checking its CSRF token against the session's (403 otherwise)."""
    form = await request.form(max_part_size=max_size)
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise ApiError(403, "csrf", "The form expired or did not come from this site; reload it.")
    return form


async def page_caller(request: Request) -> Caller | None:
    token = request.session.get("token")
    if not token:
        return None
    try:
        user, device, row = await user_for_token(token)
    except ApiError:
        request.session.pop("token", None)
        return None
    return Caller(user=user, device=device, token=row)


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    caller: Caller | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    values = {
        "request": request,
        "_": gettext_for(language),
        "lang": language,
        "csrf": csrf_token(request),
        "caller": caller,
        "user": caller.user if caller else None,
        **(context or {}),
    }
    response = HTMLResponse(TEMPLATES.get_template(template).render(values), status_code=status_code)
    if request.query_params.get("lang"):
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="lax")
    return response


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
