"""Checking an import bundle (SPEC §7): every item's fields, codes, references, phones and scope.

Everything is checked before anything is written, and every problem is collected with its path,
so county IT can fix a whole file in one go.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.bundle_files import BUNDLE_KEYS, Bundle, Problem
from server.models import QUALIFICATIONS, ROLES
from sync.weeks import parse_week

KINDS = ("roster", "patrol")
HALVES = ("am", "pm")
_CODE_DIGITS = {"county": 6, "township": 9, "village": 12}
_SLOT = re.compile(r"([1-7])\s*(am|pm)", re.I)


class FieldProblem(ValueError):
    pass


# --- reading one value ---------------------------------------------------------------------


def text(max_length: int) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if isinstance(value, bool):
            raise FieldProblem("must be text")
        if isinstance(value, int):
            value = str(value)  # a code or phone typed into a spreadsheet as a number
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        if not isinstance(value, str):
            raise FieldProblem("must be text")
        stripped: str = value.strip()
        if len(stripped) > max_length:
            raise FieldProblem(f"longer than {max_length} characters")
        return stripped

    return read


def whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise FieldProblem("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        return int(value.strip())
    raise FieldProblem("must be a whole number")


def number(value: Any) -> float:
    if isinstance(value, bool):
        raise FieldProblem("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError as exc:
            raise FieldProblem("must be a number") from exc
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldProblem("must be a number")
    return float(value)


_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FieldProblem("must be true or false")


def day(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise FieldProblem(f"{value} is not a date") from exc
    raise FieldProblem("must be a date written 2026-03-01")


def slot_list(value: Any) -> list[Any]:
    """A JSON list, or in a CSV/XLSX cell either JSON or the short form `2am 5pm` (weekday, half)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise FieldProblem("is not a JSON list of slots") from exc
            if isinstance(parsed, list):
                return parsed
            raise FieldProblem("must be a list of slots")
        tokens = [t for t in re.split(r"[\s,;，；]+", stripped) if t]
        slots = []
        for token in tokens:
            match = _SLOT.fullmatch(token)
            if match is None:
                raise FieldProblem(f"{token!r} is not a slot such as 2am or 5pm")
            slots.append({"weekday": int(match[1]), "half": match[2].lower()})
        return slots
    raise FieldProblem("must be a list of slots")


FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "counties": {"code": text(6), "name": text(100)},
    "townships": {"code": text(9), "county": text(6), "name": text(100)},
    "villages": {
        "code": text(12),
        "township": text(9),
        "name": text(100),
        "population": whole_number,
        "needs_coverage": boolean,
        "lat": number,
        "lon": number,
    },
    "users": {
        "id": text(64),
        "name": text(100),
        "phone": text(32),
        "role": text(16),
        "township": text(9),
        "county": text(6),
        "qualification": text(32),
        "password": text(200),
    },
    "assignments": {
        "id": text(64),
        "doctor": text(64),
        "village": text(12),
        "kind": text(8),
        "start": day,
        "end": day,
        "slots": slot_list,
    },
    "exemptions": {"village": text(12), "week": text(8), "reason": text(500)},
}
REQUIRED = {
    "counties": ("code", "name"),
    "townships": ("code", "county", "name"),
    "villages": ("code", "township", "name"),
    "users": ("name", "phone", "role"),
    "assignments": ("doctor", "village", "kind", "start"),
    "exemptions": ("village", "week", "reason"),
}


# --- what the database already holds --------------------------------------------------------


@dataclass
class Existing:
    """The rows an import refers to or would update, loaded before checking."""

    counties: dict[str, str] = field(default_factory=dict)  # code -> name
    townships: dict[str, dict[str, Any]] = field(default_factory=dict)
    villages: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    phones: dict[str, str] = field(default_factory=dict)  # phone -> user id
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    exemptions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Checked:
    """Typed items per key (users and assignments with their final ids) and the problems found."""

    items: dict[str, list[dict[str, Any]]]
    problems: list[Problem]


# --- checking --------------------------------------------------------------------------------


class _Collector:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.problems: list[Problem] = []

    def add(self, key: str, index: int, name: str | None, message: str) -> None:
        path = f"{key}[{index}]" + (f".{name}" if name else "")
        self.problems.append(Problem(path, message, self.bundle.source(key, index)))


def typed_items(bundle: Bundle, report: _Collector) -> dict[str, list[dict[str, Any]]]:
    """Each item with its values read into Python types; problems for unknown or bad fields."""
    typed: dict[str, list[dict[str, Any]]] = {key: [] for key in BUNDLE_KEYS}
    for key in BUNDLE_KEYS:
        for index, raw in enumerate(bundle.items.get(key, [])):
            item: dict[str, Any] = {}
            for name, value in raw.items():
                reader = FIELDS[key].get(name)
                if reader is None:
                    known = ", ".join(FIELDS[key])
                    report.add(key, index, name, f"unknown field; expected one of {known}")
                    continue
                if value is None or value == "":
                    continue
                try:
                    read = reader(value)
                except FieldProblem as exc:
                    report.add(key, index, name, str(exc))
                    continue
                if read != "":
                    item[name] = read
            for name in REQUIRED[key]:
                if name not in item and name in raw and raw[name] not in (None, ""):
                    continue  # already reported as malformed
                if name not in item:
                    report.add(key, index, name, "required")
            typed[key].append(item)
    return typed


def read_values(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """The items with their values typed, problems ignored: enough to know what to load."""
    return typed_items(bundle, _Collector(bundle))


def _code_problem(code: str, level: str, parent: str | None = None) -> str | None:
    digits = _CODE_DIGITS[level]
    if not re.fullmatch(f"[0-9]{{{digits}}}", code):
        return f"{code} is not a {digits}-digit {level} code"
    if parent is not None and not code.startswith(parent):
        return f"{level} {code} does not start with its {_parent_of(level)}'s code {parent}"
    return None


def _parent_of(level: str) -> str:
    return {"township": "county", "village": "township"}[level]


def check_bundle(bundle: Bundle, existing: Existing, scope_county: str | None) -> Checked:
    """Check every item against the rules of SPEC §3 and §7; `scope_county` = the admin's county."""
    report = _Collector(bundle)
    items = typed_items(bundle, report)

    def outside(code: str | None) -> bool:
        return scope_county is not None and (code is None or not code.startswith(scope_county))

    def scope_message() -> str:
        return f"outside your county {scope_county}"

    def duplicates(key: str, keyfn: Callable[[dict[str, Any]], Any], name: str) -> None:
        seen: dict[Any, int] = {}
        for index, item in enumerate(items[key]):
            value = keyfn(item)
            if value is None:
                continue
            if value in seen:
                report.add(key, index, name, f"duplicate of {key}[{seen[value]}]")
            else:
                seen[value] = index

    # Counties
    new_counties = {c["code"] for c in items["counties"] if "code" in c}
    for index, county_item in enumerate(items["counties"]):
        code = county_item.get("code")
        if code is None:
            continue
        if problem := _code_problem(code, "county"):
            report.add("counties", index, "code", problem)
        elif scope_county is not None and code != scope_county:
            report.add("counties", index, "code", scope_message())
    duplicates("counties", lambda c: c.get("code"), "code")

    # Townships
    known_counties = set(existing.counties) | new_counties
    for index, township_item in enumerate(items["townships"]):
        code, county = township_item.get("code"), township_item.get("county")
        if county is not None and county not in known_counties:
            report.add("townships", index, "county", f"unknown county {county}")
        if code is None:
            continue
        if problem := _code_problem(code, "township", county):
            report.add("townships", index, "code", problem)
        elif outside(code):
            report.add("townships", index, "code", scope_message())
    duplicates("townships", lambda t: t.get("code"), "code")
    known_townships = set(existing.townships) | {t["code"] for t in items["townships"] if "code" in t}

    # Villages
    for index, village_item in enumerate(items["villages"]):
        code, township = village_item.get("code"), village_item.get("township")
        if township is not None and township not in known_townships:
            report.add("villages", index, "township", f"unknown township {township}")
        if village_item.get("population", 0) < 0:
            report.add("villages", index, "population", "must not be negative")
        if "lat" in village_item and not -90 <= village_item["lat"] <= 90:
            report.add("villages", index, "lat", "must be between -90 and 90")
        if "lon" in village_item and not -180 <= village_item["lon"] <= 180:
            report.add("villages", index, "lon", "must be between -180 and 180")
        if code is None:
            continue
        if problem := _code_problem(code, "village", township):
            report.add("villages", index, "code", problem)
        elif outside(code):
            report.add("villages", index, "code", scope_message())
    duplicates("villages", lambda v: v.get("code"), "code")
    known_villages = set(existing.villages) | {v["code"] for v in items["villages"] if "code" in v}

    # Users: matched by id, else by phone (a re-import without staff numbers updates, not fails).
    final_roles: dict[str, str] = {uid: u["role"] for uid, u in existing.users.items()}
    phones_seen: dict[str, int] = {}
    for index, user in enumerate(items["users"]):
        phone: str | None = user.get("phone")
        role: str | None = user.get("role")
        uid = user.get("id") or (existing.phones.get(phone) if phone else None)
        current = existing.users.get(uid) if uid else None
        user["_new"] = current is None
        user["id"] = uid or str(uuid.uuid4())
        if role is not None and role not in ROLES:
            report.add("users", index, "role", f"unknown role {role}; expected {', '.join(ROLES)}")
        qualification = user.get("qualification")
        if qualification is not None and qualification not in QUALIFICATIONS:
            report.add(
                "users", index, "qualification",
                f"unknown qualification {qualification}; expected {', '.join(QUALIFICATIONS)}",
            )
        if current is None and "password" not in user:
            report.add("users", index, "password", "required for a new user")
        if phone is not None:
            owner = existing.phones.get(phone)
            if owner is not None and owner != user["id"]:
                report.add("users", index, "phone", f"phone {phone} is already used by user {owner}")
            elif phone in phones_seen:
                report.add("users", index, "phone", f"phone {phone} is also at users[{phones_seen[phone]}]")
            else:
                phones_seen[phone] = index
        township = user.get("township")
        county = user.get("county")
        if role in ("doctor", "supervisor"):
            if township is None:
                report.add("users", index, "township", f"required for a {role}")
            elif township not in known_townships:
                report.add("users", index, "township", f"unknown township {township}")
            elif outside(township):
                report.add("users", index, "township", scope_message())
            if county is not None:
                report.add("users", index, "county", "only an admin has a county; give the township")
        elif role == "admin":
            if township is not None:
                report.add("users", index, "township", "an admin has a county, not a township")
            if county is not None and county not in known_counties:
                report.add("users", index, "county", f"unknown county {county}")
            elif scope_county is not None and county != scope_county:
                report.add("users", index, "county", scope_message())
        if current is not None and scope_county is not None:
            where = current["township_id"] or current["county_id"]
            if outside(where):
                report.add("users", index, "id", f"user {user['id']} is {scope_message()}")
        if role in ROLES:
            final_roles[user["id"]] = role
    duplicates("users", lambda u: u["id"], "id")

    # Assignments
    for index, assignment in enumerate(items["assignments"]):
        aid = assignment.get("id") or str(uuid.uuid4())
        assignment["id"] = aid
        doctor = assignment.get("doctor")
        village = assignment.get("village")
        kind = assignment.get("kind")
        if doctor is not None:
            if doctor not in final_roles:
                report.add("assignments", index, "doctor", f"unknown user {doctor}")
            elif final_roles[doctor] != "doctor":
                report.add("assignments", index, "doctor", f"user {doctor} is not a doctor")
        if village is not None:
            if village not in known_villages:
                report.add("assignments", index, "village", f"unknown village {village}")
            elif outside(village):
                report.add("assignments", index, "village", scope_message())
        before = existing.assignments.get(aid)
        if before is not None and outside(before["village_id"]):
            report.add("assignments", index, "id", f"assignment {aid} is {scope_message()}")
        if kind is not None and kind not in KINDS:
            report.add("assignments", index, "kind", f"unknown kind {kind}; expected roster or patrol")
        start, end = assignment.get("start"), assignment.get("end")
        if start is not None and end is not None and end < start:
            report.add("assignments", index, "end", f"{end} is before the start {start}")
        slots = assignment.get("slots", [])
        if kind == "roster" and slots:
            report.add("assignments", index, "slots", "a roster assignment has no patrol slots")
        elif kind == "patrol":
            assignment["slots"] = _checked_slots(slots, index, report)
        else:
            assignment["slots"] = []
    duplicates("assignments", lambda a: a["id"], "id")

    # Exemptions
    for index, exemption in enumerate(items["exemptions"]):
        village, week = exemption.get("village"), exemption.get("week")
        if village is not None:
            if village not in known_villages:
                report.add("exemptions", index, "village", f"unknown village {village}")
            elif outside(village):
                report.add("exemptions", index, "village", scope_message())
        if week is not None:
            try:
                parse_week(week)
            except ValueError as exc:
                report.add("exemptions", index, "week", str(exc))
    duplicates(
        "exemptions",
        lambda e: (e["village"], e["week"]) if "village" in e and "week" in e else None,
        "week",
    )
    return Checked(items, report.problems)


def _checked_slots(slots: Iterable[Any], index: int, report: _Collector) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen: set[tuple[int, str]] = set()
    for n, slot in enumerate(slots):
        name = f"slots[{n}]"
        if not isinstance(slot, dict):
            report.add("assignments", index, name, "must be an object {weekday, half}")
            continue
        weekday, half = slot.get("weekday"), slot.get("half")
        if isinstance(weekday, str) and weekday.strip().isdigit():
            weekday = int(weekday)
        ok = True
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
            report.add("assignments", index, f"{name}.weekday", "must be 1 (Monday) to 7 (Sunday)")
            ok = False
        if half not in HALVES:
            report.add("assignments", index, f"{name}.half", "must be am or pm")
            ok = False
        extra = set(slot) - {"weekday", "half"}
        if extra:
            report.add("assignments", index, name, f"unknown field {sorted(extra)[0]}")
            ok = False
        if ok:
            assert isinstance(weekday, int) and isinstance(half, str)
            if (weekday, half) in seen:
                report.add("assignments", index, name, f"slot {weekday}{half} is listed twice")
            seen.add((weekday, half))
            result.append({"weekday": weekday, "half": half})
    return result
