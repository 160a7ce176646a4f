"""Plain data the domain rules work on: frozen dataclasses, converted from the ORM at the server's edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

VisitKind = Literal["duty", "patrol"]
AssignmentKind = Literal["roster", "patrol"]
Half = Literal["am", "pm"]

SERVICE_TAGS: frozenset[str] = frozenset(
    {
        "consultation",
        "bp_check",
        "glucose_check",
        "chronic_followup",
        "health_education",
        "vaccination",
        "maternal_child",
        "other",
    }
)

FLAGS: tuple[str, ...] = (
    "unassigned",
    "overlap",
    "far_from_village",
    "clock_skew",
    "late",
    "open",
)


@dataclass(frozen=True)
class Slot:
    weekday: int  # 1..7, Monday = 1
    half: Half


@dataclass(frozen=True)
class Assignment:
    id: str
    doctor: str
    village: str
    kind: AssignmentKind
    start: date
    end: date | None  # inclusive; None = open-ended
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Village:
    code: str
    township: str
    name: str
    needs_coverage: bool = True
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Visit:
    id: str
    doctor: str
    village: str
    kind: VisitKind
    started_at: datetime  # timezone-aware
    ended_at: datetime | None
    deleted: bool = False
    dismissed: bool = False
    # Flags the server attached; `overlap` stops counting until a supervisor resolves it.
    flags: frozenset[str] = field(default_factory=frozenset)
    overlap_resolved: bool = False
