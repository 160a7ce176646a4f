"""Making the weekly reminders exactly once (SPEC §11) and `cunyi remind` (SPEC §8).

At most once: the `Reminder` row (unique per user, week and kind) is inserted, together with
one `Delivery` row per channel and its change-log row, in one transaction BEFORE anything is
sent. An insert that hits the unique key means another process or an earlier run made it:
skip. So a reminder exists at most once across restarts, crashes and several server processes,
and a crash after the commit leaves pending deliveries that the next run sends.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.changes import ChangeNote, append_changes
from server.delivery import now_utc, send_due
from server.models import Delivery, PushSubscription, Reminder, Township
from server.reminder_content import Draft, drafts_for
from server.settings import Settings
from sync.pace import DUE, ReminderKind, due_at, due_kinds
from sync.weeks import parse_week, week_end


@dataclass
class Report:
    made: Counter[str] = field(default_factory=Counter)  # per kind
    existed: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # "channel status"
    reminder_ids: list[str] = field(default_factory=list)


async def store_once(draft: Draft, now: datetime) -> Reminder | None:
    """Insert the reminder with its deliveries and change-log row; None if it already exists."""
    user = draft.user
    endpoints = await PushSubscription.filter(user_id=user.id).values_list("endpoint", flat=True)
    township = await Township.get_or_none(code=user.township_id) if user.township_id else None  # type: ignore[attr-defined]
    try:
        async with in_transaction() as connection:
            reminder = await Reminder.create(
                id=str(uuid.uuid4()),
                user_id=user.id,
                week=draft.week,
                kind=draft.kind,
                title=draft.title,
                body=draft.body,
                url=draft.url,
                created_at=now,
                using_db=connection,
            )
            # The inbox is the reminder itself, pulled as a `reminder` change: sent once stored.
            rows = [Delivery(reminder=reminder, channel="inbox", status="sent", attempts=1)]
            rows += [
                Delivery(reminder=reminder, channel="push", target=endpoint, next_attempt_at=now)
                for endpoint in endpoints
            ]
            if township is not None and township.webhook_url:
                rows.append(
                    Delivery(
                        reminder=reminder, channel="webhook", target=township.webhook_url,
                        next_attempt_at=now,
                    )
                )
            await Delivery.bulk_create(rows, using_db=connection)
            await append_changes(
                [ChangeNote(type="reminder", entity_id=reminder.id, user_id=user.id)], connection
            )
    except IntegrityError:
        return None
    return reminder


async def users_reminded(week: str, kind: str) -> set[str]:
    rows = await Reminder.filter(week=week, kind=kind).values_list("user_id", flat=True)
    return {str(user_id) for user_id in rows}


async def make_reminders(
    settings: Settings,
    week: str,
    kinds: list[ReminderKind],
    now: datetime,
    *,
    send: bool = True,
) -> Report:
    """Make the reminders of `kinds` for `week` that do not exist yet, then send them."""
    now = now.astimezone(UTC)  # SQLite compares stored datetimes as text: keep them all in UTC
    report = Report()
    for kind in kinds:
        existing = await users_reminded(week, kind)
        report.existed += len(existing)
        for draft in await drafts_for(kind, week, settings, now, skip_user_ids=existing):
            reminder = await store_once(draft, now)
            if reminder is None:
                report.existed += 1
            else:
                report.made[kind] += 1
                report.reminder_ids.append(reminder.id)
    if send and report.reminder_ids:
        report.deliveries += await send_due(settings, now, report.reminder_ids)
    return report


async def make_due_reminders(settings: Settings, now: datetime | None = None) -> Report:
    """The current week's reminders that are due at `now` (the scheduler's catch-up)."""
    now = now or now_utc()
    week, kinds = due_kinds(now, settings.tz)
    return await make_reminders(settings, week, kinds, now)


def kinds_for_week(week: str, now: datetime, tz: str) -> list[ReminderKind]:
    """What `cunyi remind --week` makes: Monday's reminders always (the operator asked for that
    week), Thursday's nudge only once due and while the week lasts — "what is still needed this
    week" says nothing about a week that is over, nor before anyone could be behind."""
    kinds: list[ReminderKind] = ["weekly"]
    if due_at(week, "nudge", tz) <= now < week_end(week, tz):
        kinds.append("nudge")
    return kinds


async def remind_command(settings: Settings, *, week: str | None = None, dry_run: bool = False) -> int:
    """`cunyi remind [--week 2026-W47] [--dry-run]`: make (or show) the reminders now."""
    now = now_utc()
    if week is None:
        week, kinds = due_kinds(now, settings.tz)
    else:
        try:
            parse_week(week)
        except ValueError as exc:
            print(f"cunyi: {exc}")
            return 2
        kinds = kinds_for_week(week, now, settings.tz)
    if not kinds:
        due = ", ".join(f"{k} {due_at(week, k, settings.tz):%Y-%m-%d %H:%M}" for k in DUE)
        print(f"{week}: no reminders due yet ({due}).")
        return 0
    if dry_run:
        return await show_drafts(settings, week, kinds, now)
    report = await make_reminders(settings, week, kinds, now)
    made = ", ".join(f"{kind} {report.made[kind]}" for kind in kinds)
    print(f"{week}: made {made}; {report.existed} already existed.")
    for key in sorted(report.deliveries):
        print(f"  {key}: {report.deliveries[key]}")
    return 0


async def show_drafts(settings: Settings, week: str, kinds: list[ReminderKind], now: datetime) -> int:
    """--dry-run: print what would be made, writing nothing."""
    total = 0
    for kind in kinds:
        existing = await users_reminded(week, kind)
        for draft in await drafts_for(kind, week, settings, now, skip_user_ids=existing):
            total += 1
            print(f"--- {draft.user.name} ({draft.user.id}, {draft.user.language}) {kind} {week}")
            print(draft.title)
            print(draft.body)
        if existing:
            print(f"({len(existing)} {kind} reminders of {week} already exist)")
    print(f"{week}: would make {total} reminders (dry run: nothing written or sent).")
    return 0
