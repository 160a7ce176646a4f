"""The scheduler inside the server (SPEC §11): a tick every minute, run by one process of many.

One process holds the `reminders` lease in the database (acquired by a conditional UPDATE or an
INSERT that only one process can win); the holder makes the current week's due reminders, retries
failed deliveries and lets provisional weeks that ended turn final. The lease is an economy, not
the guarantee: the unique reminder row and the delivery claims stay correct without it.
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


class ReminderScheduler:
    """The tick of one server process; `done` remembers the (week, kind) runs it completed, so
    the reminders of a week are looked for once per process, not every minute."""

    def __init__(self, settings: Settings, holder: str | None = None) -> None:
        self.settings = settings
        self.holder = holder or new_holder()
        self.done: set[tuple[str, str]] = set()
        self.scheduler: AsyncIOScheduler | None = None

    async def tick(self, now: datetime | None = None) -> bool:
        """One round; False when another process holds the lease."""
        now = (now or now_utc()).astimezone(UTC)
        if not await acquire_lease(LEASE, self.holder, now):
            return False
        week, kinds = due_kinds(now, self.settings.tz)
        todo = [kind for kind in kinds if (week, kind) not in self.done]
        if todo:
            report = await make_reminders(self.settings, week, todo, now, send=False)
            self.done.update((week, kind) for kind in todo)
            if report.made:
                log.info("made reminders for %s: %s", week, dict(report.made))
        # New reminders' deliveries are pending and due now: one pass sends them and the retries.
        await send_due(self.settings, now)
        await recompute.recompute_ended_weeks(self.settings)
        return True

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
        try:
            await release_lease(LEASE, self.holder)
        except Exception:
            log.warning("could not release the scheduler lease; it expires by itself")
