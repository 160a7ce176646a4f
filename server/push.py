"""Apply one push (SPEC §5, §6): check, merge and store a batch of visit records in ONE transaction.

The rules are sync/'s (records.check_pushed_visit, merge.merge_change, records.visit_flags); this
module loads the stored state they need in a few batched queries, calls them record by record in
memory, and writes the result with bulk statements, so a push of 500 records runs a bounded
number of SQL statements. A result is returned only after the commit (SQLite: WAL with
synchronous=FULL; PostgreSQL: its default synchronous_commit=on).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server import recompute
from server.changes import ChangeNote, append_changes, is_postgres
from server.errors import ApiError
from server.models import Assignment, Device, User, VisitVersion
from server.pull import flags_list, visit_record, visit_wire_data
from server.rawsql import Dialect, read_day, read_json, read_moment, tags_json, to_json
from server.settings import Settings
from sync import model
from sync.merge import Change as MergeChange
from sync.merge import StoredRecord, Version, merge_change
from sync.records import (
    FieldError,
    Rejected,
    VisitChange,
    VisitRecord,
    has_clock_skew,
    overlapping_visits,
    parse_rfc3339,
    visit_flags,
)
from sync.records import check_pushed_visit as check_visit
from sync.weeks import local_date, week_of, week_of_date

MAX_RECORDS = 500  # SPEC §6; the 1 MiB limit is enforced while reading the body (server/http.py)
# pg_advisory_xact_lock(4514, hashtext(doctor)): one push per doctor at a time. Lock order in a
# push: doctor, then village-weeks (server.recompute, 4513), then the change log (4512) last.
DOCTOR_LOCK = 4514
VISIT_COLUMNS = (
    "doctor_id village_id kind started_at ended_at local_date week patients_seen services notes "
    "location flags deleted dismissed dismiss_reason overlap_resolved rev hlc device_id "
    "first_received_at updated_at"
).split()
ROW_COLUMNS = ["id", *VISIT_COLUMNS]
VERSION_COLUMNS = "visit_id change_id rev hlc device_id received_at deleted data outcome".split()
PUSH_CAUSE = "visit_push"


@dataclass(slots=True)
class VisitRow:
    """A row of the visit table (models.Visit) as plain data: a push reads and writes hundreds,
    and building Tortoise objects for them was a third of its time (server/rawsql.py)."""

    id: str
    doctor_id: str
    village_id: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    local_date: date | None
    week: str
    patients_seen: int
    services: list[str]
    notes: str
    location: dict[str, Any] | None
    flags: list[str]
    deleted: bool
    dismissed: bool
    dismiss_reason: str | None
    overlap_resolved: bool
    rev: int
    hlc: str
    device_id: str
    first_received_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class _NewVersion:
    """A visit_version row to insert (models.VisitVersion); `outcome` may still change."""

    visit_id: str
    change_id: str
    rev: int
    hlc: str
    device_id: str
    received_at: datetime
    deleted: bool
    data: dict[str, Any]
    outcome: str


@dataclass(frozen=True)
class Envelope:
    device_id: str
    device_time: datetime
    records: list[Any]
    status: dict[str, Any]


@dataclass
class _Work:
    """One visit's state while the batch is applied, record after record."""

    row: VisitRow | None  # the stored row, or the row being made
    state: StoredRecord[VisitRecord] | None
    before: model.Visit | None  # as stored before this push: its old village-week and partners
    changed: bool = False  # whether `current` was replaced by a version of this push
    visit: model.Visit | None = None  # `row` as sync.model sees it, when the check already made it


@dataclass
class _Batch:
    villages: dict[str, model.Village]
    townships: dict[str, tuple[str, str]]  # village → (township, county)
    work: dict[str, _Work] = field(default_factory=dict)
    version_owner: dict[str, str] = field(default_factory=dict)  # change_id → visit id
    current_change: dict[str, str] = field(default_factory=dict)  # visit id → its current change_id
    new_versions: dict[str, _NewVersion] = field(default_factory=dict)
    lost_versions: set[str] = field(default_factory=set)  # stored versions that lost a conflict


def read_envelope(body: Mapping[str, Any], device: Device) -> Envelope:
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise _invalid("device_id", "required", "'device_id' is required.")
    # The versions a push stores name the device they came from: it must be the signed-in one.
    if device_id != device.device_id:
        raise _invalid("device_id", "other_device", "'device_id' is not the signed-in device.")
    raw_time = body.get("device_time")
    device_time = parse_rfc3339(raw_time) if isinstance(raw_time, str) else None
    if device_time is None:
        raise _invalid(
            "device_time", "invalid_timestamp", "'device_time' must be RFC 3339 with an offset."
        )
    records = body.get("records")
    if not isinstance(records, list):
        raise _invalid("records", "invalid_type", "'records' must be a list.")
    if len(records) > MAX_RECORDS:
        raise ApiError(413, "too_large", f"A push holds at most {MAX_RECORDS} records.")
    return Envelope(device_id, device_time, records, _device_status(body.get("device")))


def _invalid(name: str, code: str, message: str) -> ApiError:
    return ApiError(422, "invalid", message, [{"field": name, "code": code, "message": message}])


def _device_status(value: object) -> dict[str, Any]:
    """The optional phone status; a malformed field is dropped, never fails the push (it is
    bookkeeping for the devices page, and the visits behind it matter more)."""
    if not isinstance(value, Mapping):
        return {}
    status: dict[str, Any] = {}
    version = value.get("app_version")
    if isinstance(version, str) and len(version) <= 50:
        status["app_version"] = version
    outbox = value.get("outbox")
    if isinstance(outbox, int) and not isinstance(outbox, bool) and 0 <= outbox < 2**31:
        status["outbox"] = outbox
    for name in ("storage_used_mb", "storage_quota_mb"):
        number = value.get(name)
        if (
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and math.isfinite(number)
            and number >= 0
        ):
            status[name] = float(number)
    return status


async def apply_push(
    user: User,
    device: Device,
    body: dict[str, Any],
    *,
    settings: Settings,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Apply a push body of `user` from `device`; returns the SPEC §6 response body."""
    if user.role != "doctor":
        raise ApiError(403, "forbidden", "Only doctors push visits.")
    envelope = read_envelope(body, device)
    now = now or datetime.now(UTC)
    # Checking the records needs only the villages they name, so it runs before the transaction:
    # on SQLite, whose one connection serialises transactions, another push's statements run
    # in the database thread meanwhile.
    batch = _Batch({}, {})
    await _load_villages(batch, _named_villages(envelope.records), None)
    checked = [
        check_visit(
            r, doctor=user.id, known_villages=batch.villages, now=now, policy=settings.policy
        )
        for r in envelope.records
    ]
    async with in_transaction() as conn:
        if is_postgres(conn):
            # Serialises pushes of one doctor (two phones at once): merges read-then-write one
            # visit, and overlap compares the doctor's visits with one another.
            await conn.execute_query(
                f"SELECT pg_advisory_xact_lock({DOCTOR_LOCK}, hashtext($1))", [user.id]
            )
        # The first write: on SQLite it takes the write lock before anything is read.
        status = {"status_at": now, **envelope.status} if envelope.status else {}
        await Device.filter(id=device.id).using_db(conn).update(last_push_at=now, **status)
        previous_sync_at = user.last_sync_at
        # Synced as of this push before coverage is computed, so its weeks may already be final.
        await User.filter(id=user.id).using_db(conn).update(last_sync_at=now)
        results = await _apply_records(user, envelope, checked, batch, now, settings, conn)
        # The weeks this sync may make final (recompute.on_doctor_synced), in the same pass as
        # the weeks the visits touched: each village-week is locked and computed once.
        synced = await recompute.synced_weeks(
            user.id, previous_sync_at, settings=settings, connection=conn, now=now
        )
        coverage = await recompute.recompute_notes(
            results.touched | synced,
            cause=PUSH_CAUSE,
            causes={pair: recompute.CAUSE_DOCTOR_SYNCED for pair in synced - results.touched},
            settings=settings,
            connection=conn,
            now=now,
            synced_now={user.id},
        )
        # The last step: nothing may take a village-week lock once the change log's is held.
        await append_changes(results.notes + coverage.notes, connection=conn)
    user.last_sync_at = now
    device.last_push_at = now
    # Committed: the stored records are formatted for the answer outside the transaction.
    tz = settings.tz
    for result, row in zip(results.body, results.rows, strict=True):
        result["record"] = None if row is None else visit_record(cast(Any, row), tz)
        result["flags"] = [] if row is None else list(row.flags)
    return {"server_time": now.astimezone(UTC).isoformat(), "results": results.body}


def _named_villages(records: list[Any]) -> set[str]:
    return {
        r["data"]["village"]
        for r in records
        if type(r) is dict
        and type(r.get("data")) is dict
        and type(r["data"].get("village")) is str
    }


@dataclass
class _Applied:
    body: list[dict[str, Any]]  # the results, each still without its "record" and "flags"
    rows: list[VisitRow | None]  # the stored row each result carries, if any
    notes: list[ChangeNote]
    touched: set[tuple[str, str]]


async def _apply_records(
    user: User,
    envelope: Envelope,
    checked: list[VisitChange | Rejected],
    batch: _Batch,
    now: datetime,
    settings: Settings,
    conn: BaseDBAsyncClient,
) -> _Applied:
    """Merge the checked records with the stored state (read under the transaction's locks),
    set their flags and write them."""
    ids = {c.id for c in checked if isinstance(c, VisitChange)}
    change_ids = {c.change_id for c in checked if isinstance(c, VisitChange)}
    sql = Dialect(conn)
    stored = {}
    if ids:
        marks = ", ".join(sql.marks(len(ids)))
        stored = {v.id: v for v in await _select_rows(sql, f"id IN ({marks})", sorted(ids))}
    # A visit moved elsewhere: its old village's township learns that it left.
    await _load_villages(batch, {v.village_id for v in stored.values()}, conn)
    for visit_id, change_id, rev, outcome in await _stored_versions(sql, ids, change_ids):
        batch.version_owner[change_id] = visit_id
        row = stored.get(visit_id)
        if row is not None and outcome == "version" and rev == row.rev:
            batch.current_change[row.id] = change_id
    for row in stored.values():
        seen = frozenset(c for c, owner in batch.version_owner.items() if owner == row.id)
        record = _record_of(row)
        current = Version(batch.current_change.get(row.id, ""), row.hlc, row.deleted, record)
        batch.work[row.id] = _Work(
            row,
            StoredRecord(row.rev, current, row.doctor_id, seen),
            record.visit,
        )

    body: list[dict[str, Any]] = []
    visit_ids: list[str | None] = []  # the visit whose stored record each result carries
    for raw, check in zip(envelope.records, checked, strict=True):
        if isinstance(check, Rejected):
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            body.append(_rejected(raw_id if isinstance(raw_id, str) else None, 0, check.errors))
            visit_ids.append(None)
            continue
        status, rev, errors = _merge_one(user, envelope, check, batch, now, settings.tz)
        if status == "rejected":
            body.append(_rejected(check.id, rev, errors))
            visit_ids.append(check.id if rev else None)
        else:
            body.append({"id": check.id, "status": status, "rev": rev, "errors": []})
            visit_ids.append(check.id)

    changed = {vid: w for vid, w in batch.work.items() if w.changed}
    assignments = [
        _assignment(a) for a in await Assignment.filter(doctor_id=user.id).using_db(conn)
    ]
    neighbours = await _doctor_visits_around(user.id, changed.values(), batch, settings.policy, sql)
    partners = _flag(user, envelope, changed, neighbours, assignments, batch, now, settings)
    await _load_villages(batch, {p.village_id for p in partners}, conn)

    await _write(batch, changed, partners, sql)
    touched, notes = _touched_and_notes(user, changed, partners, batch, settings)

    rows: list[VisitRow | None] = []
    for vid in visit_ids:
        work = batch.work.get(vid) if vid else None
        row = work.row if work is not None else None
        rows.append(row if row is not None and row.doctor_id == user.id else None)
    return _Applied(body, rows, notes, touched)


def _rejected(record_id: str | None, rev: int, errors: Iterable[FieldError]) -> dict[str, Any]:
    return {
        "id": record_id,
        "status": "rejected",
        "rev": rev,
        "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errors],
    }


async def _load_villages(
    batch: _Batch, codes: set[str], conn: BaseDBAsyncClient | None
) -> None:
    from server.models import Village

    missing = codes - batch.villages.keys()
    if not missing:
        return
    for v in (
        await Village.filter(code__in=missing)
        .using_db(conn)
        .values(
            "code", "township_id", "township__county_id", "name", "needs_coverage", "lat", "lon"
        )
    ):
        batch.villages[v["code"]] = model.Village(
            v["code"], v["township_id"], v["name"], v["needs_coverage"], v["lat"], v["lon"]
        )
        batch.townships[v["code"]] = (v["township_id"], v["township__county_id"])


def _merge_one(
    user: User, envelope: Envelope, check: VisitChange, batch: _Batch, now: datetime, tz: str
) -> tuple[str, int, tuple[FieldError, ...]]:
    work = batch.work.get(check.id)
    state = work.state if work else None
    owner = batch.version_owner.get(check.change_id)
    if owner is not None and owner != check.id:
        return (
            "rejected",
            state.rev if state and state.doctor == user.id else 0,
            (
                FieldError(
                    "change_id", "reused_change_id", "this change_id belongs to another record"
                ),
            ),
        )
    payload = check.record or (state.current.payload if state else None)
    if payload is None:
        # A bare delete of a visit the server never had: there is nothing to keep a tombstone of.
        return (
            "rejected",
            0,
            (
                FieldError(
                    "data",
                    "required",
                    "a delete of a visit the server does not have needs its data",
                ),
            ),
        )
    incoming = Version(check.change_id, check.hlc, check.deleted, payload)
    outcome = merge_change(state, MergeChange(incoming, check.base_rev, user.id))
    if outcome.status == "rejected":
        return "rejected", outcome.rev, outcome.errors
    if outcome.status == "duplicate":
        return "duplicate", outcome.rev, ()
    assert outcome.state is not None
    batch.version_owner[check.change_id] = check.id
    won = outcome.state.current is incoming
    if won and state is not None and outcome.status == "conflict":
        loser = state.current.change_id
        if loser in batch.new_versions:
            batch.new_versions[loser].outcome = "conflict_loser"
        elif loser:
            batch.lost_versions.add(loser)
    batch.new_versions[check.change_id] = _NewVersion(
        visit_id=check.id,
        change_id=check.change_id,
        rev=outcome.rev,
        hlc=check.hlc,
        device_id=envelope.device_id,
        received_at=now,
        deleted=check.deleted,
        data=visit_wire_data(payload, tz),
        outcome="version" if won else "conflict_loser",
    )
    if work is None:
        work = batch.work[check.id] = _Work(None, None, None)
    work.state = outcome.state
    if won:
        work.changed = True
        stored_row = work.row
        work.row = _row_of(user, envelope, check, outcome.rev, stored_row, now)
        # A new visit is exactly the one the check read (no flags nor a supervisor's marks yet).
        work.visit = check.record.visit if stored_row is None and check.record else None
    return outcome.status, outcome.rev, ()


def _row_of(
    user: User, envelope: Envelope, check: Any, rev: int, stored: VisitRow | None, now: datetime
) -> VisitRow:
    """The visit row for a version of this push becoming current (flags, date and week are set
    later, by _flag)."""
    record: VisitRecord = check.record or _record_of(cast(VisitRow, stored))
    v = record.visit
    return VisitRow(
        id=check.id,
        doctor_id=user.id,
        village_id=v.village,
        kind=v.kind,
        started_at=v.started_at,
        ended_at=v.ended_at,
        local_date=None,
        week="",
        patients_seen=record.patients_seen,
        services=list(record.services),
        notes=record.notes,
        location=None if record.location is None else _location_json(record.location),
        flags=[],
        deleted=check.deleted,
        dismissed=stored.dismissed if stored else False,
        dismiss_reason=stored.dismiss_reason if stored else None,
        overlap_resolved=stored.overlap_resolved if stored else False,
        rev=rev,
        hlc=check.hlc,
        device_id=envelope.device_id,
        first_received_at=stored.first_received_at if stored else now,
        updated_at=now,
    )


def _location_json(location: model.Location) -> dict[str, Any]:
    return {"lat": location.lat, "lon": location.lon, "accuracy_m": location.accuracy_m}


def _record_of(row: VisitRow) -> VisitRecord:
    loc = row.location
    return VisitRecord(
        _visit_of(row),
        row.patients_seen,
        tuple(row.services),
        row.notes,
        None if not loc else model.Location(loc["lat"], loc["lon"], loc.get("accuracy_m")),
    )


def _visit_of(row: VisitRow) -> model.Visit:
    return model.Visit(
        id=row.id,
        doctor=row.doctor_id,
        village=row.village_id,
        kind=cast(model.VisitKind, row.kind),
        started_at=row.started_at,
        ended_at=row.ended_at,
        deleted=row.deleted,
        dismissed=row.dismissed,
        flags=frozenset(row.flags),
        overlap_resolved=row.overlap_resolved,
    )


def _assignment(row: Assignment) -> model.Assignment:
    return model.Assignment(
        id=row.id,
        doctor=row.doctor_id,  # type: ignore[attr-defined]
        village=row.village_id,  # type: ignore[attr-defined]
        kind=cast(model.AssignmentKind, row.kind),
        start=row.start,
        end=row.end,
        slots=tuple(model.Slot(s["weekday"], s["half"]) for s in row.slots),
    )


async def _doctor_visits_around(
    doctor: str,
    changed: Iterable[_Work],
    batch: _Batch,
    policy: Any,
    sql: Dialect,
) -> dict[str, VisitRow]:
    """The doctor's other stored visits that can overlap a changed visit (old or new times), or
    overlap one of those: partners start at most one longest visit before, theirs two."""
    spans = []
    for w in changed:
        assert w.row is not None
        spans.append((w.row.started_at, w.row.ended_at or w.row.started_at))
        if w.before is not None:
            spans.append((w.before.started_at, w.before.ended_at or w.before.started_at))
    if not spans:
        return {}
    longest = timedelta(hours=policy.max_visit_hours)
    start = min(s for s, _ in spans) - 2 * longest
    end = max(e for _, e in spans) + longest
    known = sorted(batch.work)
    marks = sql.marks(3 + len(known))
    where = f"doctor_id = {marks[0]} AND started_at >= {marks[1]} AND started_at <= {marks[2]}"
    where += " AND deleted = " + ("false" if sql.postgres else "0")
    if known:
        where += f" AND id NOT IN ({', '.join(marks[3:])})"
    rows = await _select_rows(sql, where, [doctor, sql.moment(start), sql.moment(end), *known])
    return {row.id: row for row in rows}


async def _stored_versions(
    sql: Dialect, ids: set[str], change_ids: set[str]
) -> list[tuple[str, str, int, str]]:
    """(visit_id, change_id, rev, outcome) of the stored versions of `ids` or with `change_ids`.
    Raw SQL: building the ORM's filter of two IN lists of 500 cost more than running it."""
    if not ids and not change_ids:
        return []
    marks = sql.marks(len(ids) + len(change_ids))
    where = []
    if ids:
        where.append(f"visit_id IN ({', '.join(marks[: len(ids)])})")
    if change_ids:
        where.append(f"change_id IN ({', '.join(marks[len(ids) :])})")
    _, rows = await sql.conn.execute_query(
        'SELECT visit_id, change_id, rev, outcome FROM "visit_version" WHERE ' + " OR ".join(where),
        [*sorted(ids), *sorted(change_ids)],
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def _select_rows(sql: Dialect, where: str, params: list[Any]) -> list[VisitRow]:
    _, rows = await sql.conn.execute_query(
        f'SELECT {", ".join(ROW_COLUMNS)} FROM "visit" WHERE {where}', params
    )
    return [_row_from_db(r) for r in rows]


def _row_from_db(r: Any) -> VisitRow:
    return VisitRow(
        id=r[0],
        doctor_id=r[1],
        village_id=r[2],
        kind=r[3],
        started_at=cast(datetime, read_moment(r[4])),
        ended_at=read_moment(r[5]),
        local_date=read_day(r[6]),
        week=r[7],
        patients_seen=r[8],
        services=read_json(r[9]),
        notes=r[10],
        location=read_json(r[11]),
        flags=read_json(r[12]),
        deleted=bool(r[13]),
        dismissed=bool(r[14]),
        dismiss_reason=r[15],
        overlap_resolved=bool(r[16]),
        rev=r[17],
        hlc=r[18],
        device_id=r[19],
        first_received_at=cast(datetime, read_moment(r[20])),
        updated_at=cast(datetime, read_moment(r[21])),
    )


def _db_row(sql: Dialect, row: VisitRow) -> tuple[Any, ...]:
    """`row` as stored, in ROW_COLUMNS order."""
    moment = sql.moment
    return (
        row.id,
        row.doctor_id,
        row.village_id,
        row.kind,
        moment(row.started_at),
        moment(row.ended_at),
        sql.day(row.local_date),
        row.week,
        row.patients_seen,
        tags_json(row.services),
        row.notes,
        None if row.location is None else to_json(row.location),
        tags_json(row.flags),
        row.deleted,
        row.dismissed,
        row.dismiss_reason,
        row.overlap_resolved,
        row.rev,
        row.hlc,
        row.device_id,
        moment(row.first_received_at),
        moment(row.updated_at),
    )


class _Timeline:
    """A doctor's visits by start time. A visit that overlaps another starts at most one longest
    visit (policy.max_visit_hours; longer ones are rejected) before it and no later than its end,
    so overlap checks read that slice instead of every visit around the batch (a push of 500
    compared 500 × 500 pairs). An open visit occupies only its start (sync/records.py)."""

    def __init__(self, visits: Iterable[model.Visit], longest: timedelta) -> None:
        self.visits = sorted(visits, key=lambda v: v.started_at)
        # POSIX seconds: comparing floats is several times cheaper than comparing datetimes of
        # different zones. A second's margin either side keeps the slice a superset whatever
        # the rounding; overlapping_visits then compares the exact times.
        self.starts = [v.started_at.timestamp() for v in self.visits]
        self.before = longest.total_seconds() + 1

    def around(self, visit: model.Visit) -> list[model.Visit]:
        first = bisect_left(self.starts, visit.started_at.timestamp() - self.before)
        last = bisect_right(self.starts, (visit.ended_at or visit.started_at).timestamp() + 1)
        return self.visits[first:last]


def _flag(
    user: User,
    envelope: Envelope,
    changed: dict[str, _Work],
    neighbours: dict[str, VisitRow],
    assignments: list[model.Assignment],
    batch: _Batch,
    now: datetime,
    settings: Settings,
) -> list[VisitRow]:
    """Set the SPEC §5 flags of every changed visit; returns the partners whose `overlap` moved."""
    tz, policy = settings.tz, settings.policy
    everyone: dict[str, model.Visit] = {vid: _visit_of(row) for vid, row in neighbours.items()}
    for vid, w in batch.work.items():
        if w.row is not None and w.row.doctor_id == user.id:
            everyone[vid] = w.visit or _visit_of(w.row)
    timeline = _Timeline(everyone.values(), timedelta(hours=policy.max_visit_hours))
    skewed = has_clock_skew(envelope.device_time, now, policy)
    partner_ids: set[str] = set()
    for vid, w in changed.items():
        row = w.row
        assert row is not None and w.state is not None
        visit = everyone[vid]
        record = w.state.current.payload
        around = timeline.around(visit)
        flags = visit_flags(
            visit,
            village=batch.villages[visit.village],
            location=record.location,
            assignments=assignments,
            other_visits=around,
            now=now,
            first_received_at=row.first_received_at,
            tz=tz,
            policy=policy,
        )
        row.flags = flags_list(flags | ({"clock_skew"} if skewed else set()))
        row.local_date = local_date(row.started_at, tz)
        row.week = week_of_date(row.local_date)
        if "overlap" in flags:  # the visits it overlaps learn it too
            partner_ids.update(overlapping_visits(visit, around))
        if w.before is not None:
            partner_ids.update(overlapping_visits(w.before, timeline.around(w.before)))
    partners = []
    for pid in sorted(partner_ids - changed.keys()):
        row = neighbours.get(pid) or batch.work[pid].row
        assert row is not None
        overlaps = bool(overlapping_visits(everyone[pid], timeline.around(everyone[pid])))
        if overlaps != ("overlap" in row.flags):
            kept = set(row.flags) - {"overlap"}
            row.flags = flags_list(kept | ({"overlap"} if overlaps else set()))
            row.updated_at = now
            partners.append(row)
    return partners


async def _write(
    batch: _Batch, changed: dict[str, _Work], partners: list[VisitRow], sql: Dialect
) -> None:
    moment = sql.moment
    await sql.insert_many(
        "visit_version",
        VERSION_COLUMNS,
        [
            (
                v.visit_id,
                v.change_id,
                v.rev,
                v.hlc,
                v.device_id,
                moment(v.received_at),
                v.deleted,
                to_json(v.data),
                v.outcome,
            )
            for v in batch.new_versions.values()
        ],
    )
    if batch.lost_versions:
        await (
            VisitVersion.filter(change_id__in=batch.lost_versions)
            .using_db(sql.conn)
            .update(outcome="conflict_loser")
        )
    rows = [w.row for w in changed.values() if w.row is not None] + partners
    await sql.insert_many(
        "visit",
        ROW_COLUMNS,
        [_db_row(sql, row) for row in rows],
        conflict=["id"],
        update=VISIT_COLUMNS,
    )


def _touched_and_notes(
    user: User,
    changed: dict[str, _Work],
    partners: list[VisitRow],
    batch: _Batch,
    settings: Settings,
) -> tuple[set[tuple[str, str]], list[ChangeNote]]:
    touched: set[tuple[str, str]] = set()
    notes: dict[ChangeNote, None] = {}  # in order, each once (a list's `in` made this quadratic)

    def note(visit_id: str, village: str) -> None:
        township, county = batch.townships[village]
        n = ChangeNote("visit", visit_id, township=township, county=county, user_id=user.id)
        notes[n] = None

    for vid, w in changed.items():
        assert w.row is not None
        if w.before is not None:
            touched.add((w.before.village, week_of(w.before.started_at, settings.tz)))
            # A visit moved to another township: its old township's readers learn it left.
            note(vid, w.before.village)
        touched.add((w.row.village_id, w.row.week))
        note(vid, w.row.village_id)
    for row in partners:
        touched.add((row.village_id, row.week))
        note(row.id, row.village_id)
    return touched, list(notes)
