"""Import (SPEC §7): check a whole bundle, then upsert it all-or-nothing in one transaction.

Reading files is in bundle_files.py, the checks in import_checks.py; this module loads what the
database already holds, writes in bulk statements (a province is ~14,000 villages), appends the
change log and recomputes the village-weeks that assignments and exemptions touched.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.bundle_files import BUNDLE_KEYS, Bundle, InvalidImport, read_bundle
from server.changes import ChangeNote, append_changes
from server.import_checks import Existing, check_bundle, read_values
from server.models import Assignment, County, Exemption, Township, User, Village
from server.passwords import hash_password
from server.recompute import recompute_notes
from server.settings import MAX_IMPORT_BYTES, Settings
from sync.weeks import local_date, week_monday, week_of_date

CHUNK = 2000  # rows per IN (...) lookup and per INSERT: well under SQLite's and PostgreSQL's limits
Progress = Callable[[str, int], None]  # (stage, items done since last call)
T = TypeVar("T")

Counts = dict[str, dict[str, int]]


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_existing(items: dict[str, list[dict[str, Any]]]) -> Existing:
    """The rows the bundle refers to or would update, a chunked IN (...) query per table."""
    existing = Existing()
    county_codes = {c.get("code") for c in items["counties"]} | {
        x.get("county") for x in items["townships"] + items["users"]
    }
    township_codes = {t.get("code") for t in items["townships"]} | {
        x.get("township") for x in items["villages"] + items["users"]
    }
    village_codes = {v.get("code") for v in items["villages"]} | {
        x.get("village") for x in items["assignments"] + items["exemptions"]
    }
    user_ids = {u.get("id") for u in items["users"]} | {a.get("doctor") for a in items["assignments"]}
    phones = {u.get("phone") for u in items["users"]}
    for batch in chunks(c for c in county_codes if c):
        for code, name in await County.filter(code__in=batch).values_list("code", "name"):
            existing.counties[code] = name
    for batch in chunks(t for t in township_codes if t):
        for row in await Township.filter(code__in=batch).values("code", "county_id", "name"):
            existing.townships[row["code"]] = row
    village_fields = ("code", "township_id", "name", "population", "needs_coverage", "lat", "lon")
    for batch in chunks(v for v in village_codes if v):
        for row in await Village.filter(code__in=batch).values(*village_fields):
            existing.villages[row["code"]] = row
    user_fields = ("id", "name", "phone", "role", "township_id", "county_id", "qualification")
    for batch in chunks(u for u in user_ids if u):
        for row in await User.filter(id__in=batch).values(*user_fields):
            existing.users[row["id"]] = row
    for batch in chunks(p for p in phones if p):
        for row in await User.filter(phone__in=batch).values(*user_fields):
            existing.users[row["id"]] = row
    existing.phones = {row["phone"]: uid for uid, row in existing.users.items()}
    assignment_fields = ("id", "doctor_id", "village_id", "kind", "start", "end", "slots")
    for batch in chunks(a["id"] for a in items["assignments"] if a.get("id")):
        for row in await Assignment.filter(id__in=batch).values(*assignment_fields):
            existing.assignments[row["id"]] = row
    for batch in chunks({e["village"] for e in items["exemptions"] if e.get("village")}):
        for row in await Exemption.filter(village_id__in=batch).values("id", "village_id", "week", "reason"):
            existing.exemptions[(row["village_id"], row["week"])] = row
    return existing


def _hash_passwords(users: list[dict[str, Any]], progress: Progress | None) -> None:
    # argon2 is slow on purpose; argon2-cffi releases the GIL, so threads use every core.
    with_password = [u for u in users if "password" in u]
    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for user, digest in zip(
            with_password, pool.map(hash_password, (u["password"] for u in with_password)), strict=True
        ):
            user["password_hash"] = digest
            del user["password"]  # the plain password goes no further
            if progress:
                progress("passwords", 1)


def touched_weeks(start: date, end: date | None, today: date) -> list[str]:
    """Every ISO week overlapping [start, end], capped at the current week (no future rows)."""
    last = min(end, today) if end is not None else today
    if start > last:
        return []
    weeks = []
    monday = week_monday(week_of_date(start))
    while monday <= last:
        weeks.append(week_of_date(monday))
        monday += timedelta(days=7)
    return weeks


def _split(key: str, rows: list[Any], existing_keys: Iterable[Any], counts: Counts) -> None:
    known = set(existing_keys)
    counts[key]["created"] += sum(1 for r in rows if r not in known)
    counts[key]["updated"] += sum(1 for r in rows if r in known)


async def apply_checked(
    items: dict[str, list[dict[str, Any]]],
    existing: Existing,
    *,
    settings: Settings,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Counts:
    """Write checked items in one transaction; returns created/updated/unchanged per key."""
    now = now or datetime.now(UTC)
    today = local_date(now, settings.tz)
    counts: Counts = {key: {"created": 0, "updated": 0, "unchanged": 0} for key in BUNDLE_KEYS}
    notes: list[ChangeNote] = []
    touched: set[tuple[str, str]] = set()

    def tally(key: str, is_new: bool, changed: bool) -> bool:
        counts[key]["created" if is_new else "updated" if changed else "unchanged"] += 1
        return is_new or changed

    counties = [County(code=c["code"], name=c["name"]) for c in items["counties"]]
    for c in items["counties"]:
        before_name = existing.counties.get(c["code"])
        tally("counties", before_name is None, before_name is not None and before_name != c["name"])

    townships = []
    for t in items["townships"]:
        before = existing.townships.get(t["code"])
        if tally("townships", before is None, before is not None and before["name"] != t["name"]):
            notes.append(ChangeNote("township", t["code"], township=t["code"], county=t["county"]))
        townships.append(Township(code=t["code"], county_id=t["county"], name=t["name"]))

    villages = []
    for v in items["villages"]:
        row = {
            "code": v["code"],
            "township_id": v["township"],
            "name": v["name"],
            "population": v.get("population", 0),
            "needs_coverage": v.get("needs_coverage", True),
            "lat": v.get("lat"),
            "lon": v.get("lon"),
        }
        before = existing.villages.get(v["code"])
        if tally("villages", before is None, before is not None and before != row):
            notes.append(ChangeNote("village", v["code"], township=v["township"], county=v["code"][:6]))
        villages.append(Village(**row))

    users_with_hash, users_without = [], []
    for u in items["users"]:
        row = {
            "id": u["id"],
            "name": u["name"],
            "phone": u["phone"],
            "role": u["role"],
            "township_id": u.get("township"),
            "county_id": u.get("county"),
            "qualification": u.get("qualification", "other"),
        }
        before = existing.users.get(u["id"])
        changed = before is not None and ("password_hash" in u or before != row)
        tally("users", before is None, changed)
        if "password_hash" in u:
            users_with_hash.append(User(**row, password_hash=u["password_hash"]))
        else:
            users_without.append(User(**row, password_hash=""))

    assignments = []
    for a in items["assignments"]:
        row = {
            "id": a["id"],
            "doctor_id": a["doctor"],
            "village_id": a["village"],
            "kind": a["kind"],
            "start": a["start"],
            "end": a.get("end"),
            "slots": a["slots"],
        }
        before = existing.assignments.get(a["id"])
        if tally("assignments", before is None, before is not None and before != row):
            township = a["village"][:9]
            notes.append(ChangeNote("assignment", a["id"], township=township, user_id=a["doctor"]))
            for week in touched_weeks(a["start"], a.get("end"), today):
                touched.add((a["village"], week))
            if before is not None:  # the weeks it no longer covers change too
                if before["doctor_id"] != a["doctor"]:
                    notes.append(
                        ChangeNote("assignment", a["id"], township=before["village_id"][:9],
                                   user_id=before["doctor_id"])
                    )
                for week in touched_weeks(before["start"], before["end"], today):
                    touched.add((before["village_id"], week))
        assignments.append(Assignment(**row, updated_at=now))

    exemptions = []
    changed_exemptions: list[tuple[str, str]] = []
    for e in items["exemptions"]:
        before = existing.exemptions.get((e["village"], e["week"]))
        if tally("exemptions", before is None, before is not None and before["reason"] != e["reason"]):
            changed_exemptions.append((e["village"], e["week"]))
            touched.add((e["village"], e["week"]))
        exemptions.append(
            Exemption(village_id=e["village"], week=e["week"], reason=e["reason"], created_at=now)
        )

    async with in_transaction() as conn:
        await _upsert(County, counties, ["code"], ["name"], conn, progress)
        await _upsert(Township, townships, ["code"], ["county_id", "name"], conn, progress)
        village_updates = ["township_id", "name", "population", "needs_coverage", "lat", "lon"]
        await _upsert(Village, villages, ["code"], village_updates, conn, progress)
        user_updates = ["name", "phone", "role", "township_id", "county_id", "qualification"]
        await _upsert(User, users_with_hash, ["id"], [*user_updates, "password_hash"], conn, progress)
        await _upsert(User, users_without, ["id"], user_updates, conn, progress)
        assignment_updates = ["doctor_id", "village_id", "kind", "start", "end", "slots", "updated_at"]
        await _upsert(Assignment, assignments, ["id"], assignment_updates, conn, progress)
        await _upsert(Exemption, exemptions, ["village_id", "week"], ["reason"], conn, progress)
        # The pull names an exemption by its village and week (one per village-week, SPEC §3).
        notes.extend(
            ChangeNote("exemption", f"{village}:{week}", township=village[:9])
            for village, week in changed_exemptions
        )
        if touched:
            coverage = await recompute_notes(
                sorted(touched), cause="import", settings=settings, connection=conn, now=now
            )
            notes.extend(coverage.notes)
        # Last, so change rows are numbered in commit order (see server/changes.py).
        await append_changes(notes, conn)
    return counts


async def _upsert(
    model: Any,
    objects: list[Any],
    conflict: list[str],
    updates: list[str],
    conn: BaseDBAsyncClient,
    progress: Progress | None,
) -> None:
    for batch in chunks(objects):
        await model.bulk_create(batch, on_conflict=conflict, update_fields=updates, using_db=conn)
        if progress:
            progress("write", len(batch))


async def import_bundle(
    bundle: Bundle,
    *,
    settings: Settings,
    scope_county: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Counts:
    """Check everything, then apply all of it; InvalidImport (nothing written) lists every problem.

    `scope_county` is the importing admin's county: any item outside it is a per-item problem
    (rather than one 403), so the admin sees exactly which rows to remove.
    """
    existing = await load_existing(read_values(bundle))
    checked = check_bundle(bundle, existing, scope_county)
    if checked.problems:
        raise InvalidImport(checked.problems)
    await asyncio.to_thread(_hash_passwords, checked.items["users"], progress)
    return await apply_checked(checked.items, existing, settings=settings, now=now, progress=progress)


def summary_lines(counts: Counts) -> list[str]:
    return [
        f"{key}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
        for key, c in counts.items()
        if any(c.values())
    ]


async def import_path(settings: Settings, path: str | Path) -> int:
    """`cunyi import FILE`: a progress bar on a terminal, plain lines otherwise; exit code."""
    from tqdm import tqdm

    file = Path(path)
    if not file.is_file():
        print(f"cunyi import: no such file {file}", file=sys.stderr)
        return 2
    if file.stat().st_size > MAX_IMPORT_BYTES:
        print(f"cunyi import: {file} is over {MAX_IMPORT_BYTES} bytes", file=sys.stderr)
        return 2
    interactive = sys.stderr.isatty()
    try:
        bundle = read_bundle(file.name, file.read_bytes())
        print(f"read {bundle.size()} items from {file.name}", flush=True)
        users = sum(1 for u in bundle.items.get("users", []) if u.get("password"))
        total = bundle.size() + users
        bar = tqdm(total=total, unit="row", desc="import", disable=not interactive, file=sys.stderr)
        stages_seen: set[str] = set()

        def progress(stage: str, done: int) -> None:
            if not interactive and stage not in stages_seen:
                stages_seen.add(stage)
                print({"passwords": "hashing passwords", "write": "writing"}.get(stage, stage), flush=True)
            bar.set_description(stage)
            bar.update(done)

        try:
            counts = await import_bundle(bundle, settings=settings, progress=progress)
        finally:
            bar.close()
    except InvalidImport as invalid:
        print(f"cunyi import: {file.name} was not imported; nothing was changed:", file=sys.stderr)
        for problem in invalid.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("imported " + file.name)
    for line in summary_lines(counts):
        print("  " + line)
    return 0
