"""The reminder API (push key, subscribe, unsubscribe, inbox, read, township webhook) and the
webhook page (SPEC §11), through the real app."""

from __future__ import annotations

import re

import httpx

from server.models import Change, Delivery, PushSubscription, Reminder, Township, User
from server.reminders import make_reminders
from server.settings import Settings
from tests.receivers import HandmadeSubscription, WebhookReceiver
from tests.server.reminder_data import MONDAY_0805, W47
from tests.world import PASSWORD, login, make_world


def phone_subscription(name: str = "wei") -> dict:
    import os

    from cryptography.hazmat.primitives.asymmetric import ec

    sub = HandmadeSubscription(
        f"https://fcm.googleapis.com/fcm/send/{name}-c2V0dGluZ3M",
        ec.generate_private_key(ec.SECP256R1()),
        os.urandom(16),
    )
    return sub.to_json()


async def test_the_push_key_is_the_servers_vapid_public_key(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/api/push/key")

    assert response.status_code == 200
    assert response.json() == {"public_key": settings.vapid_public_key}


async def test_a_doctor_subscribes_and_a_second_subscribe_updates_the_same_endpoint(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    first, renewed = phone_subscription(), phone_subscription()
    renewed["endpoint"] = first["endpoint"]

    one = await client.post("/api/push/subscribe", json={"subscription": first}, headers=headers)
    two = await client.post("/api/push/subscribe", json={"subscription": renewed}, headers=headers)

    assert (one.status_code, two.status_code) == (200, 200)
    [stored] = await PushSubscription.all()
    assert (stored.user_id, stored.endpoint, stored.p256dh) == (  # type: ignore[attr-defined]
        "doc-1", first["endpoint"], renewed["keys"]["p256dh"],
    )


async def test_a_phone_signed_in_as_someone_else_moves_its_subscription(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    sub = phone_subscription()
    await client.post("/api/push/subscribe", json={"subscription": sub}, headers=await login(client, world.doctor))

    await client.post(
        "/api/push/subscribe", json={"subscription": sub},
        headers=await login(client, world.patrol_doctor, device_id="phone-2"),
    )

    assert [s.user_id for s in await PushSubscription.all()] == ["doc-2"]  # type: ignore[attr-defined]


async def test_a_subscription_must_be_an_https_endpoint_with_real_keys(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    headers = await login(client, world.doctor)
    plain_http = {**phone_subscription(), "endpoint": "http://10.0.0.5/internal"}
    short_key = phone_subscription()
    short_key["keys"]["auth"] = "c2hvcnQ"

    refused = [
        await client.post("/api/push/subscribe", json={"subscription": body}, headers=headers)
        for body in (plain_http, short_key, {"endpoint": "https://x"}, "nope")
    ]

    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert refused[0].json()["error"]["details"][0]["field"] == "subscription.endpoint"
    assert not await PushSubscription.exists()


async def test_subscribing_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/push/subscribe", json={"subscription": phone_subscription()})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_unsubscribe_forgets_only_the_callers_own_endpoint(client: httpx.AsyncClient) -> None:
    world = await make_world()
    wei, qin = await login(client, world.doctor), await login(client, world.patrol_doctor, "phone-2")
    wei_sub, qin_sub = phone_subscription("wei"), phone_subscription("qin")
    await client.post("/api/push/subscribe", json={"subscription": wei_sub}, headers=wei)
    await client.post("/api/push/subscribe", json={"subscription": qin_sub}, headers=qin)

    other = await client.post("/api/push/unsubscribe", json={"endpoint": qin_sub["endpoint"]}, headers=wei)
    own = await client.post("/api/push/unsubscribe", json={"endpoint": wei_sub["endpoint"]}, headers=wei)

    assert (other.status_code, own.status_code) == (200, 200)
    assert [s.endpoint for s in await PushSubscription.all()] == [qin_sub["endpoint"]]


async def test_the_inbox_lists_the_callers_reminders_and_marks_one_read(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    headers = await login(client, world.doctor)
    reminder = await Reminder.get(user_id="doc-1")
    changes_before = await Change.filter(type="reminder", entity_id=reminder.id).count()

    listed = await client.get("/api/reminders", headers=headers)
    read = await client.post(f"/api/reminders/{reminder.id}/read", headers=headers)
    again = await client.get("/api/reminders", headers=headers)

    [item] = listed.json()["reminders"]
    assert item["id"] == reminder.id and item["title"] == "本周提醒 · 2026-W47"
    assert item["read"] is False
    assert item["created_at"].endswith("+08:00")
    assert read.status_code == 200 and read.json()["reminder"]["read"] is True
    assert again.json()["reminders"][0]["read"] is True
    # Read on one phone, read on the others: the change goes out in the next pull.
    assert await Change.filter(type="reminder", entity_id=reminder.id).count() == changes_before + 1


async def test_nobody_reads_another_users_reminder(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    wei_reminder = await Reminder.get(user_id="doc-1")

    response = await client.post(
        f"/api/reminders/{wei_reminder.id}/read", headers=await login(client, world.patrol_doctor)
    )

    assert response.status_code == 404
    assert (await Reminder.get(id=wei_reminder.id)).read_at is None


async def test_a_supervisor_sets_and_clears_the_township_webhook(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.supervisor)
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"

    put = await client.put("/api/townships/450225100/webhook", json={"url": url}, headers=headers)
    stored = (await Township.get(code="450225100")).webhook_url
    cleared = await client.put("/api/townships/450225100/webhook", json={"url": None}, headers=headers)

    assert put.status_code == 200 and put.json() == {"township": "450225100", "url": url}
    assert stored == url
    assert cleared.json()["url"] is None
    assert (await Township.get(code="450225100")).webhook_url is None


async def test_an_admin_of_the_county_may_set_any_of_its_townships_webhook(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()

    response = await client.put(
        "/api/townships/450225101/webhook", json={"url": "http://10.1.2.3:8080/sms"},
        headers=await login(client, world.admin),
    )

    assert response.status_code == 200


async def test_the_webhook_is_refused_to_doctors_other_townships_and_bad_urls(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    supervisor = await login(client, world.supervisor)
    good = {"url": "https://example.com/hook"}

    doctor = await client.put("/api/townships/450225100/webhook", json=good, headers=await login(client, world.doctor, "p2"))
    other = await client.put("/api/townships/450225101/webhook", json=good, headers=supervisor)
    unknown = await client.put("/api/townships/450225199/webhook", json=good, headers=supervisor)
    bad = [
        await client.put("/api/townships/450225100/webhook", json=body, headers=supervisor)
        for body in ({"url": "ftp://example.com/x"}, {"url": "https://"}, {"url": 5}, {})
    ]

    assert (doctor.status_code, other.status_code, unknown.status_code) == (403, 403, 404)
    assert [r.status_code for r in bad] == [422, 422, 422, 422]
    assert all(r.json()["error"]["code"] == "invalid" for r in bad)
    assert (await Township.get(code="450225100")).webhook_url is None


async def test_the_operations_are_in_the_openapi_description(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]

    assert {"/api/push/key", "/api/push/subscribe", "/api/push/unsubscribe", "/api/reminders",
            "/api/reminders/{id}/read", "/api/townships/{code}/webhook"} <= set(paths)
    assert "put" in paths["/api/townships/{code}/webhook"]


# ---- the webhook page ----------------------------------------------------------------------


async def sign_in_page(client: httpx.AsyncClient, user: User) -> None:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    response = await client.post(
        "/login", data={"csrf": csrf.group(1), "phone": user.phone, "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 303, response.text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_the_supervisor_sets_the_webhook_on_the_page_and_sends_a_test(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await sign_in_page(client, world.supervisor)
    with WebhookReceiver() as receiver:
        assert isinstance(receiver, WebhookReceiver)
        page = await client.get("/township/450225100/webhook")
        saved = await client.post(
            "/township/450225100/webhook",
            data={"csrf": csrf_of(page.text), "url": f"{receiver.url}/send?key=1", "action": "save"},
        )
        after = await client.get(saved.headers["location"])
        tested = await client.post(
            "/township/450225100/webhook", data={"csrf": csrf_of(after.text), "action": "test"}
        )

        assert page.status_code == 200
        assert saved.status_code == 303
        assert (await Township.get(code="450225100")).webhook_url == f"{receiver.url}/send?key=1"
        assert tested.status_code == 200
        [message] = receiver.messages
        assert message["msgtype"] == "text"
        assert message["text"]["content"].startswith("【莫院长】村医测试消息")


async def test_the_page_shows_failed_webhook_deliveries_with_their_reason(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    with WebhookReceiver() as receiver:
        assert isinstance(receiver, WebhookReceiver)
        world.township.webhook_url = f"{receiver.url}/send"
        await world.township.save()
        receiver.answer("webhook", 502, 502, 502)
        await make_reminders(settings, W47, ["weekly"], MONDAY_0805)
    await sign_in_page(client, world.supervisor)

    page = await client.get("/township/450225100/webhook")

    assert page.status_code == 200
    assert page.text.count("webhook answered 502") == 3
    assert await Delivery.filter(channel="webhook", status="failed").count() == 3
    assert "韦医生" in page.text


async def test_the_page_refuses_a_bad_url_and_a_missing_csrf_token(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await sign_in_page(client, world.supervisor)
    page = await client.get("/township/450225100/webhook")

    bad = await client.post(
        "/township/450225100/webhook", data={"csrf": csrf_of(page.text), "url": "javascript:alert(1)"}
    )
    forged = await client.post("/township/450225100/webhook", data={"url": "https://example.com/x"})

    assert bad.status_code == 422
    assert forged.status_code == 403
    assert (await Township.get(code="450225100")).webhook_url is None


async def test_the_page_of_another_township_is_forbidden_to_a_supervisor(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world()
    await sign_in_page(client, world.supervisor)

    response = await client.get("/township/450225101/webhook")

    assert response.status_code == 403
