"""The push outcome rules of SPEC §6: duplicate, applied, conflict (greater hlc wins) or rejected.

One pure function over one record's stored state; the server loads that state and stores the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Literal, TypeVar

from sync.records import FieldError, base_rev_error, owner_error

P = TypeVar("P")

Status = Literal["applied", "duplicate", "conflict", "rejected"]


@dataclass(frozen=True)
class Version(Generic[P]):
    """One version of a record, as a device made it."""

    change_id: str
    hlc: str
    deleted: bool
    payload: P


@dataclass(frozen=True)
class Change(Generic[P]):
    """An incoming change from a push; `doctor` is the signed-in user who pushed it."""

    version: Version[P]
    base_rev: int
    doctor: str


@dataclass(frozen=True)
class StoredRecord(Generic[P]):
    rev: int
    current: Version[P]
    doctor: str
    # Every change_id ever merged into this record, winners and losers, so retries are no-ops.
    change_ids: frozenset[str]


@dataclass(frozen=True)
class Outcome(Generic[P]):
    status: Status
    # The rev to answer with: the rev of `state.current`, i.e. of the record a pull would return.
    # 0 when a change to a record the server does not have is rejected.
    rev: int
    # The record after this change; None only when a change to an unknown record is rejected.
    state: StoredRecord[P] | None
    # The version that leaves `current` and goes to the record's history: the earlier version
    # on `applied`, the loser on `conflict` (either side), None otherwise.
    to_history: Version[P] | None = None
    errors: tuple[FieldError, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the server has anything to write (a conflict the stored side won still adds
        the loser to history and its change_id)."""
        return self.status in ("applied", "conflict")


def wins(a: Version[P], b: Version[P]) -> bool:
    """True when `a` beats `b`: the greater hlc by plain string comparison (SPEC §6).

    Equal hlc strings share a node id, which a correct clock never repeats; if it happens (an app
    reinstalled with its old device id and a clock set back) the greater change_id wins, so the
    outcome never depends on which push arrived first.
    """
    return (a.hlc, a.change_id) > (b.hlc, b.change_id)


def merge_change(stored: StoredRecord[P] | None, change: Change[P]) -> Outcome[P]:
    """The outcome of one pushed change against the record's stored state (None if new)."""
    incoming = change.version
    not_owner = owner_error(None if stored is None else stored.doctor, change.doctor)
    if not_owner is not None:
        # Checked before duplicates, so a change_id never reveals another doctor's record.
        return Outcome("rejected", 0, None, errors=(not_owner,))

    if stored is not None and incoming.change_id in stored.change_ids:
        return Outcome("duplicate", stored.rev, stored)

    unknown_rev = base_rev_error(None if stored is None else stored.rev, change.base_rev)
    if unknown_rev is not None:
        return Outcome(
            "rejected", 0 if stored is None else stored.rev, stored, errors=(unknown_rev,)
        )

    if stored is None:
        created = StoredRecord(1, incoming, change.doctor, frozenset({incoming.change_id}))
        return Outcome("applied", 1, created)

    seen = stored.change_ids | {incoming.change_id}
    if change.base_rev == stored.rev:
        # The device saw the current version before editing: a plain edit, whatever the hlc.
        edited = StoredRecord(stored.rev + 1, incoming, stored.doctor, seen)
        return Outcome("applied", edited.rev, edited, to_history=stored.current)

    # base_rev < rev: edited elsewhere meanwhile.
    if wins(incoming, stored.current):
        won = StoredRecord(stored.rev + 1, incoming, stored.doctor, seen)
        return Outcome("conflict", won.rev, won, to_history=stored.current)
    kept = replace(stored, change_ids=seen)
    return Outcome("conflict", kept.rev, kept, to_history=incoming)
