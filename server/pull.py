"""Pull (SPEC §6): the change log after a cursor, in seq order, as the records a user may see.

Each change row names an entity; the entity's CURRENT state is sent, loaded per type in one
batched query. server/changes.py explains why reading seq > cursor never skips a change.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import recompute
from server.changes import SHARED_TYPES
from server.errors import ApiError
from server.models import (
    Assignment,
    Change,
    CoverageWeek,
    Device,
    Exemption,
    Reminder,
    Township,
    User,
    Village,
    Visit,
)
from server.settings import Settings
from sync.model import FLAGS
from sync.records import VisitRecord
from sync.weeks import previous_week, week_of, zone

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


# --- the records a pull (and a push result) carries ----------------------------------------


def flags_list(flags: Iterable[str]) -> list[str]:
    """Flags in the SPEC §5 table's order, so equal sets always serialise alike."""
    wanted = set(flags)
    return [f for f in FLAGS if f in wanted] if wanted else []


@lru_cache(maxsize=4096)
def _moment(value: datetime | None, tz: str) -> str | None:
    """`value` in local time, as the API writes it. Cached: a push formats each of its visits'
    times twice (the version it stores, the record it answers)."""
    return None if value is None else value.astimezone(zone(tz)).isoformat()


def visit_wire_data(record: VisitRecord, tz: str = "UTC") -> dict[str, Any]:
    """The pushed fields of a visit version, as a push carries them (without flags)."""
    v = record.visit
    loc = record.location
    return {
        "village": v.village,
        "kind": v.kind,
        "started_at": _moment(v.started_at, tz),
        "ended_at": _moment(v.ended_at, tz),
        "patients_seen": record.patients_seen,
        "services": list(record.services),
        "notes": record.notes,
        "location": None
        if loc is None
        else {"lat": loc.lat, "lon": loc.lon, "accuracy_m": loc.accuracy_m},
    }


def visit_data(row: Visit, tz: str) -> dict[str, Any]:
    return {
        "doctor": row.doctor_id,  # type: ignore[attr-defined]
        "village": row.village_id,  # type: ignore[attr-defined]
        "kind": row.kind,
        "started_at": _moment(row.started_at, tz),
        "ended_at": _moment(row.ended_at, tz),
        "patients_seen": row.patients_seen,
        "services": list(row.services),
        "notes": row.notes,
        "location": row.location,
        "flags": flags_list(row.flags),
        # A supervisor's decisions, so the phone's week progress counts what the server counts.
        "dismissed": row.dismissed,
        "dismiss_reason": row.dismiss_reason,
        "overlap_resolved": row.overlap_resolved,
    }


def visit_record(row: Visit, tz: str) -> dict[str, Any]:
    # `hlc` rides beside the record so the phone can advance its clock past it (SPEC §6).
    return {
        "type": "visit",
        "id": row.id,
        "rev": row.rev,
        "deleted": row.deleted,
        "hlc": row.hlc,
        "data": visit_data(row, tz),
    }


# --- the cursor --------------------------------------------------------------------------------


def encode_cursor(seq: int) -> str:
    raw = json.dumps({"v": 1, "seq": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """The last seq a cursor has seen; an empty cursor starts from the beginning."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        seq = value["seq"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or value.get("v") != 1:
        raise _bad_cursor()
    return seq


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "invalid",
        "The cursor is not one this server gave out; start again with an empty cursor.",
        [{"field": "cursor", "code": "invalid_cursor"}],
    )


# --- scope ---------------------------------------------------------------------------------------


async def _township_codes(user: User) -> list[str] | None:
    """The townships a user's role covers; None = every township (a deployment-wide admin)."""
    if user.role == "admin":
        if user.county_id is None:  # type: ignore[attr-defined]
            return None
        county = user.county_id  # type: ignore[attr-defined]
        codes = await Township.filter(county_id=county).values_list("code", flat=True)
        return [str(code) for code in codes]
    township = user.township_id  # type: ignore[attr-defined]
    return [township] if township else []


def scope_filter(user: User, townships: list[str] | None, recent_weeks: Iterable[str] = ()) -> Q:
    """Which change rows `user` may read: nobody gets another user's reminders, and a doctor gets
    only their own visits and assignments besides their township's shared rows, with coverage of
    `recent_weeks` only (SPEC §6: this week and last; filtered here so no page comes back empty)."""
    mine = Q(type="reminder", user_id=user.id)
    if user.role == "doctor":
        own = Q(type__in=["visit", "assignment"], user_id=user.id)
        if not townships:
            return own | mine
        shared = [t for t in SHARED_TYPES if t != "coverage"]
        visible = Q(type__in=shared)
        if recent_weeks:
            weeks = [Q(entity_id__endswith=f":{week}") for week in recent_weeks]
            visible |= Q(Q(type="coverage"), Q(*weeks, join_type="OR"))
        return Q(visible, township__in=townships) | own | mine
    if townships is None:
        return Q(type__not="reminder") | mine
    if not townships:
        return mine
    return Q(type__not="reminder", township__in=townships) | mine


# --- the pull ------------------------------------------------------------------------------------


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            422,
            "invalid",
            f"'limit' must be a whole number from 1 to {MAX_LIMIT}.",
            [{"field": "limit", "code": "out_of_range"}],
        )
    return int(raw)


async def pull(
    user: User,
    device: Device,
    *,
    cursor: str,
    limit: int,
    settings: Settings,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One page of changes after `cursor` for `user`; a page with `more: false` completes a sync."""
    after = decode_cursor(cursor)
    now = now or datetime.now(UTC)
    townships = await _township_codes(user)
    this_week = week_of(now, settings.tz)
    recent = (this_week, previous_week(this_week))
    rows = (
        await Change.filter(Q(seq__gt=after) & scope_filter(user, townships, recent))
        .order_by("seq")
        .limit(limit + 1)
    )
    more = len(rows) > limit
    rows = rows[:limit]
    changes = await serialise(rows, user, townships, settings)
    last = rows[-1].seq if rows else after
    if not more:
        await record_sync(user, device, settings, now)
    return {"changes": changes, "cursor": encode_cursor(last), "more": more}


async def record_sync(user: User, device: Device, settings: Settings, now: datetime) -> None:
    """A completed pull (the last page, `more: false`) is a completed sync (SPEC §4): the phone
    then holds everything the server had for it."""
    previous = user.last_sync_at
    async with in_transaction() as conn:
        await Device.filter(id=device.id).using_db(conn).update(last_pull_at=now)
        await User.filter(id=user.id).using_db(conn).update(last_sync_at=now)
        if user.role == "doctor":
            await recompute.on_doctor_synced(
                user.id, previous, settings=settings, connection=conn, now=now
            )
    user.last_sync_at = now
    device.last_pull_at = now


async def serialise(
    rows: list[Change], user: User, townships: list[str] | None, settings: Settings
) -> list[dict[str, Any]]:
    by_type: dict[str, set[str]] = {}
    for row in rows:
        by_type.setdefault(row.type, set()).add(row.entity_id)
    loaded = {
        kind: await LOADERS[kind](ids, settings) for kind, ids in by_type.items() if kind in LOADERS
    }
    out: list[dict[str, Any]] = []
    for row in rows:
        entity = loaded.get(row.type, {}).get(row.entity_id)
        if row.type == "visit":
            out.append(_visit_change(row, entity, user, townships, settings))
            continue
        rev = row.seq
        if entity is None:
            out.append(
                {"type": row.type, "id": row.entity_id, "rev": rev, "deleted": True, "data": None}
            )
        else:
            out.append(
                {
                    "type": row.type,
                    "id": row.entity_id,
                    "rev": rev,
                    "deleted": False,
                    "data": entity,
                }
            )
    return out


def _visit_change(
    row: Change, visit: Any, user: User, townships: list[str] | None, settings: Settings
) -> dict[str, Any]:
    if visit is not None:
        visit_row, township = visit
        mine = visit_row.doctor_id == user.id
        covered = user.role != "doctor" and (townships is None or township in townships)
        if mine or covered:
            return visit_record(visit_row, settings.tz)
        rev = visit_row.rev
    else:
        rev = 0
    # Moved out of the reader's scope (or unknown): the reader drops its copy.
    return {"type": "visit", "id": row.entity_id, "rev": rev, "deleted": True, "data": None}


def _split_pairs(ids: Iterable[str]) -> tuple[set[str], set[str]]:
    villages, weeks = set(), set()
    for entity_id in ids:
        village, _, week = entity_id.partition(":")
        villages.add(village)
        weeks.add(week)
    return villages, weeks


async def _townships(ids: set[str], settings: Settings) -> dict[str, Any]:
    return {
        t["code"]: {"code": t["code"], "county": t["county_id"], "name": t["name"]}
        for t in await Township.filter(code__in=ids).values("code", "county_id", "name")
    }


async def _villages(ids: set[str], settings: Settings) -> dict[str, Any]:
    return {
        v["code"]: {
            "code": v["code"],
            "township": v["township_id"],
            "name": v["name"],
            "population": v["population"],
            "needs_coverage": v["needs_coverage"],
            "lat": v["lat"],
            "lon": v["lon"],
        }
        for v in await Village.filter(code__in=ids).values(
            "code", "township_id", "name", "population", "needs_coverage", "lat", "lon"
        )
    }


async def _assignments(ids: set[str], settings: Settings) -> dict[str, Any]:
    return {
        a.id: {
            "id": a.id,
            "doctor": a.doctor_id,  # type: ignore[attr-defined]
            "village": a.village_id,  # type: ignore[attr-defined]
            "kind": a.kind,
            "start": a.start.isoformat(),
            "end": a.end.isoformat() if a.end else None,
            "slots": a.slots,
        }
        for a in await Assignment.filter(id__in=ids)
    }


async def _exemptions(ids: set[str], settings: Settings) -> dict[str, Any]:
    villages, weeks = _split_pairs(ids)
    found = await Exemption.filter(village_id__in=villages, week__in=weeks).values(
        "village_id", "week", "reason"
    )
    return {
        f"{e['village_id']}:{e['week']}": {
            "village": e["village_id"],
            "week": e["week"],
            "reason": e["reason"],
        }
        for e in found
    }


async def _visits(ids: set[str], settings: Settings) -> dict[str, Any]:
    rows = await Visit.filter(id__in=ids)
    codes = {r.village_id for r in rows}  # type: ignore[attr-defined]
    township_of = (
        dict(await Village.filter(code__in=codes).values_list("code", "township_id"))
        if codes
        else {}
    )
    return {r.id: (r, township_of.get(r.village_id)) for r in rows}  # type: ignore[attr-defined]


async def _coverage(ids: set[str], settings: Settings) -> dict[str, Any]:
    villages, weeks = _split_pairs(ids)
    found = await CoverageWeek.filter(village_id__in=villages, week__in=weeks).values(
        "village_id",
        "village__name",
        "week",
        "mode",
        "status",
        "provisional",
        "duty_days",
        "duty_required",
        "patrol_days",
        "patrol_required",
        "flags",
    )
    return {
        f"{c['village_id']}:{c['week']}": {
            "village": c["village_id"],
            "name": c["village__name"],
            "week": c["week"],
            "mode": c["mode"],
            "status": c["status"],
            "provisional": c["provisional"],
            "duty_days": c["duty_days"],
            "duty_required": c["duty_required"],
            "patrol_days": c["patrol_days"],
            "patrol_required": c["patrol_required"],
            "flags": c["flags"],
        }
        for c in found
    }


async def _reminders(ids: set[str], settings: Settings) -> dict[str, Any]:
    return {
        r.id: {
            "id": r.id,
            "kind": r.kind,
            "week": r.week,
            "title": r.title,
            "body": r.body,
            "url": r.url,
            "created_at": _moment(r.created_at, settings.tz),
            "read": r.read_at is not None,
        }
        for r in await Reminder.filter(id__in=ids)
    }


LOADERS = {
    "township": _townships,
    "village": _villages,
    "assignment": _assignments,
    "exemption": _exemptions,
    "visit": _visits,
    "coverage": _coverage,
    "reminder": _reminders,
}
