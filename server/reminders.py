"""Making the weekly reminders exactly once (SPEC §11) and `cunyi remind` (SPEC §8).

At most once: the `Reminder` row (unique per user, week and kind) is inserted, together with
one `Delivery` row per channel and its change-log row, in one transaction BEFORE anything is
sent. An insert that hits the unique key means another process or an earlier run made it:
skip. So a reminder exists at most once across restarts, crashes and several server processes,
and a crash after the commit leaves pending deliveries that the next run sends.

Who is looked at is found in the database too, never remembered by a process: one query per kind
gives the users a reminder of the week may be due to who have no row for it yet (users_lacking).
When it finds nobody, nothing else is read or computed; so the scheduler can ask every minute,
and a user who becomes due in the middle of the week is found at the next tick.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.changes import ChangeNote, append_changes
from server.delivery import now_utc, send_due
from server.models import Delivery, PushSubscription, Reminder, Township
from server.rawsql import Dialect
from server.reminder_content import Draft, drafts_for
from server.settings import Settings
from sync.pace import DUE, ReminderKind, due_at, due_kinds
from sync.weeks import parse_week, week_end, week_monday

USERS_PER_ROUND = 500  # drafted together: bounds memory and every IN (...) list of a round


@dataclass
class Report:
    made: Counter[str] = field(default_factory=Counter)  # per kind
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


# Who each kind may be due to, in SQL (the rules of server/reminder_content.py; a test keeps the
# two in step): `weekly_doctor_drafts` speaks to a doctor holding an assignment last week or this
# week, `weekly_supervisor_drafts` to every supervisor of a township, `nudge_drafts` only to a
# doctor holding an assignment this week. $1 week, $2 kind, $3 and $4 the first and last day an
# assignment must overlap, $5 (the nudge, narrowed) the instant users changed since.
HOLDS_ASSIGNMENT = (
    "EXISTS (SELECT 1 FROM assignment a WHERE a.doctor_id = u.id"
    ' AND a.start <= $4 AND (a."end" IS NULL OR a."end" >= $3){also})'
)
DUE_TO = {
    "weekly": "(u.role = 'supervisor' AND u.township_id IS NOT NULL)"
    f" OR (u.role = 'doctor' AND {HOLDS_ASSIGNMENT.format(also='')})",
    "nudge": f"u.role = 'doctor' AND {HOLDS_ASSIGNMENT.format(also='')}",
}
CHANGED_SINCE = f"u.created_at >= $5 OR {HOLDS_ASSIGNMENT.format(also=' AND a.updated_at >= $5')}"
LACKING_SQL = """SELECT u.id FROM app_user u
WHERE u.active AND ({due})
AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.user_id = u.id AND r.week = $1 AND r.kind = $2)
ORDER BY u.id"""


async def users_lacking(
    week: str, kind: ReminderKind, *, changed_since: datetime | None = None
) -> list[str]:
    """The ids of the active users a `kind` reminder of `week` may be due to who have no row for it.

    Exact for `weekly`: the query asks what the drafts ask, so everyone it finds gets one, and a
    user added or given an assignment after Monday's run is found by the next tick. Not for the
    `nudge`, which only doctors behind pace get (sync/pace.py): a doctor on pace never has a row,
    so judging everyone lacking one every minute would judge the whole county every minute.
    `changed_since` narrows the nudge to the doctors whose user row was created, or who hold an
    assignment of this week created or changed, at or after it (see make_reminders).
    """
    monday = week_monday(week)
    first = monday - timedelta(days=7) if kind == "weekly" else monday
    due = DUE_TO[kind]
    conn = connections.get("default")
    sql = Dialect(conn)
    values: list[object] = [week, kind, sql.day(first), sql.day(monday + timedelta(days=6))]
    if kind == "nudge" and changed_since is not None:
        due = f"{due} AND ({CHANGED_SINCE})"
        values.append(sql.moment(changed_since.astimezone(UTC)))
    query = LACKING_SQL.format(due=due)
    if not sql.postgres:
        query = query.replace("$", "?")  # SQLite numbers its parameters ?1, ?2 …
    _, rows = await conn.execute_query(query, values)
    return [str(row["id"]) for row in rows]


async def make_reminders(
    settings: Settings,
    week: str,
    kinds: list[ReminderKind],
    now: datetime,
    *,
    send: bool = True,
    changed_since: datetime | None = None,
) -> Report:
    """Make the reminders of `kinds` for `week` that are due and do not exist yet, then send them.

    `changed_since` (the scheduler's: when the users not changed since were last looked at)
    narrows the nudge to the doctors who may have become due since. The nudge becomes due for
    every doctor at Thursday 18:00, so an instant before that narrows nothing; later, for a doctor
    added or given a new or changed assignment of the week. The weekly is always looked for in
    full: its query is exact, and finds nobody once everyone has theirs.
    """
    now = now.astimezone(UTC)  # SQLite compares stored datetimes as text: keep them all in UTC
    report = Report()
    for kind in kinds:
        since = changed_since
        if since is not None and since <= due_at(week, kind, settings.tz):
            since = None
        async for draft in drafts_lacking(settings, week, kind, now, since):
            reminder = await store_once(draft, now)
            if reminder is not None:  # None: another process made it a moment ago
                report.made[kind] += 1
                report.reminder_ids.append(reminder.id)
    if send and report.reminder_ids:
        report.deliveries += await send_due(settings, now, report.reminder_ids)
    return report


async def drafts_lacking(
    settings: Settings,
    week: str,
    kind: ReminderKind,
    now: datetime,
    changed_since: datetime | None = None,
) -> AsyncIterator[Draft]:
    """The drafts of the users who lack their `kind` reminder of `week`, a round of users at a
    time; none computed when nobody lacks one."""
    ids = await users_lacking(week, kind, changed_since=changed_since)
    for at in range(0, len(ids), USERS_PER_ROUND):
        chunk = ids[at : at + USERS_PER_ROUND]
        for draft in await drafts_for(kind, week, settings, now, user_ids=chunk):
            yield draft


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
    stored = await Reminder.filter(week=week, kind__in=kinds).count()
    print(f"{week}: made {made}; {stored - sum(report.made.values())} already existed.")
    for key in sorted(report.deliveries):
        print(f"  {key}: {report.deliveries[key]}")
    return 0


async def show_drafts(settings: Settings, week: str, kinds: list[ReminderKind], now: datetime) -> int:
    """--dry-run: print what would be made, writing nothing."""
    total = 0
    for kind in kinds:
        async for draft in drafts_lacking(settings, week, kind, now):
            total += 1
            print(f"--- {draft.user.name} ({draft.user.id}, {draft.user.language}) {kind} {week}")
            print(draft.title)
            print(draft.body)
        existing = await Reminder.filter(week=week, kind=kind).count()
        if existing:
            print(f"({existing} {kind} reminders of {week} already exist)")
    print(f"{week}: would make {total} reminders (dry run: nothing written or sent).")
    return 0
