"""Keep the stored coverage rows (models.CoverageWeek) true for the village-weeks a change touched.

One pass, for any set of (village, ISO week) pairs: load plain rows in a fixed number of batched
queries, convert them to sync.model dataclasses, let sync.coverage decide, then upsert the rows
that changed, keep a CoverageRevision when a FINAL week changes status (SPEC §4), and append
`coverage` change notes as the last step of the caller's transaction.

How "provisional because the week is not over" turns final with no new sync: each row stores the
assigned doctors who have not synced since the week ended (`unsynced`). Until its week ends a row
is provisional; once it has ended, `unsynced` alone decides. Readers apply that rule lazily
(`effective_provisional`), so the API is right the minute a week ends; `recompute_ended_weeks`
(run by the scheduler, or any time: it is idempotent) then stores the flip and tells phones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time as clock
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.changes import ChangeNote, append_changes
from server.models import (
    Assignment,
    CoverageRevision,
    CoverageWeek,
    Village,
    Visit,
)
from server.rawsql import Dialect, read_day, read_json, read_moment, to_json
from server.settings import Settings
from sync import model
from sync.coverage import (
    doctors_assigned,
    is_provisional,
    unsynced_doctors,
    village_week,
    visit_flag_counts,
)
from sync.weeks import (
    parse_week,
    previous_week,
    week_dates,
    week_end,
    week_of,
    week_of_date,
    week_range,
)

log = logging.getLogger("cunyi.recompute")

# Causes written into revisions; pages translate them.
CAUSE_REBUILD = "rebuild"
CAUSE_WEEK_ENDED = "week_ended"
CAUSE_DOCTOR_SYNCED = "doctor_synced"

PAIRS_PER_CHUNK = 2000  # keeps every IN (...) list well under SQLite's and PostgreSQL's limits
VILLAGE_WEEK_LOCK = 4513  # pg_advisory_xact_lock(key1, key2) namespace for village-weeks

Pair = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class VillageWeek:
    """One village-week as stored and as the API shows it (SPEC §7), plus who has not synced."""

    village: str
    township: str
    county: str | None
    week: str
    mode: str
    status: str
    provisional: bool
    duty_days: int
    duty_required: int
    patrol_days: int
    patrol_required: int
    flags: Mapping[str, int] = field(default_factory=dict)
    unsynced: tuple[str, ...] = ()

    def content(self) -> tuple[Any, ...]:
        """What a recompute compares: a change here is a change phones and pages must see."""
        return (
            self.township,
            self.mode,
            self.status,
            self.provisional,
            self.duty_days,
            self.duty_required,
            self.patrol_days,
            self.patrol_required,
            dict(self.flags),
            tuple(sorted(self.unsynced)),
        )


@dataclass
class Outcome:
    computed: int = 0
    changed: int = 0
    revisions: int = 0
    notes: list[ChangeNote] = field(default_factory=list)


def effective_provisional(row: VillageWeek, now: datetime, tz: str) -> bool:
    """A stored row's `provisional` as of `now`: a row stored while its week was running is final
    once the week is over, if nobody assigned still owes a sync (SPEC §4)."""
    # The stored `unsynced` are exactly the assigned doctors not synced since the week ended.
    return row.provisional and is_provisional(row.week, now, tz, row.unsynced, {})


# --- the server edge: Tortoise rows (as dicts) → sync.model dataclasses ---

VISIT_FIELDS = (
    "id", "doctor_id", "village_id", "kind", "started_at", "ended_at", "week",
    "deleted", "dismissed", "flags", "overlap_resolved",
)  # fmt: skip
ASSIGNMENT_FIELDS = ("id", "doctor_id", "village_id", "kind", "start", "end", "slots")


def visit_of(row: Mapping[str, Any]) -> model.Visit:
    return model.Visit(
        id=row["id"],
        doctor=row["doctor_id"],
        village=row["village_id"],
        kind=row["kind"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        deleted=row["deleted"],
        dismissed=row["dismissed"],
        flags=frozenset(row["flags"] or ()),
        overlap_resolved=row["overlap_resolved"],
    )


def assignment_of(row: Mapping[str, Any]) -> model.Assignment:
    return model.Assignment(
        id=row["id"],
        doctor=row["doctor_id"],
        village=row["village_id"],
        kind=row["kind"],
        start=row["start"],
        end=row["end"],
        slots=tuple(model.Slot(int(s["weekday"]), s["half"]) for s in row["slots"] or ()),
    )


def stored_of(row: Mapping[str, Any], county: str | None) -> VillageWeek:
    return VillageWeek(
        village=row["village_id"],
        township=row["township"],
        county=county,
        week=row["week"],
        mode=row["mode"],
        status=row["status"],
        provisional=row["provisional"],
        duty_days=row["duty_days"],
        duty_required=row["duty_required"],
        patrol_days=row["patrol_days"],
        patrol_required=row["patrol_required"],
        flags=dict(row["flags"] or {}),
        unsynced=tuple(row["unsynced"] or ()),
    )


STORED_FIELDS = (
    "village_id", "township", "week", "mode", "status", "provisional", "duty_days",
    "duty_required", "patrol_days", "patrol_required", "flags", "unsynced",
)  # fmt: skip


# --- computing ---


async def compute(
    pairs: Iterable[Pair],
    *,
    settings: Settings,
    now: datetime | None = None,
    connection: BaseDBAsyncClient | None = None,
    synced_now: Collection[str] = (),
) -> dict[Pair, VillageWeek]:
    """The coverage rows of `pairs` as they are now, stored or not (unknown villages are left out).

    Six queries per chunk of pairs, whatever the number of visits. `synced_now` are doctors who
    are completing a sync in this very transaction (their last_sync_at counts as `now`).
    """
    now = now or datetime.now(UTC)
    connection = connection or connections.get("default")
    result: dict[Pair, VillageWeek] = {}
    for chunk in _chunks(sorted(set(pairs))):
        result.update(await _compute_chunk(chunk, settings, now, connection, synced_now))
    return result


async def _compute_chunk(
    pairs: list[Pair],
    settings: Settings,
    now: datetime,
    conn: BaseDBAsyncClient,
    synced_now: Collection[str],
) -> dict[Pair, VillageWeek]:
    codes = sorted({v for v, _ in pairs})
    weeks = sorted({w for _, w in pairs})
    for week in weeks:
        parse_week(week)  # a malformed week is a programming error upstream: fail loudly
    sql = Dialect(conn)
    villages = await _villages(sql, codes)
    assignments, last_sync = await _assignments(
        sql, codes, week_dates(weeks[0])[0], week_dates(weeks[-1])[-1]
    )
    exempt = await _exemptions(sql, codes, weeks)
    visits = await _visits(sql, codes, weeks)
    for doctor in synced_now:
        last_sync[doctor] = now

    tz, policy = settings.tz, settings.policy
    result: dict[Pair, VillageWeek] = {}
    for code, week in pairs:
        place = villages.get(code)
        if place is None:
            continue
        village, county = place
        held = assignments.get(code, [])
        in_week = visits.get((code, week), [])
        cell = village_week(
            village, week, held, in_week, exempt=(code, week) in exempt, tz=tz, policy=policy
        )
        assigned = doctors_assigned(held, code, week)
        result[(code, week)] = restored(
            VillageWeek,
            {
                "village": code,
                "township": village.township,
                "county": county,
                "week": week,
                "mode": cell.mode,
                "status": cell.status,
                "provisional": is_provisional(week, now, tz, assigned, last_sync),
                "duty_days": cell.duty_days,
                "duty_required": cell.duty_required,
                "patrol_days": cell.patrol_days,
                "patrol_required": cell.patrol_required,
                "flags": visit_flag_counts(in_week),
                "unsynced": unsynced_doctors(week, assigned, last_sync, tz=tz),
            },
        )
    return result


async def stored(
    pairs: Iterable[Pair], *, connection: BaseDBAsyncClient | None = None
) -> dict[Pair, VillageWeek]:
    """The stored rows of `pairs` (those that exist), one query per chunk."""
    sql = Dialect(connection or connections.get("default"))
    result: dict[Pair, VillageWeek] = {}
    for chunk in _chunks(sorted(set(pairs))):
        result.update(await _stored_chunk(sql, chunk))
    return result


# --- storing ---


async def recompute_notes(
    touched: Iterable[Pair],
    *,
    cause: str,
    settings: Settings,
    connection: BaseDBAsyncClient,
    now: datetime | None = None,
    synced_now: Collection[str] = (),
    causes: Mapping[Pair, str] | None = None,
) -> Outcome:
    """Recompute and store `touched`, keeping revisions; returns the change notes for the CALLER
    to append as the last step of its transaction (with its own notes, in one go). A revision
    names `cause`, or the pair's own in `causes` (one pass over pairs touched for two reasons)."""
    now = now or datetime.now(UTC)
    # Phones pull coverage of this week and last only (SPEC §6); pages read the table. Noting
    # older weeks would only fill the change log (a rebuild would add every village-week).
    recent = previous_week(week_of(now, settings.tz))
    outcome = Outcome()
    for chunk in _chunks(sorted(set(touched))):
        await _lock(chunk, connection)
        fresh = await _compute_chunk(chunk, settings, now, connection, synced_now)
        before = await _stored_chunk(Dialect(connection), list(fresh)) if fresh else {}
        changed = [
            row
            for key, row in fresh.items()
            if key not in before or before[key].content() != row.content()
        ]
        revisions = [
            CoverageRevision(
                village_id=row.village,
                week=row.week,
                old_status=old.status,
                new_status=row.status,
                cause=(causes or {}).get((row.village, row.week), cause)[:500],
                at=now,
            )
            for row in changed
            if (old := before.get((row.village, row.week))) is not None
            and old.status != row.status
            and not effective_provisional(old, now, settings.tz)
        ]
        if changed:
            await _store(changed, now, connection)
        if revisions:
            await CoverageRevision.bulk_create(revisions, using_db=connection)
        outcome.computed += len(fresh)
        outcome.changed += len(changed)
        outcome.revisions += len(revisions)
        outcome.notes += [
            ChangeNote(
                type="coverage",
                entity_id=f"{row.village}:{row.week}",
                township=row.township,
                county=row.county,
            )
            for row in changed
            if row.week >= recent
        ]
    return outcome


async def recompute(
    touched: Iterable[tuple[str, str]],
    *,
    cause: str,
    settings: Settings,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Recompute (village code, ISO week) pairs in the caller's transaction (its LAST step, since
    it appends change notes). Without a connection it opens its own transaction."""
    if connection is None:
        async with in_transaction() as own:
            await recompute(touched, cause=cause, settings=settings, connection=own)
        return
    outcome = await recompute_notes(touched, cause=cause, settings=settings, connection=connection)
    await append_changes(outcome.notes, connection)


async def on_doctor_synced(
    doctor_id: str,
    previous_sync_at: datetime | None,
    *,
    settings: Settings,
    connection: BaseDBAsyncClient | None = None,
    now: datetime | None = None,
) -> None:
    """A doctor completed a push or pull: weeks that ended after their previous sync and are
    still provisional at their villages may now be final (SPEC §4). Several weeks offline are all
    caught up. Costs no query when they had already synced since the last week ended."""
    now = now or datetime.now(UTC)
    if not may_finalise_weeks(previous_sync_at, settings, now):
        return
    if connection is None:
        async with in_transaction() as own:
            await on_doctor_synced(
                doctor_id, previous_sync_at, settings=settings, connection=own, now=now
            )
        return
    waiting = await synced_weeks(
        doctor_id, previous_sync_at, settings=settings, connection=connection, now=now
    )
    outcome = await recompute_notes(
        waiting,
        cause=CAUSE_DOCTOR_SYNCED,
        settings=settings,
        connection=connection,
        now=now,
        synced_now={doctor_id},
    )
    await append_changes(outcome.notes, connection)


def may_finalise_weeks(
    previous_sync_at: datetime | None, settings: Settings, now: datetime
) -> bool:
    """Whether a sync completed at `now` may make weeks final: not when the doctor had already
    synced since the last week ended."""
    last_ended = previous_week(week_of(now, settings.tz))
    return previous_sync_at is None or previous_sync_at < week_end(last_ended, settings.tz)


async def synced_weeks(
    doctor_id: str,
    previous_sync_at: datetime | None,
    *,
    settings: Settings,
    connection: BaseDBAsyncClient,
    now: datetime,
) -> set[Pair]:
    """The village-weeks on_doctor_synced recomputes (none when `may_finalise_weeks` is false), for a
    caller that recomputes them in its own pass (a push: with the weeks its visits touched)."""
    if not may_finalise_weeks(previous_sync_at, settings, now):
        return set()
    tz = settings.tz
    last_ended = previous_week(week_of(now, tz))
    sql = Dialect(connection)
    _, rows = await connection.execute_query(
        f'SELECT {_ASSIGNMENT_COLUMNS} FROM "assignment" a WHERE a.doctor_id = {sql.marks(1)[0]}',
        [doctor_id],
    )
    held = [_stored_assignment(row) for row in rows]
    if not held:
        return set()
    villages = sorted({a.village for a in held})
    # Every ended week, back to the one the previous sync fell in, still waiting for this doctor …
    since = "" if previous_sync_at is None else week_of(previous_sync_at, tz)  # "" precedes all
    marks = sql.marks(3 + len(villages))
    _, rows = await connection.execute_query(
        'SELECT village_id, week, unsynced FROM "coverage_week" '
        f"WHERE provisional = {marks[0]} AND week <= {marks[1]} AND week >= {marks[2]} "
        f"AND village_id IN ({', '.join(marks[3:])})",
        [True, last_ended, since, *villages],
    )
    waiting = {
        (village, week)
        for village, week, unsynced in rows
        if doctor_id in (read_json(unsynced) or ())
    }
    # … and at least last week at each of their villages, stored or not yet.
    waiting |= {
        (v, last_ended) for v in villages if doctor_id in doctors_assigned(held, v, last_ended)
    }
    return waiting


_ended_pass_week: str | None = None  # the week whose start this process last caught up with


async def recompute_ended_weeks(
    settings: Settings, *, now: datetime | None = None, force: bool = False
) -> int:
    """Store what the end of a week changes: rows kept provisional only because their week was
    running become final, and last and this week get a row for every village (so dashboards and
    pulls have one). Does the work once per process and week (the scheduler calls it every
    tick; nothing else changes with time alone), or whenever `force`d; idempotent. Returns the
    number of rows changed."""
    global _ended_pass_week
    now = now or datetime.now(UTC)
    current = week_of(now, settings.tz)
    if current == _ended_pass_week and not force:
        return 0
    last = previous_week(current)
    conn = connections.get("default")
    ended = await (
        CoverageWeek.filter(provisional=True, week__lt=current, unsynced=[])
        .using_db(conn)
        .values_list("village_id", "week")
    )
    have = set(
        await CoverageWeek.filter(week__in=[last, current])
        .using_db(conn)
        .values_list("village_id", "week")
    )
    codes = await _village_codes(conn)
    missing = [(c, w) for c in codes for w in (last, current) if (c, w) not in have]
    changed = 0
    for chunk in _chunks(sorted({(str(v), str(w)) for v, w in ended} | set(missing))):
        async with in_transaction() as tx:
            outcome = await recompute_notes(
                chunk, cause=CAUSE_WEEK_ENDED, settings=settings, connection=tx, now=now
            )
            await append_changes(outcome.notes, tx)
        changed += outcome.changed
    _ended_pass_week = current
    return changed


async def rebuild_all(
    settings: Settings,
    *,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every village × every week from the earliest assignment or visit to this week,
    a chunk of villages per transaction. Gives exactly the rows incremental recomputes give (a
    difference is stored, with a revision if a final week's status moves). `progress(done,
    total)` counts villages. Returns the number of village-weeks computed."""
    now = now or datetime.now(UTC)
    current = week_of(now, settings.tz)
    conn = connections.get("default")
    firsts = [
        first
        for first in (await _earliest_assignment_week(conn), await _earliest_visit_week(conn))
        if first is not None and first <= current
    ]
    weeks = week_range(min(firsts), current) if firsts else [current]
    codes = await _village_codes(conn)
    per_chunk = max(1, PAIRS_PER_CHUNK // len(weeks))
    computed = 0
    for start in range(0, len(codes), per_chunk):
        villages = codes[start : start + per_chunk]
        async with in_transaction() as tx:
            outcome = await recompute_notes(
                [(v, w) for v in villages for w in weeks],
                cause=CAUSE_REBUILD,
                settings=settings,
                connection=tx,
                now=now,
            )
            await append_changes(outcome.notes, tx)
        computed += outcome.computed
        if progress is not None:
            progress(min(start + per_chunk, len(codes)), len(codes))
    return computed


async def rebuild_command(settings: Settings) -> int:
    """`cunyi rebuild-coverage`: rebuild every stored row, with a progress bar on stderr."""
    from tqdm import tqdm

    started = clock.monotonic()
    with tqdm(total=0, unit="village", desc="rebuilding coverage") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        computed = await rebuild_all(settings, progress=progress)
    print(f"rebuilt {computed} village-weeks in {clock.monotonic() - started:.1f} s")
    return 0


# --- plumbing ---


def _chunks(pairs: list[Pair]) -> Iterable[list[Pair]]:
    for start in range(0, len(pairs), PAIRS_PER_CHUNK):
        yield pairs[start : start + PAIRS_PER_CHUNK]


def _lock_key(pair: Pair) -> int:
    digest = hashlib.blake2b(f"{pair[0]}:{pair[1]}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


async def _lock(pairs: list[Pair], conn: BaseDBAsyncClient) -> None:
    # On PostgreSQL two transactions touching one village-week would each compute from a snapshot
    # missing the other's visit, and the later upsert would lose it. A transaction-scoped lock per
    # village-week, taken in key order before reading, makes the second wait for the first's
    # commit and then read it (READ COMMITTED takes a new snapshot per statement). SQLite
    # serialises writers by itself.
    if conn.capabilities.dialect != "postgres" or not pairs:
        return
    keys = sorted({_lock_key(p) for p in pairs})
    await conn.execute_query(
        f"SELECT pg_advisory_xact_lock({VILLAGE_WEEK_LOCK}, k) "
        "FROM (SELECT unnest($1::int[]) AS k ORDER BY 1) AS ordered",
        [keys],
    )


# --- reading: raw SQL, stored values → sync.model ---
# A push recomputes some fifty village-weeks: building its five ORM queries cost about as much as
# computing them, and a rebuild reads millions of visits (the ORM's per-value parsing was half of
# its time). These read what the ORM reads, from the stored forms server/rawsql.py describes;
# tests/server/test_recompute_reads.py holds them to the ORM's answers.


def _in_village_weeks(sql: Dialect, codes: list[str], weeks: list[str]) -> tuple[str, list[str]]:
    """The WHERE clause `village_id IN codes AND week IN weeks`, and its parameters."""
    marks = sql.marks(len(codes) + len(weeks))
    return (
        f"WHERE village_id IN ({', '.join(marks[: len(codes)])}) "
        f"AND week IN ({', '.join(marks[len(codes) :])})",
        [*codes, *weeks],
    )


async def _villages(sql: Dialect, codes: list[str]) -> dict[str, tuple[model.Village, str | None]]:
    """The villages of `codes` that exist, each with its county."""
    _, rows = await sql.conn.execute_query(
        "SELECT v.code, v.township_id, v.name, v.needs_coverage, v.lat, v.lon, t.county_id "
        'FROM "village" v LEFT JOIN "township" t ON t.code = v.township_id '
        f"WHERE v.code IN ({', '.join(sql.marks(len(codes)))})",
        codes,
    )
    return {
        code: (
            model.Village(
                code=code,
                township=township,
                name=name,
                needs_coverage=bool(needs_coverage),
                lat=lat,
                lon=lon,
            ),
            county,
        )
        for code, township, name, needs_coverage, lat, lon, county in rows
    }


async def _assignments(
    sql: Dialect, codes: list[str], first_day: date, last_day: date
) -> tuple[dict[str, list[model.Assignment]], dict[str, datetime | None]]:
    """The assignments at `codes` in force on some day from `first_day` to `last_day`, by village,
    and when each of their doctors last completed a sync."""
    marks = sql.marks(len(codes) + 2)
    _, rows = await sql.conn.execute_query(
        f'SELECT {_ASSIGNMENT_COLUMNS}, u.last_sync_at FROM "assignment" a '
        'LEFT JOIN "app_user" u ON u.id = a.doctor_id '
        f'WHERE a."start" <= {marks[0]} AND (a."end" IS NULL OR a."end" >= {marks[1]}) '
        f"AND a.village_id IN ({', '.join(marks[2:])})",
        [sql.day(last_day), sql.day(first_day), *codes],
    )
    held: defaultdict[str, list[model.Assignment]] = defaultdict(list)
    last_sync: dict[str, datetime | None] = {}
    for *fields, synced in rows:
        assignment = _stored_assignment(fields)
        held[assignment.village].append(assignment)
        last_sync[assignment.doctor] = read_moment(synced)  # None: never synced, or no such user
    return held, last_sync


_ASSIGNMENT_COLUMNS = ", ".join(f'a."{name}"' for name in ASSIGNMENT_FIELDS)


def _stored_assignment(values: Iterable[Any]) -> model.Assignment:
    """assignment_of the stored values of ASSIGNMENT_FIELDS."""
    row = dict(zip(ASSIGNMENT_FIELDS, values, strict=True))
    row["start"], row["end"] = read_day(row["start"]), read_day(row["end"])
    row["slots"] = read_json(row["slots"])
    return assignment_of(row)


async def _exemptions(sql: Dialect, codes: list[str], weeks: list[str]) -> set[Pair]:
    where, values = _in_village_weeks(sql, codes, weeks)
    _, rows = await sql.conn.execute_query(
        f'SELECT village_id, week FROM "exemption" {where}', values
    )
    return {(village, week) for village, week in rows}


_FLAG_LISTS: dict[str, frozenset[str]] = {}


async def _visits(
    sql: Dialect, codes: list[str], weeks: list[str]
) -> dict[Pair, list[model.Visit]]:
    """The visits of `codes` in `weeks` by village-week, each what visit_of makes of its row
    (VISIT_FIELDS), made straight from the stored values."""
    where, values = _in_village_weeks(sql, codes, weeks)
    _, rows = await sql.conn.execute_query(
        f'SELECT {", ".join(VISIT_FIELDS)} FROM "visit" {where}', values
    )
    result: defaultdict[Pair, list[model.Visit]] = defaultdict(list)
    moment = datetime.fromisoformat
    visit = model.Visit
    for (
        id_, doctor, village, kind, started, ended, week, deleted, dismissed, flags, resolved,
    ) in rows:  # fmt: skip
        if isinstance(flags, str):
            # A handful of distinct flag lists ('[]' mostly) over thousands of rows.
            parsed = _FLAG_LISTS.get(flags)
            if parsed is None:
                if len(_FLAG_LISTS) >= 1024:
                    _FLAG_LISTS.clear()
                parsed = _FLAG_LISTS[flags] = frozenset(json.loads(flags))
        else:
            parsed = frozenset(flags or ())
        result[(village, week)].append(
            restored(
                visit,
                {
                    "id": id_,
                    "doctor": doctor,
                    "village": village,
                    "kind": kind,
                    # SQLite keeps '2026-11-16 00:00:00+00:00'; asyncpg gives datetimes.
                    "started_at": moment(started) if isinstance(started, str) else started,
                    "ended_at": moment(ended) if isinstance(ended, str) else ended,
                    "deleted": bool(deleted),
                    "dismissed": bool(dismissed),
                    "flags": parsed,
                    "overlap_resolved": bool(resolved),
                },
            )
        )
    return result


def restored(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass `cls` with all of its `fields`, made as unpickling and
    copy.copy make one: its __dict__ filled at once. A frozen dataclass's __init__ sets each field
    through object.__setattr__, and for model.Visit that was a fifth of a push's recompute. Only
    for classes whose __init__ does nothing else (no __post_init__, no defaults left to fill):
    tests/server/test_recompute_reads.py holds model.Visit and VillageWeek to that."""
    made = object.__new__(cls)
    made.__dict__.update(fields)
    return made


async def _stored_chunk(sql: Dialect, pairs: list[Pair]) -> dict[Pair, VillageWeek]:
    """The stored rows of `pairs` (at most PAIRS_PER_CHUNK) that exist."""
    where, values = _in_village_weeks(
        sql, sorted({v for v, _ in pairs}), sorted({w for _, w in pairs})
    )
    _, rows = await sql.conn.execute_query(
        f'SELECT {", ".join(STORED_FIELDS)} FROM "coverage_week" {where}', values
    )
    wanted = set(pairs)
    result: dict[Pair, VillageWeek] = {}
    for raw in rows:
        row = dict(zip(STORED_FIELDS, raw, strict=True))
        key = (row["village_id"], row["week"])
        if key in wanted:
            row["flags"], row["unsynced"] = read_json(row["flags"]), read_json(row["unsynced"])
            row["provisional"] = bool(row["provisional"])
            result[key] = stored_of(row, None)
    return result


COVERAGE_COLUMNS = (*STORED_FIELDS, "computed_at")


async def _store(rows: list[VillageWeek], now: datetime, conn: BaseDBAsyncClient) -> None:
    """Upsert coverage rows with one raw executemany (server/rawsql.py): Tortoise's bulk_create
    built a model object per row, a fifth of a push's recompute."""
    sql = Dialect(conn)
    at = sql.moment(now)
    await sql.insert_many(
        "coverage_week",
        COVERAGE_COLUMNS,
        [
            (
                row.village,
                row.township,
                row.week,
                row.mode,
                row.status,
                row.provisional,
                row.duty_days,
                row.duty_required,
                row.patrol_days,
                row.patrol_required,
                to_json(dict(row.flags)),
                to_json(list(row.unsynced)),
                at,
            )
            for row in rows
        ],
        conflict=["village_id", "week"],
        update=[c for c in COVERAGE_COLUMNS if c not in ("village_id", "week")],
    )


async def _village_codes(conn: BaseDBAsyncClient) -> list[str]:
    return sorted(
        str(code) for code in await Village.all().using_db(conn).values_list("code", flat=True)
    )


async def _earliest_assignment_week(conn: BaseDBAsyncClient) -> str | None:
    first: list[Any] = (
        await Assignment.all()
        .using_db(conn)
        .order_by("start")
        .limit(1)
        .values_list("start", flat=True)
    )
    return week_of_date_or_none(first[0] if first else None)


async def _earliest_visit_week(conn: BaseDBAsyncClient) -> str | None:
    first: list[Any] = (
        await Visit.all()
        .using_db(conn)
        .order_by("local_date")
        .limit(1)
        .values_list("local_date", flat=True)
    )
    return week_of_date_or_none(first[0] if first else None)


def week_of_date_or_none(day: date | None) -> str | None:
    return None if day is None else week_of_date(day)
