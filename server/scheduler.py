"""The scheduler inside the server (SPEC §11): a tick every minute, run by one process of many.

One process holds the `reminders` lease in the database (acquired by a conditional UPDATE or an
INSERT that only one process can win); the holder makes the current week's due reminders, retries
failed deliveries and lets provisional weeks that ended turn final. The lease is an economy, not
the guarantee: the unique reminder row and the delivery claims stay correct without it.

No process remembers which reminders it made: every tick asks the database for the users who are
due a reminder of this week and lack its row (server/reminders.py), which costs one query per due
kind when there is nothing to do. So a user who becomes due in the middle of the week gets it at
the next tick, whichever process or host holds the lease then:
* weekly: a doctor (given an assignment) or supervisor added after Monday's run gets the week's
  weekly reminder, which tells them this week's requirement, at the next tick;
* nudge: the rule of sync/pace.py is unchanged (due from Thursday 18:00 until the week ends, only
  to doctors behind pace, judged as of Thursday 18:00). Since a doctor on pace never has a row,
  the tick judges only the doctors who may have become due since the previous tick: all of them
  in the first ticks after Thursday 18:00, later a doctor added or given a new or changed
  assignment of the week. When the previous tick is not known (this tick takes the lease over
  from nobody, from another process or from a tick that failed) it judges them all again.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from server import recompute
from server.delivery import now_utc, send_due
from server.models import Lease
from server.reminders import make_reminders
from server.settings import Settings
from sync.pace import due_kinds

log = logging.getLogger("cunyi.scheduler")

LEASE = "reminders"
LEASE_TTL = timedelta(minutes=3)
TICK_SECONDS = 60
# How far before the previous tick a tick looks again for users who became due: more than the
# lease's TTL and a tick, so a tick that failed without giving up its lease is covered by the
# next; and time for rows stamped a while before they were committed or by a host whose clock
# is a little behind.
LOOK_BACK = timedelta(minutes=5)


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def acquire_lease(name: str, holder: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another holds it.

    The UPDATE's condition is re-checked on the locked row (PostgreSQL re-reads a row another
    transaction just changed), so of several processes whose leases expired only one wins; when
    there is no row yet, the primary key lets only one INSERT through.
    """
    now = now.astimezone(UTC)  # SQLite compares stored datetimes as text: always in UTC
    expires = now + ttl
    renewed = await Lease.filter(Q(name=name) & (Q(holder=holder) | Q(expires_at__lt=now))).update(
        holder=holder, expires_at=expires
    )
    if renewed:
        return True
    if await Lease.filter(name=name).exists():
        return False
    try:
        await Lease.create(name=name, holder=holder, expires_at=expires)
    except IntegrityError:
        return False
    return True


async def release_lease(name: str, holder: str) -> None:
    """Let another process take over at once (a clean shutdown) instead of after the TTL."""
    await Lease.filter(name=name, holder=holder).delete()


def looked_since(lease: Lease | None, holder: str, now: datetime) -> datetime | None:
    """Since when the users who did not change need not be looked at again, read from the lease
    as it was before this tick: its holder renews it at the start of every tick and gives it up
    when a tick fails, so a lease of ours that has not expired says when our previous tick began.
    None when the previous tick is unknown: every due user lacking a row is looked at."""
    if lease is None or lease.holder != holder or lease.expires_at < now:
        return None
    return lease.expires_at - LEASE_TTL - LOOK_BACK


class ReminderScheduler:
    """The tick of one server process. It keeps no memory of what it did: the reminder rows and
    the lease in the database are the only record, shared by every process and host."""

    def __init__(self, settings: Settings, holder: str | None = None) -> None:
        self.settings = settings
        self.holder = holder or new_holder()
        self.scheduler: AsyncIOScheduler | None = None

    async def tick(self, now: datetime | None = None) -> bool:
        """One round; False when another process holds the lease."""
        now = (now or now_utc()).astimezone(UTC)
        before = await Lease.get_or_none(name=LEASE)
        if not await acquire_lease(LEASE, self.holder, now):
            return False
        week, kinds = due_kinds(now, self.settings.tz)
        if kinds:
            since = looked_since(before, self.holder, now)
            try:
                report = await make_reminders(
                    self.settings, week, kinds, now, send=False, changed_since=since
                )
            except Exception:
                # The next tick, ours or another process's, must not take this one as done.
                await self.give_up_lease()
                raise
            if report.made:
                log.info("made reminders for %s: %s", week, dict(report.made))
        # New reminders' deliveries are pending and due now: one pass sends them and the retries.
        await send_due(self.settings, now)
        await recompute.recompute_ended_weeks(self.settings)
        return True

    async def give_up_lease(self) -> None:
        try:
            await release_lease(LEASE, self.holder)
        except Exception:
            log.warning("could not release the scheduler lease; it expires by itself")

    async def safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # the next tick tries again; a crash here would stop the scheduler
            log.exception("scheduler tick failed")

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.safe_tick,
            "interval",
            seconds=TICK_SECONDS,
            next_run_time=now_utc(),  # at start: catch up what was missed while the server was down
            max_instances=1,
            coalesce=True,
            id="reminders",
        )
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        await self.give_up_lease()
