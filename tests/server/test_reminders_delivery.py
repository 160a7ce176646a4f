"""Delivering reminders to real receivers on 127.0.0.1 (SPEC §11): Web Push with VAPID and an
aes128gcm payload, the township webhook as WeCom text JSON, and the in-app inbox in the pull."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from cryptography.exceptions import InvalidSignature

from server.delivery import MAX_ATTEMPTS, retry_delay, send_due, vapid_key
from server.models import Change, Delivery, PushSubscription, Reminder, User
from server.reminders import make_reminders
from server.settings import Settings
from tests.receivers import HandmadeSubscription, PushService, WebhookReceiver, verify_vapid
from tests.server.reminder_data import MONDAY_0805, W47
from tests.world import login, make_world


@pytest.fixture
def push_service(settings: Settings) -> Iterator[PushService]:
    with PushService(settings.vapid_public_key) as service:
        assert isinstance(service, PushService)
        yield service


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        assert isinstance(receiver, WebhookReceiver)
        yield receiver


async def subscribe(user: User, sub: HandmadeSubscription) -> None:
    # Stored directly: the API accepts only https endpoints, and the stand-in speaks plain http.
    await PushSubscription.create(user=user, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth)


async def delivery(user: User, channel: str) -> Delivery:
    return await Delivery.get(reminder__user_id=user.id, channel=channel)


async def test_a_push_reaches_the_phone_signed_with_vapid_and_decryptable(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    reminder = await Reminder.get(user_id="doc-1", week=W47, kind="weekly")
    [message] = push_service.received
    assert message.payload == {
        "title": "本周提醒 · 2026-W47",
        "body": reminder.body,
        "url": "/app/#/today",
        "tag": "weekly-2026-W47",
    }
    assert message.claims["sub"] == settings.vapid_subject
    assert message.claims["aud"] == push_service.url
    assert message.headers["content-encoding"] == "aes128gcm"
    sent = await delivery(world.doctor, "push")
    assert (sent.status, sent.attempts, sent.target) == ("sent", 1, push_service.subscriptions["wei-phone"].endpoint)


async def test_every_subscribed_phone_of_a_user_gets_the_push(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    await subscribe(world.doctor, push_service.subscription("wei-tablet"))

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    assert sorted(m.subscription for m in push_service.received) == ["wei-phone", "wei-tablet"]


def test_the_push_service_stand_in_rejects_a_tampered_vapid_token(
    settings: Settings, push_service: PushService
) -> None:
    push_service.subscription("wei-phone")
    claims = {"sub": settings.vapid_subject, "aud": push_service.url, "exp": 4102444800}
    header = vapid_key(settings.vapid_private_key).sign(claims)["Authorization"]
    token = header.split("t=", 1)[1].split(",", 1)[0]
    head, payload, signature = token.split(".")
    forged_claims = base64.urlsafe_b64encode(
        json.dumps({**claims, "sub": "mailto:attacker@example.com"}).encode()
    ).rstrip(b"=").decode()
    forged = header.replace(token, f"{head}.{forged_claims}.{signature}")

    genuine = verify_vapid(header, push_service.vapid_public_key)
    answer = httpx.post(f"{push_service.url}/push/wei-phone", headers={"authorization": forged})

    assert genuine["sub"] == settings.vapid_subject
    with pytest.raises(InvalidSignature):
        verify_vapid(forged, push_service.vapid_public_key)
    assert answer.status_code == 401
    assert [name for name, _ in push_service.rejected] == ["wei-phone"]
    assert push_service.received == []


async def test_an_expired_subscription_is_removed_on_410(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    push_service.answer("wei-phone", 410)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    removed = await delivery(world.doctor, "push")
    assert removed.status == "removed"
    assert "410" in (removed.reason or "")
    assert removed.next_attempt_at is None
    assert not await PushSubscription.filter(user_id="doc-1").exists()


async def test_a_404_also_removes_the_subscription(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    push_service.answer("wei-phone", 404)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    assert (await delivery(world.doctor, "push")).status == "removed"
    assert not await PushSubscription.filter(user_id="doc-1").exists()


async def test_a_push_service_error_is_recorded_and_retried_after_the_backoff(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    push_service.answer("wei-phone", 503)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    failed = await delivery(world.doctor, "push")
    too_early = await send_due(settings, MONDAY_0805 + timedelta(seconds=30))
    retried = await send_due(settings, MONDAY_0805 + retry_delay(1))

    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.reason == "push service answered 503"
    assert failed.next_attempt_at == MONDAY_0805 + timedelta(minutes=1)
    assert not too_early
    assert retried == {"push sent": 1}
    sent = await delivery(world.doctor, "push")
    assert (sent.status, sent.attempts, sent.next_attempt_at) == ("sent", 2, None)
    assert len(push_service.received) == 1


async def test_a_rate_limited_push_is_retried_too(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    push_service.answer("wei-phone", 429)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    failed = await delivery(world.doctor, "push")
    assert (failed.status, failed.reason) == ("failed", "push service answered 429")
    assert failed.next_attempt_at is not None


async def test_an_unreachable_push_service_fails_with_a_reason_and_the_inbox_still_has_it(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    sub = HandmadeSubscription(f"http://127.0.0.1:{closed_port}/push/x", *_keys())
    await subscribe(world.doctor, sub)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    failed = await delivery(world.doctor, "push")
    assert failed.status == "failed"
    assert (failed.reason or "").startswith("push service unreachable")
    assert (await delivery(world.doctor, "inbox")).status == "sent"


async def test_retries_stop_after_the_last_attempt(
    db: None, settings: Settings, push_service: PushService
) -> None:
    world = await make_world()
    await subscribe(world.doctor, push_service.subscription("wei-phone"))
    push_service.answer("wei-phone", *([502] * MAX_ATTEMPTS))

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    moment = MONDAY_0805
    for attempt in range(1, MAX_ATTEMPTS):
        moment += retry_delay(attempt)
        await send_due(settings, moment)

    gave_up = await delivery(world.doctor, "push")
    assert (gave_up.status, gave_up.attempts, gave_up.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert "gave up" in (gave_up.reason or "")
    assert not await send_due(settings, moment + timedelta(days=1))


def test_backoff_grows_exponentially() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1), timedelta(minutes=4), timedelta(minutes=16),
    ]


async def test_the_township_webhook_gets_its_reminders_as_wecom_text(
    db: None, settings: Settings, webhook: WebhookReceiver
) -> None:
    world = await make_world()
    world.township.webhook_url = f"{webhook.url}/cgi-bin/webhook/send?key=693a91f6"
    await world.township.save()

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    # 融水镇's two doctors and its supervisor; 和睦镇 has no webhook.
    assert len(webhook.messages) == 3
    assert all(set(m) == {"msgtype", "text"} and m["msgtype"] == "text" for m in webhook.messages)
    wei = next(m for m in webhook.messages if m["text"]["content"].startswith("【韦医生】"))
    reminder = await Reminder.get(user_id="doc-1", kind="weekly")
    assert wei["text"]["content"] == f"【韦医生】本周提醒 · 2026-W47\n{reminder.body}"
    assert (await delivery(world.doctor, "webhook")).status == "sent"
    assert not await Delivery.filter(channel="webhook", reminder__user_id="doc-3").exists()


async def test_a_webhook_refusal_by_errcode_is_a_failure_retried_later(
    db: None, settings: Settings, webhook: WebhookReceiver
) -> None:
    world = await make_world()
    world.other_township.webhook_url = f"{webhook.url}/send?key=1"
    await world.other_township.save()
    webhook.refuse_next(45009)
    webhook.refuse_next(45009)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    failed = await Delivery.filter(channel="webhook", status="failed").count()
    retried = await send_due(settings, MONDAY_0805 + retry_delay(1))

    assert failed == 2  # 梁医生's and 贾院长's
    assert retried == {"webhook sent": 2}
    assert len(webhook.messages) == 2


async def test_a_webhook_server_error_is_recorded_with_its_status(
    db: None, settings: Settings, webhook: WebhookReceiver
) -> None:
    world = await make_world()
    world.other_township.webhook_url = f"{webhook.url}/send"
    await world.other_township.save()
    webhook.answer("webhook", 500, 500)

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    reasons = await Delivery.filter(channel="webhook").values_list("reason", flat=True)
    assert sorted(reasons) == ["webhook answered 500", "webhook answered 500"]


async def test_a_webhook_removed_before_the_retry_ends_the_delivery(
    db: None, settings: Settings, webhook: WebhookReceiver
) -> None:
    world = await make_world()
    world.other_township.webhook_url = f"{webhook.url}/send"
    await world.other_township.save()
    webhook.answer("webhook", 500, 500)
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    world.other_township.webhook_url = None
    await world.other_township.save()

    await send_due(settings, MONDAY_0805 + retry_delay(1))

    assert set(await Delivery.filter(channel="webhook").values_list("status", flat=True)) == {"removed"}


async def test_every_reminder_is_an_inbox_change_for_its_user_only(
    db: None, settings: Settings
) -> None:
    await make_world()

    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)

    reminder = await Reminder.get(user_id="doc-1", kind="weekly")
    change = await Change.get(type="reminder", entity_id=reminder.id)
    assert change.user_id == "doc-1"
    assert (await Delivery.get(reminder_id=reminder.id, channel="inbox")).status == "sent"


async def test_the_doctors_pull_carries_the_reminder_with_the_same_text(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_world()
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    wei_headers = await login(client, await User.get(id="doc-1"))
    qin_headers = await login(client, await User.get(id="doc-2"), device_id="phone-2")

    wei = await client.get("/api/sync/pull", params={"cursor": "", "limit": 1000}, headers=wei_headers)
    qin = await client.get("/api/sync/pull", params={"cursor": "", "limit": 1000}, headers=qin_headers)

    assert wei.status_code == 200, wei.text
    reminder = await Reminder.get(user_id="doc-1", kind="weekly")
    [change] = [c for c in wei.json()["changes"] if c["type"] == "reminder"]
    assert change["id"] == reminder.id
    assert change["data"]["title"] == "本周提醒 · 2026-W47"
    assert change["data"]["body"] == reminder.body
    assert change["data"]["read"] is False
    assert reminder.id not in {c["id"] for c in qin.json()["changes"] if c["type"] == "reminder"}


def _keys() -> tuple:
    import os

    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
