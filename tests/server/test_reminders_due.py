"""Who each tick reminds (SPEC §11), with the database as the only memory: users who become due in
the middle of the week, schedulers that remember nothing, and ticks that have nothing to do."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from server import reminders
from server.models import Assignment, Delivery, Lease, Reminder, User
from server.reminder_content import Draft, drafts_for
from server.reminders import users_lacking
from server.scheduler import LEASE, ReminderScheduler
from server.settings import Settings
from tests.server.reminder_data import CST, MONDAY_0805, W47, add_visit, day
from tests.world import World, make_user, make_world

BEFORE_THE_WEEK = datetime(2026, 11, 1, 12, 0, tzinfo=CST)
TUESDAY_1000 = datetime(2026, 11, 17, 10, 0, tzinfo=CST)
THURSDAY_1800 = datetime(2026, 11, 19, 18, 0, tzinfo=CST)
FRIDAY_0900 = datetime(2026, 11, 20, 9, 0, tzinfo=CST)


def thursday(minutes_after_six: int) -> datetime:
    return THURSDAY_1800 + timedelta(minutes=minutes_after_six)


class DraftSpy:
    """drafts_for as the reminders module calls it, noting which users each call looked at."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []
        self.failing = False

    async def __call__(
        self, kind: Any, week: str, settings: Settings, now: datetime, *, user_ids: Any = None
    ) -> list[Draft]:
        self.asked.append((kind, sorted(user_ids or [])))
        if self.failing and kind == "nudge":
            raise RuntimeError("the database went away")
        return await drafts_for(kind, week, settings, now, user_ids=user_ids)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> DraftSpy:
    spy = DraftSpy()
    monkeypatch.setattr(reminders, "drafts_for", spy)
    return spy


async def world_made_before_the_week() -> World:
    """make_world, its rows stamped as made before 2026-W47 (the tests' clock is not the wall's)."""
    world = await make_world()
    await User.all().update(created_at=BEFORE_THE_WEEK)
    await Assignment.all().update(updated_at=BEFORE_THE_WEEK)
    return world


async def add_doctor(world: World, uid: str, phone: str, at: datetime, start: date) -> User:
    """A doctor of 融水镇 created at `at`, rostered at 古鼎村 from `start`."""
    doctor = await make_user(
        uid, "蒙医生", phone, "doctor", township=world.township, created_at=at
    )
    await Assignment.create(
        id=f"asg-{uid}", doctor=doctor, village=world.villages[0], kind="roster",
        start=start, end=None, slots=[],
    )
    await Assignment.filter(id=f"asg-{uid}").update(updated_at=at)
    return doctor


async def reminders_per_user(kind: str) -> Counter[str]:
    rows = await Reminder.filter(week=W47, kind=kind).values_list("user_id", flat=True)
    return Counter(str(user_id) for user_id in rows)


async def test_users_added_after_mondays_run_get_the_weekly_at_the_next_tick_and_nobody_twice(
    db: None, settings: Settings
) -> None:
    world = await world_made_before_the_week()
    scheduler = ReminderScheduler(settings, "server-a")
    await scheduler.tick(MONDAY_0805)
    # Tuesday: a new doctor, rostered from today, and a second supervisor of 融水镇.
    await add_doctor(world, "doc-4", "13800000014", TUESDAY_1000, day(1))
    await make_user("sup-3", "潘副院长", "13800000013", "supervisor", township=world.township)

    await scheduler.tick(TUESDAY_1000 + timedelta(minutes=1))
    await scheduler.tick(TUESDAY_1000 + timedelta(minutes=2))

    weekly = await reminders_per_user("weekly")
    assert weekly == Counter(["doc-1", "doc-2", "doc-3", "sup-1", "sup-2", "doc-4", "sup-3"])
    new = await Reminder.get(user_id="doc-4", week=W47, kind="weekly")
    assert "本周（2026-W47）要求：" in new.body and "古鼎村 派驻" in new.body
    assert await Delivery.filter(channel="inbox").count() == 7


async def test_a_tick_when_everyone_has_their_reminder_looks_at_nobody_and_makes_nothing(
    db: None, settings: Settings, spy: DraftSpy
) -> None:
    world = await world_made_before_the_week()
    # Neither is due anything: no assignment, and no township to summarise.
    await make_user("doc-5", "石医生", "13800000015", "doctor", township=world.township)
    await make_user("sup-4", "杨主任", "13800000016", "supervisor")
    await ReminderScheduler(settings, "server-a").tick(MONDAY_0805)
    rows, deliveries = await Reminder.all().count(), await Delivery.all().count()
    spy.asked.clear()

    await ReminderScheduler(settings, "server-a").tick(MONDAY_0805 + timedelta(minutes=1))
    await ReminderScheduler(settings, "server-b").tick(MONDAY_0805 + timedelta(hours=1))

    assert spy.asked == []
    assert await Reminder.all().count() == rows == 5
    assert await Delivery.all().count() == deliveries


async def test_a_fresh_scheduler_on_another_host_remembers_nothing_and_makes_no_duplicates(
    db: None, settings: Settings
) -> None:
    world = await world_made_before_the_week()
    for offset in range(4):  # 韦医生 is on pace on Thursday evening: no nudge for him
        await add_visit(world.doctor, world.villages[0], "duty", day(offset), 8, 9)
    first = ReminderScheduler(settings, "host-a:4101")
    await first.tick(MONDAY_0805)
    await first.tick(thursday(5))
    deliveries = await Delivery.all().count()

    ran = await ReminderScheduler(settings, "host-b:5202").tick(FRIDAY_0900)

    assert ran
    assert await reminders_per_user("weekly") == Counter(["doc-1", "doc-2", "doc-3", "sup-1", "sup-2"])
    assert await reminders_per_user("nudge") == Counter(["doc-2", "doc-3"])
    assert await Delivery.all().count() == deliveries


async def test_after_thursdays_first_ticks_only_a_doctor_who_became_due_is_judged_for_the_nudge(
    db: None, settings: Settings, spy: DraftSpy
) -> None:
    world = await world_made_before_the_week()
    for offset in range(4):
        await add_visit(world.doctor, world.villages[0], "duty", day(offset), 8, 9)
    scheduler = ReminderScheduler(settings, "server-a")
    for minute in range(1, 8, 2):  # every two minutes from 18:01 to 18:07
        await scheduler.tick(thursday(minute))
    first_ticks = list(spy.asked)
    spy.asked.clear()
    await scheduler.tick(thursday(9))
    at_1809 = list(spy.asked)
    # A new doctor, rostered from Friday: behind pace as of Thursday evening.
    await add_doctor(world, "doc-4", "13800000014", thursday(10), day(4))
    spy.asked.clear()

    await scheduler.tick(thursday(11))
    await scheduler.tick(thursday(13))

    # 韦医生 is on pace, so he never has a nudge: judged in the first ticks, not every minute.
    assert ("nudge", ["doc-1"]) in first_ticks
    assert at_1809 == []
    assert spy.asked == [("weekly", ["doc-4"]), ("nudge", ["doc-4"])]
    assert await reminders_per_user("nudge") == Counter(["doc-2", "doc-3", "doc-4"])
    assert await reminders_per_user("weekly") == Counter(
        ["doc-1", "doc-2", "doc-3", "sup-1", "sup-2", "doc-4"]
    )


async def test_ticks_failing_for_longer_than_the_look_back_still_leave_the_nudge_to_the_next(
    db: None, settings: Settings, spy: DraftSpy
) -> None:
    await world_made_before_the_week()
    scheduler = ReminderScheduler(settings, "server-a")
    await scheduler.tick(thursday(-1))
    spy.failing = True
    for minute in range(1, 9, 2):  # 18:01 to 18:07: every nudge round fails
        with pytest.raises(RuntimeError):
            await scheduler.tick(thursday(minute))
    lease_after_failure = await Lease.filter(name=LEASE).exists()
    spy.failing = False

    await scheduler.tick(thursday(9))

    assert not lease_after_failure  # a failed tick gives the lease up: it is not taken as done
    assert await reminders_per_user("nudge") == Counter(["doc-1", "doc-2", "doc-3"])


async def test_the_due_query_finds_exactly_the_users_the_drafts_speak_to(
    db: None, settings: Settings
) -> None:
    world = await world_made_before_the_week()
    await make_user("doc-5", "石医生", "13800000015", "doctor", township=world.township)
    ended = await add_doctor(world, "doc-6", "13800000016", BEFORE_THE_WEEK, date(2026, 10, 1))
    await Assignment.filter(doctor=ended).update(end=date(2026, 11, 12))  # ended in 2026-W46
    await add_doctor(world, "doc-7", "13800000017", BEFORE_THE_WEEK, date(2026, 11, 23))
    gone = await add_doctor(world, "doc-8", "13800000018", BEFORE_THE_WEEK, date(2026, 10, 1))
    gone.active = False
    await gone.save()
    await make_user("sup-4", "杨主任", "13800000019", "supervisor")

    weekly = await users_lacking(W47, "weekly")
    nudge = await users_lacking(W47, "nudge")
    weekly_drafts = await drafts_for("weekly", W47, settings, MONDAY_0805)
    nudge_drafts = await drafts_for("nudge", W47, settings, thursday(5))

    assert sorted(weekly) == ["doc-1", "doc-2", "doc-3", "doc-6", "sup-1", "sup-2"]
    assert sorted(weekly) == sorted(d.user.id for d in weekly_drafts)
    assert sorted(nudge) == ["doc-1", "doc-2", "doc-3"]
    assert {d.user.id for d in nudge_drafts} <= set(nudge)
