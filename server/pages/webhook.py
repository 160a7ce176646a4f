"""The township webhook page (SPEC §11): set the URL, send a test, see recent deliveries and failures."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.reminders import set_township_webhook, webhook_url_error
from server.caller import Caller
from server.delivery import post_webhook, webhook_content
from server.errors import ApiError
from server.models import Delivery, Township
from server.web import checked_form, login_redirect, page_caller, redirect, render

RECENT = 30


async def _township(request: Request) -> tuple[Caller | None, Township | None, Response | None]:
    """The caller and township, or the response to send instead (sign in, app, 403, 404)."""
    caller = await page_caller(request)
    if caller is None:
        return None, None, login_redirect(request)
    if caller.role == "doctor":
        return caller, None, redirect("/app/")
    code = request.path_params["code"]
    township = await Township.get_or_none(code=code)
    status = 404 if township is None else 0
    if township is not None and not (caller.role in ("supervisor", "admin") and await caller.may_see_township(code)):
        status = 403
    if status:
        return caller, None, render(
            request, "webhook.html", {"denied": status, "code": code}, caller=caller, status_code=status
        )
    return caller, township, None


async def _page(
    request: Request, caller: Caller, township: Township, status: int = 0, **extra: object
) -> Response:
    deliveries = (
        await Delivery.filter(channel="webhook", reminder__user__township_id=township.code)
        .order_by("-id")
        .limit(RECENT)
        .prefetch_related("reminder__user")
    )
    failing = sum(1 for d in deliveries if d.status == "failed")
    context = {
        "township": township,
        "deliveries": deliveries,
        "failing": failing,
        "saved": request.query_params.get("saved") == "1",
        "url_value": township.webhook_url or "",
        **extra,
    }
    status = status or (422 if extra.get("error") else 200)
    return render(request, "webhook.html", context, caller=caller, status_code=status)


async def webhook_page(request: Request) -> Response:
    caller, township, response = await _township(request)
    if response is not None:
        return response
    assert caller is not None and township is not None
    return await _page(request, caller, township)


async def webhook_submit(request: Request) -> Response:
    caller, township, response = await _township(request)
    if response is not None:
        return response
    assert caller is not None and township is not None
    try:
        form = await checked_form(request, max_size=16 * 1024)
    except ApiError as exc:
        return await _page(request, caller, township, status=exc.status, error=exc.message)
    if form.get("action") == "test":
        if not township.webhook_url:
            return await _page(request, caller, township, error="Set a webhook URL first.")
        outcome = await post_webhook(
            township.webhook_url,
            webhook_content(caller.user.name, "村医测试消息 / cunyi test message", township.name),
        )
        return await _page(request, caller, township, test=outcome)
    url = str(form.get("url") or "").strip() or None
    problem = webhook_url_error(url) if url else None
    if problem:
        return await _page(request, caller, township, error=problem, url_value=url or "")
    await set_township_webhook(township.code, url, caller.user.id)
    return redirect(f"/township/{township.code}/webhook?saved=1")
