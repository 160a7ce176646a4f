"""Delivering a stored reminder over its channels (SPEC §11): Web Push, in-app inbox, township webhook.

Every delivery is a `Delivery` row: `sent`, `failed` (with a reason; retried with exponential
backoff until MAX_ATTEMPTS) or `removed` (the push subscription expired, or the township dropped
its webhook). The inbox needs no sending: the reminder's change-log row, written with the reminder,
is what the phone pulls.

A delivery is claimed before it is sent, by a conditional UPDATE on its attempt count, so two
processes (the scheduler and `cunyi remind`, say) never send it twice; a process that dies
mid-send leaves the claim to expire after CLAIM and the delivery is tried again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests import RequestException

from server.models import Delivery, PushSubscription, Reminder, Township, User
from server.settings import Settings

log = logging.getLogger("cunyi.delivery")

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
CLAIM = timedelta(minutes=10)
TIMEOUT_SECONDS = 10.0
PUSH_TTL_SECONDS = 3 * 24 * 3600  # a week's reminder is still worth showing for a few days
PUSH_BODY_CHARS = 1000  # push payloads are small (≈4 KB encrypted); the inbox has the full text
WEBHOOK_CONTENT_BYTES = 2048  # a WeCom group-robot text message's limit
BATCH = 500
PARALLEL = 8


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | failed | removed
    reason: str | None = None


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1, 4, 16, 64, 256 minutes."""
    return FIRST_RETRY * int(4 ** max(0, attempts - 1))


def now_utc() -> datetime:
    return datetime.now(UTC)


# ---- Web Push -------------------------------------------------------------------------------


@cache
def vapid_key(pem: str) -> Vapid:
    return Vapid.from_pem(pem.encode())


def push_payload(reminder: Reminder) -> dict[str, str]:
    """What the phone's service worker reads (pwa/sw.js): title, body, url and tag."""
    body = reminder.body
    if len(body) > PUSH_BODY_CHARS:
        body = body[: PUSH_BODY_CHARS - 1] + "…"
    return {
        "title": reminder.title,
        "body": body,
        "url": reminder.url,
        "tag": f"{reminder.kind}-{reminder.week}",  # a repeat replaces, never stacks
    }


def _push_now(subscription: dict[str, Any], data: str, settings: Settings) -> None:
    webpush(
        subscription_info=subscription,
        data=data,
        vapid_private_key=vapid_key(settings.vapid_private_key),
        # webpush() adds `aud` and `exp` to the dict it is given: a fresh one every call.
        vapid_claims={"sub": settings.vapid_subject},
        ttl=PUSH_TTL_SECONDS,
        timeout=TIMEOUT_SECONDS,
    )


async def send_push(subscription: PushSubscription, payload: dict[str, str], settings: Settings) -> Outcome:
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    data = json.dumps(payload, ensure_ascii=False)
    try:
        await asyncio.to_thread(_push_now, info, data, settings)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            # The browser dropped the subscription: forget it; the app re-subscribes on start.
            await PushSubscription.filter(id=subscription.id).delete()
            return Outcome("removed", f"push service answered {status}: subscription expired")
        return Outcome("failed", f"push service answered {status or 'nothing'}")
    except (RequestException, OSError) as exc:
        # Chrome's push service is unreachable from mainland China: expected, retried, and the
        # inbox and webhook still carry the reminder.
        return Outcome("failed", f"push service unreachable: {type(exc).__name__}")
    return Outcome("sent")


# ---- Township webhook -------------------------------------------------------------------------


def webhook_content(user_name: str, title: str, body: str) -> str:
    """The group message text: who it is for, then the reminder, cut to WeCom's 2048 bytes."""
    text = f"【{user_name}】{title}\n{body}"
    encoded = text.encode("utf-8")
    if len(encoded) <= WEBHOOK_CONTENT_BYTES:
        return text
    return encoded[: WEBHOOK_CONTENT_BYTES - 3].decode("utf-8", errors="ignore") + "…"


async def post_webhook(url: str, content: str) -> Outcome:
    """POST a WeCom group-robot text message (SPEC §11) and read WeCom's own error code."""
    message = {"msgtype": "text", "text": {"content": content}}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(url, json=message)
    except httpx.HTTPError as exc:
        return Outcome("failed", f"webhook unreachable: {type(exc).__name__}")
    if not 200 <= response.status_code < 300:
        return Outcome("failed", f"webhook answered {response.status_code}")
    # WeCom answers 200 with {"errcode": 45009, "errmsg": "api freq out of limit"} when it refuses.
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        return Outcome("failed", f"webhook errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:400])
    return Outcome("sent")


# ---- Sending due deliveries -------------------------------------------------------------------


async def claim(delivery: Delivery, now: datetime) -> bool:
    """Take this delivery for one try; False when another process took it first."""
    taken = await Delivery.filter(
        id=delivery.id, attempts=delivery.attempts, status__in=("pending", "failed")
    ).update(attempts=delivery.attempts + 1, next_attempt_at=now + CLAIM)
    return taken == 1


async def record(delivery: Delivery, outcome: Outcome, attempts: int, now: datetime) -> None:
    next_at = None
    reason = outcome.reason
    if outcome.status == "failed":
        if attempts < MAX_ATTEMPTS:
            next_at = now + retry_delay(attempts)
        else:
            reason = f"{reason} (gave up after {attempts} attempts)"
    await Delivery.filter(id=delivery.id).update(
        status=outcome.status, reason=reason, next_attempt_at=next_at, updated_at=now
    )


async def deliver(delivery: Delivery, settings: Settings, now: datetime) -> str | None:
    """Try one delivery once; its new status, or None when another process has it."""
    if not await claim(delivery, now):
        return None
    reminder = await Reminder.get(id=delivery.reminder_id)  # type: ignore[attr-defined]
    if delivery.channel == "push":
        subscription = await PushSubscription.get_or_none(endpoint=delivery.target)
        if subscription is None or subscription.user_id != reminder.user_id:  # type: ignore[attr-defined]
            outcome = Outcome("removed", "the phone unsubscribed")
        else:
            outcome = await send_push(subscription, push_payload(reminder), settings)
    elif delivery.channel == "webhook":
        user = await User.get(id=reminder.user_id)  # type: ignore[attr-defined]
        township = await Township.get_or_none(code=user.township_id)  # type: ignore[attr-defined]
        url = township.webhook_url if township else None
        if not url:
            outcome = Outcome("removed", "the township no longer has a webhook")
        else:
            # The township's current URL: a supervisor fixing a wrong one fixes the retries too.
            if url != delivery.target:
                await Delivery.filter(id=delivery.id).update(target=url)
            outcome = await post_webhook(url, webhook_content(user.name, reminder.title, reminder.body))
    else:
        outcome = Outcome("sent")
    await record(delivery, outcome, delivery.attempts + 1, now)
    if outcome.status != "sent":
        log.info("reminder %s %s delivery %s: %s", reminder.id, delivery.channel, outcome.status, outcome.reason)
    return outcome.status


async def send_due(
    settings: Settings, now: datetime | None = None, reminder_ids: list[str] | None = None
) -> Counter[str]:
    """Send every pending or failed delivery whose time has come; counts of `channel status`."""
    # In UTC: SQLite compares stored datetimes as text.
    now = (now or now_utc()).astimezone(UTC)
    counts: Counter[str] = Counter()
    gate = asyncio.Semaphore(PARALLEL)

    async def one(delivery: Delivery) -> None:
        async with gate:
            status = await deliver(delivery, settings, now)
        if status:
            counts[f"{delivery.channel} {status}"] += 1

    while True:
        query = Delivery.filter(status__in=("pending", "failed"), next_attempt_at__lte=now)
        if reminder_ids is not None:
            query = query.filter(reminder_id__in=reminder_ids)
        due = await query.order_by("id").limit(BATCH)
        if not due:
            return counts
        await asyncio.gather(*(one(d) for d in due))
        if len(due) < BATCH:
            return counts
