"""Exactly once (SPEC §11): the scheduler's database lease, racing schedulers, restarts, catch-up."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from tortoise import Tortoise

from server import recompute
from server.app import create_app
from server.db import tortoise_config
from server.delivery import send_due
from server.models import Delivery, Lease, PushSubscription, Reminder
from server.reminders import make_reminders
from server.scheduler import LEASE, LEASE_TTL, ReminderScheduler, acquire_lease, release_lease
from server.settings import Settings
from tests.receivers import PushService, WebhookReceiver
from tests.server.reminder_data import CST, MONDAY_0700, MONDAY_0805, THURSDAY_1805, W47
from tests.world import make_world

WEDNESDAY_1000 = datetime(2026, 11, 18, 10, 0, tzinfo=CST)
NEXT_MONDAY_0700 = MONDAY_0700 + timedelta(days=7)


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


async def with_channels(push_service: PushService, webhook: WebhookReceiver) -> None:
    world = await make_world()
    sub = push_service.subscription("wei-phone")
    await PushSubscription.create(
        user=world.doctor, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth
    )
    world.township.webhook_url = f"{webhook.url}/send?key=1"
    await world.township.save()


async def test_only_one_holder_gets_the_lease_until_it_expires(db: None) -> None:
    first = await acquire_lease(LEASE, "server-a", MONDAY_0805)
    second = await acquire_lease(LEASE, "server-b", MONDAY_0805)
    renewed = await acquire_lease(LEASE, "server-a", MONDAY_0805 + timedelta(minutes=1))
    while_held = await acquire_lease(LEASE, "server-b", MONDAY_0805 + timedelta(minutes=2))
    expired = MONDAY_0805 + timedelta(minutes=1) + LEASE_TTL + timedelta(seconds=1)
    after_expiry = await acquire_lease(LEASE, "server-b", expired)

    assert (first, second, renewed, while_held, after_expiry) == (True, False, True, False, True)
    assert (await Lease.get(name=LEASE)).holder == "server-b"


async def test_a_released_lease_is_taken_over_at_once(db: None) -> None:
    await acquire_lease(LEASE, "server-a", MONDAY_0805)

    await release_lease(LEASE, "server-a")

    assert await acquire_lease(LEASE, "server-b", MONDAY_0805)


async def test_many_processes_racing_for_a_new_lease_give_it_to_exactly_one(db: None) -> None:
    results = await asyncio.gather(
        *(acquire_lease(LEASE, f"server-{n}", MONDAY_0805) for n in range(8))
    )

    assert sum(results) == 1


async def test_two_schedulers_ticking_at_once_make_each_reminder_once_and_deliver_it_once(
    db: None, settings: Settings, push_service: PushService, webhook: WebhookReceiver
) -> None:
    await with_channels(push_service, webhook)
    a, b = ReminderScheduler(settings, "server-a"), ReminderScheduler(settings, "server-b")

    ran = await asyncio.gather(a.tick(MONDAY_0805), b.tick(MONDAY_0805))

    assert sorted(ran) == [False, True]
    assert await Reminder.filter(week=W47, kind="weekly").count() == 5
    assert await Delivery.filter(channel="inbox").count() == 5
    assert await Delivery.filter(channel="push").count() == 1
    assert await Delivery.filter(channel="webhook").count() == 3
    assert len(push_service.received) == 1
    assert len(webhook.messages) == 3


async def test_making_reminders_twice_at_once_without_the_lease_still_makes_each_once(
    db: None, settings: Settings, push_service: PushService, webhook: WebhookReceiver
) -> None:
    await with_channels(push_service, webhook)

    reports = await asyncio.gather(
        make_reminders(settings, W47, ["weekly"], MONDAY_0805),
        make_reminders(settings, W47, ["weekly"], MONDAY_0805),
    )

    assert sum(r.made["weekly"] for r in reports) == 5
    assert await Reminder.all().count() == 5
    assert await Delivery.filter(channel="push").count() == 1
    assert len(push_service.received) == 1
    assert len(webhook.messages) == 3


async def test_after_a_restart_a_new_scheduler_makes_and_sends_nothing_again(
    db: None, settings: Settings, push_service: PushService, webhook: WebhookReceiver
) -> None:
    await with_channels(push_service, webhook)
    before = ReminderScheduler(settings, "server-a")
    await before.tick(MONDAY_0805)
    await before.stop()

    after = ReminderScheduler(settings, "server-a-restarted")
    ran = await after.tick(MONDAY_0805 + timedelta(hours=2))

    assert ran
    assert await Reminder.all().count() == 5
    assert len(push_service.received) == 1
    assert len(webhook.messages) == 3


async def test_deliveries_left_pending_by_a_crash_are_sent_by_the_next_tick(
    db: None, settings: Settings, push_service: PushService, webhook: WebhookReceiver
) -> None:
    await with_channels(push_service, webhook)
    # The process stored the reminders and died before sending anything.
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805, send=False)

    await ReminderScheduler(settings, "server-b").tick(MONDAY_0805 + timedelta(minutes=1))

    assert len(push_service.received) == 1
    assert len(webhook.messages) == 3
    assert await Delivery.filter(status="sent").count() == 5 + 1 + 3


async def test_a_delivery_claimed_by_another_process_is_not_sent_twice(
    db: None, settings: Settings, push_service: PushService, webhook: WebhookReceiver
) -> None:
    await with_channels(push_service, webhook)
    await make_reminders(settings, W47, ["weekly"], MONDAY_0805, send=False)

    counts = await asyncio.gather(send_due(settings, MONDAY_0805), send_due(settings, MONDAY_0805))

    assert sum(sum(c.values()) for c in counts) == 1 + 3
    assert len(push_service.received) == 1
    assert len(webhook.messages) == 3


async def test_a_server_started_on_wednesday_catches_up_mondays_reminders(
    db: None, settings: Settings
) -> None:
    await make_world()

    await ReminderScheduler(settings, "server-a").tick(WEDNESDAY_1000)

    assert await Reminder.filter(week=W47, kind="weekly").count() == 5
    assert not await Reminder.filter(kind="nudge").exists()


async def test_the_nudge_is_made_after_thursday_evening(db: None, settings: Settings) -> None:
    await make_world()
    scheduler = ReminderScheduler(settings, "server-a")

    await scheduler.tick(WEDNESDAY_1000)
    await scheduler.tick(THURSDAY_1805)

    # No visits at all: all three doctors are behind pace.
    assert await Reminder.filter(week=W47, kind="nudge").count() == 3


async def test_a_missed_week_is_never_caught_up_in_the_next_one(
    db: None, settings: Settings
) -> None:
    await make_world()

    await ReminderScheduler(settings, "server-a").tick(NEXT_MONDAY_0700)

    assert await Reminder.all().count() == 0


async def test_nothing_is_made_before_monday_eight(db: None, settings: Settings) -> None:
    await make_world()

    await ReminderScheduler(settings, "server-a").tick(MONDAY_0700)

    assert await Reminder.all().count() == 0


async def test_a_scheduler_without_the_lease_does_nothing(db: None, settings: Settings) -> None:
    await make_world()
    await acquire_lease(LEASE, "server-a", MONDAY_0805)

    ran = await ReminderScheduler(settings, "server-b").tick(MONDAY_0805)

    assert not ran
    assert await Reminder.all().count() == 0


async def test_the_tick_lets_ended_weeks_turn_final(
    db: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Settings] = []

    async def recompute_ended_weeks(given: Settings) -> None:
        calls.append(given)

    monkeypatch.setattr(recompute, "recompute_ended_weeks", recompute_ended_weeks)

    await ReminderScheduler(settings, "server-a").tick(MONDAY_0700)

    assert calls == [settings]


async def test_the_app_runs_the_scheduler_when_enabled_and_releases_its_lease_on_shutdown(
    settings: Settings,
) -> None:
    # This test opens the app itself: clear a lease an earlier test may have left behind.
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        await Lease.all().delete()
    finally:
        await Tortoise.close_connections()
    app = create_app(dataclasses.replace(settings, scheduler=True))

    async with app.router.lifespan_context(app):
        for _ in range(100):
            if await Lease.filter(name=LEASE).exists():
                break
            await asyncio.sleep(0.05)
        held = await Lease.filter(name=LEASE).values_list("holder", flat=True)

    assert len(held) == 1
    app2 = create_app(settings)
    async with app2.router.lifespan_context(app2):
        assert not await Lease.filter(name=LEASE).exists()
