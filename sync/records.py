"""Checks on one pushed visit (SPEC §5): shape errors that reject it, and flags that keep it.

Pure functions over plain dicts and `sync.model` dataclasses; the server loads the stored state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import cast

from sync import weeks
from sync.hlc import is_valid_hlc
from sync.model import (
    SERVICE_TAGS,
    Assignment,
    Location,
    Village,
    Visit,
    VisitKind,
)
from sync.policy import DEFAULT_POLICY, Policy
from sync.weeks import local_date, local_midnight

DEFAULT_TZ = "Asia/Shanghai"
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# RFC 3339 date-time: the offset is mandatory; a naive time is ambiguous on a phone that moved.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_MATCHING_KIND: dict[str, str] = {"duty": "roster", "patrol": "patrol"}


@dataclass(frozen=True)
class FieldError:
    field: str  # a path into the pushed record, e.g. "data.started_at"
    code: str  # stable and machine-readable, e.g. "in_future"
    message: str  # plain English for logs and developers; the phone shows its own text


@dataclass(frozen=True)
class VisitRecord:
    """A visit's full payload: what coverage needs (`visit`) and what the doctor noted."""

    visit: Visit
    patients_seen: int
    services: tuple[str, ...]
    notes: str
    location: Location | None


@dataclass(frozen=True)
class VisitChange:
    """A pushed visit record that passed the shape checks; `record` is None for a bare delete."""

    id: str
    change_id: str
    base_rev: int
    hlc: str
    deleted: bool
    record: VisitRecord | None


@dataclass(frozen=True)
class Rejected:
    errors: tuple[FieldError, ...]


# --- reading the pushed record -------------------------------------------------------------


_UTC = timezone(timedelta(0))


def parse_rfc3339(text: str) -> datetime | None:
    """An aware datetime, or None when `text` is not an RFC 3339 date-time with an offset."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    zulu, off_h, off_m = match.group(8, 10, 11)
    if zulu:
        return _from_parts(match)
    if off_h > "23" or off_m > "59":
        return None
    # The pattern admits only RFC 3339's form, which fromisoformat reads ten times faster than
    # the parts below (it truncates a long fraction to microseconds, as they do).
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # 2026-02-30, 24:00:00, a leap second: none of them a moment we can store
        return None


def _from_parts(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, _UTC
        )
    except ValueError:
        return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Reader:
    """Collects every error of one record, so the phone learns all of them in one round trip."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.errors.append(FieldError(field, code, message))

    def present(self, obj: Mapping[str, object], key: str, path: str) -> bool:
        if key not in obj:
            self.fail(path, "required", f"{path} is required")
            return False
        return True

    def string(self, obj: Mapping[str, object], key: str, path: str) -> str | None:
        if not self.present(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.fail(path, "invalid_type", f"{path} must be a string")
            return None
        return value

    def uuid(self, obj: Mapping[str, object], key: str, path: str) -> str | None:
        value = self.string(obj, key, path)
        if value is None:
            return None
        if _UUID.fullmatch(value) is None:
            self.fail(path, "invalid_uuid", f"{path} must be a UUID like 8-4-4-4-12 hex digits")
            return None
        return value.lower()  # one spelling per id, whatever case the phone used

    def integer(self, obj: Mapping[str, object], key: str, path: str) -> int | None:
        if not self.present(obj, key, path):
            return None
        value = obj[key]
        if not _is_int(value):
            self.fail(path, "invalid_type", f"{path} must be an integer")
            return None
        return cast(int, value)

    def boolean(self, obj: Mapping[str, object], key: str, path: str) -> bool | None:
        if not self.present(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, bool):
            self.fail(path, "invalid_type", f"{path} must be true or false")
            return None
        return value

    def timestamp(
        self, obj: Mapping[str, object], key: str, path: str, nullable: bool = False
    ) -> datetime | None:
        if not self.present(obj, key, path):
            return None
        value = obj[key]
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.fail(path, "invalid_type", f"{path} must be an RFC 3339 timestamp string")
            return None
        parsed = parse_rfc3339(value)
        if parsed is None:
            self.fail(
                path,
                "invalid_timestamp",
                f"{path} must be RFC 3339 with an offset, like 2026-11-22T08:00:00+08:00",
            )
        return parsed

    def mapping(
        self, obj: Mapping[str, object], key: str, path: str
    ) -> Mapping[str, object] | None:
        if not self.present(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, Mapping):
            self.fail(path, "invalid_type", f"{path} must be an object")
            return None
        return cast(Mapping[str, object], value)


def check_pushed_visit(
    record: object,
    *,
    doctor: str,
    known_villages: Mapping[str, Village],
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> VisitChange | Rejected:
    """Check one pushed `{"type": "visit", ...}` record of `doctor`, received at `now`.

    Unknown keys are ignored, so a phone may echo a pulled record (with its `flags`) back.
    A delete (`deleted: true`) may leave `data` out or null; if it carries data, it is checked.
    """
    if not isinstance(record, Mapping):
        return Rejected((FieldError("record", "invalid_type", "a record must be an object"),))
    record = cast(Mapping[str, object], record)
    fast = _well_formed_visit(record, doctor, known_villages, now, policy)
    if fast is not None:
        return fast
    return _checked_by_reader(record, doctor, known_villages, now, policy)


def _checked_by_reader(
    record: Mapping[str, object],
    doctor: str,
    known_villages: Mapping[str, Village],
    now: datetime,
    policy: Policy,
) -> VisitChange | Rejected:
    """The reference path: reads every field and collects every error it finds."""
    read = _Reader()
    kind_of_record = read.string(record, "type", "type")
    if kind_of_record is not None and kind_of_record != "visit":
        read.fail("type", "unknown_type", f"type must be 'visit', not {kind_of_record!r}")
    visit_id = read.uuid(record, "id", "id")
    change_id = read.uuid(record, "change_id", "change_id")
    base_rev = read.integer(record, "base_rev", "base_rev")
    if base_rev is not None and base_rev < 0:
        read.fail("base_rev", "out_of_range", "base_rev must be 0 for a new record or a rev")
    hlc = read.string(record, "hlc", "hlc")
    if hlc is not None and not is_valid_hlc(hlc):
        read.fail(
            "hlc",
            "invalid_hlc",
            "hlc must be 15 digits of milliseconds, 5 digits of counter and a node id, "
            "joined by '-'",
        )
    deleted = read.boolean(record, "deleted", "deleted")

    data: Mapping[str, object] | None = None
    if not (deleted and record.get("data") is None):
        data = read.mapping(record, "data", "data")
    payload = None
    if data is not None:
        payload = _read_visit_data(
            read, data, visit_id or "", doctor, bool(deleted), known_villages, now, policy
        )

    if read.errors:
        return Rejected(tuple(read.errors))
    assert visit_id is not None and change_id is not None and base_rev is not None
    assert hlc is not None and deleted is not None
    return VisitChange(visit_id, change_id, base_rev, hlc, deleted, payload)


def _well_formed_visit(
    record: Mapping[str, object],
    doctor: str,
    known_villages: Mapping[str, Village],
    now: datetime,
    policy: Policy,
) -> VisitChange | None:
    """The fast path of check_pushed_visit: the same VisitChange the reader would return for a
    record that passes every check, or None as soon as anything is off (the reader then runs
    and names every error). A push of 500 records spent most of its checking time in the
    reader's calls; the rules are the same ones, in the same order."""
    visit_id, change_id = record.get("id"), record.get("change_id")
    base_rev, hlc, deleted = record.get("base_rev"), record.get("hlc"), record.get("deleted")
    if (
        record.get("type") != "visit"
        or type(visit_id) is not str
        or type(change_id) is not str
        or type(base_rev) is not int
        or base_rev < 0
        or type(deleted) is not bool
        or not is_valid_hlc(hlc)
        or _UUID.fullmatch(visit_id) is None
        or _UUID.fullmatch(change_id) is None
    ):
        return None
    visit_id, change_id = visit_id.lower(), change_id.lower()
    data = record.get("data")
    if data is None and deleted:
        return VisitChange(visit_id, change_id, base_rev, cast(str, hlc), deleted, None)
    if type(data) is not dict:
        return None
    village, kind = data.get("village"), data.get("kind")
    started_text, ended_text = data.get("started_at"), data.get("ended_at")
    patients_seen, services, notes = (
        data.get("patients_seen"),
        data.get("services"),
        data.get("notes"),
    )
    if (
        type(village) is not str
        or village not in known_villages
        or type(kind) is not str
        or kind not in _MATCHING_KIND
        or type(started_text) is not str
        or "ended_at" not in data
        or (ended_text is not None and type(ended_text) is not str)
        or type(patients_seen) is not int
        or not 0 <= patients_seen <= policy.max_patients_seen
        or type(services) is not list
        or type(notes) is not str
        or len(notes) > policy.max_notes_chars
        or "location" not in data
    ):
        return None
    started_at = parse_rfc3339(started_text)
    ended_at = None if ended_text is None else parse_rfc3339(ended_text)
    if (
        started_at is None
        or (ended_text is not None and ended_at is None)
        or started_at - now > timedelta(minutes=policy.future_minutes)
    ):
        return None
    if ended_at is not None and (
        ended_at <= started_at or ended_at - started_at > timedelta(hours=policy.max_visit_hours)
    ):
        return None
    tags: list[str] = []
    for tag in services:
        if type(tag) is not str or tag not in SERVICE_TAGS:
            return None
        if tag not in tags:
            tags.append(tag)
    location = None
    where = data["location"]
    if where is not None:
        if type(where) is not dict:
            return None
        lat, lon, accuracy = where.get("lat"), where.get("lon"), where.get("accuracy_m")
        if (
            not _is_number(lat)
            or not -90.0 <= cast(float, lat) <= 90.0
            or not _is_number(lon)
            or not -180.0 <= cast(float, lon) <= 180.0
            or (accuracy is not None and (not _is_number(accuracy) or cast(float, accuracy) < 0))
        ):
            return None
        location = Location(
            float(cast(float, lat)),
            float(cast(float, lon)),
            None if accuracy is None else float(cast(float, accuracy)),
        )
    visit = Visit(
        id=visit_id,
        doctor=doctor,
        village=village,
        kind=cast(VisitKind, kind),
        started_at=started_at,
        ended_at=ended_at,
        deleted=deleted,
    )
    record_ = VisitRecord(visit, patients_seen, tuple(tags), notes, location)
    return VisitChange(visit_id, change_id, base_rev, cast(str, hlc), deleted, record_)


def _read_visit_data(
    read: _Reader,
    data: Mapping[str, object],
    visit_id: str,
    doctor: str,
    deleted: bool,
    known_villages: Mapping[str, Village],
    now: datetime,
    policy: Policy,
) -> VisitRecord | None:
    errors_before = len(read.errors)

    village = read.string(data, "village", "data.village")
    if village is not None and village not in known_villages:
        read.fail("data.village", "unknown_village", f"village {village} is not known")

    kind = read.string(data, "kind", "data.kind")
    if kind is not None and kind not in _MATCHING_KIND:
        read.fail("data.kind", "invalid_kind", f"kind must be 'duty' or 'patrol', not {kind!r}")

    started_at = read.timestamp(data, "started_at", "data.started_at")
    ended_at = read.timestamp(data, "ended_at", "data.ended_at", nullable=True)
    if started_at is not None and started_at - now > timedelta(minutes=policy.future_minutes):
        read.fail(
            "data.started_at",
            "in_future",
            f"started_at is more than {policy.future_minutes} minutes ahead of server time",
        )
    if started_at is not None and ended_at is not None:
        if ended_at <= started_at:
            read.fail("data.ended_at", "ends_before_start", "ended_at must be after started_at")
        elif ended_at - started_at > timedelta(hours=policy.max_visit_hours):
            read.fail(
                "data.ended_at",
                "too_long",
                f"a visit may last at most {policy.max_visit_hours} hours",
            )

    patients_seen = read.integer(data, "patients_seen", "data.patients_seen")
    if patients_seen is not None and not 0 <= patients_seen <= policy.max_patients_seen:
        read.fail(
            "data.patients_seen",
            "out_of_range",
            f"patients_seen must be between 0 and {policy.max_patients_seen}",
        )

    services = _read_services(read, data)

    notes = read.string(data, "notes", "data.notes")
    # Counted in Unicode code points; the phone should count the same way (Array.from(s).length).
    if notes is not None and len(notes) > policy.max_notes_chars:
        read.fail(
            "data.notes",
            "too_long_notes",
            f"notes may be at most {policy.max_notes_chars} characters",
        )

    location = _read_location(read, data)

    if len(read.errors) > errors_before:
        return None
    assert village is not None and kind is not None and started_at is not None
    assert patients_seen is not None and services is not None and notes is not None
    visit = Visit(
        id=visit_id,
        doctor=doctor,
        village=village,
        kind=cast(VisitKind, kind),
        started_at=started_at,
        ended_at=ended_at,
        deleted=deleted,
    )
    return VisitRecord(visit, patients_seen, services, notes, location)


def _read_services(read: _Reader, data: Mapping[str, object]) -> tuple[str, ...] | None:
    if not read.present(data, "services", "data.services"):
        return None
    value = data["services"]
    if not isinstance(value, list):
        read.fail("data.services", "invalid_type", "data.services must be a list of tags")
        return None
    tags: list[str] = []
    ok = True
    for index, tag in enumerate(cast(list[object], value)):
        path = f"data.services[{index}]"
        if not isinstance(tag, str):
            read.fail(path, "invalid_type", f"{path} must be a string")
            ok = False
        elif tag not in SERVICE_TAGS:
            read.fail(path, "unknown_service", f"{tag!r} is not a service tag")
            ok = False
        elif tag not in tags:  # a tag twice means nothing more than once
            tags.append(tag)
    return tuple(tags) if ok else None


def _read_location(read: _Reader, data: Mapping[str, object]) -> Location | None:
    if not read.present(data, "location", "data.location") or data["location"] is None:
        return None
    value = read.mapping(data, "location", "data.location")
    if value is None:
        return None
    errors_before = len(read.errors)
    coordinates: dict[str, float] = {}
    for key, limit in (("lat", 90.0), ("lon", 180.0)):
        path = f"data.location.{key}"
        if not read.present(value, key, path):
            continue
        number = value[key]
        if not _is_number(number):
            read.fail(path, "invalid_type", f"{path} must be a number")
        elif not -limit <= cast(float, number) <= limit:
            read.fail(path, "out_of_range", f"{path} must be between -{limit:g} and {limit:g}")
        else:
            coordinates[key] = float(cast(float, number))
    # accuracy_m may be null or absent: some browsers give a position without one.
    accuracy = value.get("accuracy_m")
    path = "data.location.accuracy_m"
    if accuracy is not None and not _is_number(accuracy):
        read.fail(path, "invalid_type", f"{path} must be a number or null")
    elif accuracy is not None and cast(float, accuracy) < 0:
        read.fail(path, "out_of_range", f"{path} must not be negative")
    if len(read.errors) > errors_before:
        return None
    return Location(
        coordinates["lat"],
        coordinates["lon"],
        None if accuracy is None else float(cast(float, accuracy)),
    )


# --- checks that need stored state (the server loads it and asks) ----------------------------


def owner_error(stored_doctor: str | None, doctor: str) -> FieldError | None:
    """An error when the visit is already stored as another doctor's; ids are global."""
    if stored_doctor is None or stored_doctor == doctor:
        return None
    return FieldError("id", "other_doctor", "this visit belongs to another doctor")


def base_rev_error(stored_rev: int | None, base_rev: int) -> FieldError | None:
    """An error when `base_rev` is a revision the server never issued for this record."""
    if stored_rev is None:
        if base_rev == 0:
            return None
        return FieldError(
            "base_rev", "unknown_base_rev", f"the server has no revision {base_rev} of this visit"
        )
    if base_rev > stored_rev:
        return FieldError(
            "base_rev",
            "unknown_base_rev",
            f"base_rev {base_rev} is newer than the server's revision {stored_rev}",
        )
    return None


# --- flags: kept, but marked (SPEC §5) ------------------------------------------------------


def is_unassigned(visit: Visit, assignments: Iterable[Assignment], tz: str = DEFAULT_TZ) -> bool:
    """No assignment of the visit's doctor at its village, of the matching kind, on its date."""
    day = local_date(visit.started_at, tz)
    wanted = _MATCHING_KIND[visit.kind]
    return not any(
        a.doctor == visit.doctor
        and a.village == visit.village
        and a.kind == wanted
        and a.start <= day
        and (a.end is None or day <= a.end)
        for a in assignments
    )


def overlapping_visits(visit: Visit, others: Iterable[Visit]) -> tuple[str, ...]:
    """Ids of the doctor's other visits, at another village, whose times overlap this one.

    A doctor cannot be in two villages at once, so both sides get `overlap`; the server
    recomputes both when either changes or is deleted. Times are half-open: a patrol ending at
    10:00 and the next starting at 10:00 do not overlap. An open visit (no `ended_at`) occupies
    only its start instant: all it proves is where the doctor was when checking in, and a
    forgotten check-out (already flagged `open`) must not knock out the next day's real visits.
    Deleted and dismissed visits overlap nothing.
    """
    if visit.deleted or visit.dismissed:
        return ()
    return tuple(
        sorted(
            other.id
            for other in others
            if other.id != visit.id
            and other.doctor == visit.doctor
            and other.village != visit.village
            and not other.deleted
            and not other.dismissed
            and _times_overlap(visit, other)
        )
    )


def _times_overlap(a: Visit, b: Visit) -> bool:
    if a.ended_at is None and b.ended_at is None:
        return a.started_at == b.started_at
    if a.ended_at is None:
        return _contains(b, a.started_at)
    if b.ended_at is None:
        return _contains(a, b.started_at)
    return a.started_at < b.ended_at and b.started_at < a.ended_at


def _contains(closed: Visit, instant: datetime) -> bool:
    assert closed.ended_at is not None
    return closed.started_at <= instant < closed.ended_at


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance on a spherical earth."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def is_far_from_village(
    location: Location | None, village: Village, policy: Policy = DEFAULT_POLICY
) -> bool:
    """More than `far_from_village_km` from the village; never when either position is unknown."""
    if location is None or village.lat is None or village.lon is None:
        return False
    distance = distance_km(location.lat, location.lon, village.lat, village.lon)
    # Compared to the millimetre, so a point placed exactly 3 km away is not flagged by
    # floating-point noise; GPS is never that precise anyway.
    return round(distance, 6) > policy.far_from_village_km


def has_clock_skew(
    device_time: datetime, received_at: datetime, policy: Policy = DEFAULT_POLICY
) -> bool:
    """The phone's clock was more than `clock_skew_minutes` off when it pushed."""
    return abs(device_time - received_at) > timedelta(minutes=policy.clock_skew_minutes)


def week_end(moment: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """The end of the ISO week of `moment`'s local date: the next Monday 00:00 local (Sunday 24:00)."""
    return weeks.week_end(weeks.week_of(moment, tz), tz)


def is_late(
    visit: Visit,
    first_received_at: datetime,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> bool:
    """First received more than `late_days` after the end of the visit's week."""
    return first_received_at - week_end(visit.started_at, tz) > timedelta(days=policy.late_days)


def is_open(visit: Visit, now: datetime, tz: str = DEFAULT_TZ) -> bool:
    """Still without `ended_at` once its local date is over; cleared as soon as it is closed."""
    if visit.ended_at is not None:
        return False
    day = local_date(visit.started_at, tz)
    return now >= local_midnight(day + timedelta(days=1), tz)


def visit_flags(
    visit: Visit,
    *,
    village: Village,
    location: Location | None,
    assignments: Iterable[Assignment],
    other_visits: Iterable[Visit],
    now: datetime,
    first_received_at: datetime,
    device_time: datetime | None = None,
    received_at: datetime | None = None,
    tz: str = DEFAULT_TZ,
    policy: Policy = DEFAULT_POLICY,
) -> frozenset[str]:
    """All the SPEC §5 flags of `visit`.

    `clock_skew` is a fact about one push: pass `device_time` and `received_at` of the push
    being stored, or leave them out when recomputing (the server then keeps the flag it had).
    `overlap` needs the ids too: the server calls `overlapping_visits` to flag the other side.
    """
    flags: set[str] = set()
    if is_unassigned(visit, assignments, tz):
        flags.add("unassigned")
    if overlapping_visits(visit, other_visits):
        flags.add("overlap")
    if is_far_from_village(location, village, policy):
        flags.add("far_from_village")
    if (
        device_time is not None
        and received_at is not None
        and has_clock_skew(device_time, received_at, policy)
    ):
        flags.add("clock_skew")
    if is_late(visit, first_received_at, tz, policy):
        flags.add("late")
    if is_open(visit, now, tz):
        flags.add("open")
    return frozenset(flags)
