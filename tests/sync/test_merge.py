"""The push outcome rules of SPEC §6, and convergence of several phones under any order of pushes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.hlc import HybridClock, format_hlc
from sync.merge import Change, Outcome, StoredRecord, Version, merge_change, wins

WEI = "45022519870312"  # 韦医生
QIN = "45022519900101"  # 覃医生
MORNING = {"village": "450225100201", "kind": "duty", "notes": "上午在和睦村卫生室坐诊"}
EDITED = {"village": "450225100201", "kind": "duty", "notes": "上午坐诊，测血压 6 人"}

Payload = dict[str, str]


def version(
    change_id: str, ms: int, node: str = "phone-a", *, deleted: bool = False
) -> Version[Payload]:
    return Version(change_id, format_hlc(ms, 0, node), deleted, EDITED if ms % 2 else MORNING)


def change(v: Version[Payload], base_rev: int, doctor: str = WEI) -> Change[Payload]:
    return Change(v, base_rev, doctor)


FIRST = version("c-1", 1763769600000)
STORED: StoredRecord[Payload] = StoredRecord(3, FIRST, WEI, frozenset({"c-0", "c-1"}))


def test_a_new_record_with_base_rev_zero_is_applied_as_rev_one() -> None:
    outcome = merge_change(None, change(FIRST, 0))

    assert (outcome.status, outcome.rev, outcome.to_history) == ("applied", 1, None)
    assert outcome.state == StoredRecord(1, FIRST, WEI, frozenset({"c-1"}))


def test_an_edit_from_the_current_rev_is_applied_as_the_next_rev() -> None:
    edit = version("c-2", 1763769700000)

    outcome = merge_change(STORED, change(edit, 3))

    assert (outcome.status, outcome.rev, outcome.to_history) == ("applied", 4, FIRST)
    assert outcome.state is not None and outcome.state.current == edit
    assert outcome.state.change_ids == {"c-0", "c-1", "c-2"}


def test_an_edit_from_the_current_rev_is_applied_even_with_an_older_hlc() -> None:
    # The phone saw the current version before editing: the doctor meant to replace it.
    edit = version("c-2", 1763769500000)

    outcome = merge_change(STORED, change(edit, 3))

    assert (outcome.status, outcome.rev) == ("applied", 4)


def test_a_retried_change_is_a_duplicate_and_changes_nothing() -> None:
    outcome = merge_change(STORED, change(FIRST, 2))

    assert (outcome.status, outcome.rev, outcome.state, outcome.to_history) == (
        "duplicate",
        3,
        STORED,
        None,
    )
    assert not outcome.changed


def test_retrying_a_change_that_lost_a_conflict_is_a_duplicate() -> None:
    older = version("c-2", 1763769500000, "phone-b")
    lost = merge_change(STORED, change(older, 1))
    assert lost.state is not None

    retried = merge_change(lost.state, change(older, 1))

    assert (retried.status, retried.rev) == ("duplicate", 3)


def test_a_stale_edit_with_the_greater_hlc_wins_the_conflict_as_the_next_rev() -> None:
    newer = version("c-2", 1763769700000, "phone-b")

    outcome = merge_change(STORED, change(newer, 2))

    assert (outcome.status, outcome.rev, outcome.to_history) == ("conflict", 4, FIRST)
    assert outcome.state is not None and outcome.state.current == newer


def test_a_stale_edit_with_the_smaller_hlc_loses_and_is_kept_as_history() -> None:
    older = version("c-2", 1763769500000, "phone-b")

    outcome = merge_change(STORED, change(older, 2))

    assert (outcome.status, outcome.rev, outcome.to_history) == ("conflict", 3, older)
    assert outcome.state is not None and outcome.state.current == FIRST
    assert "c-2" in outcome.state.change_ids and outcome.changed


def test_hlcs_compare_as_plain_strings() -> None:
    # Same millisecond and counter: the node id decides, character by character.
    by_b = version("c-2", 1763769600000, "phone-b")

    outcome = merge_change(STORED, change(by_b, 1))

    assert outcome.state is not None and outcome.state.current == by_b


def test_a_base_rev_zero_on_a_stored_record_is_a_conflict() -> None:
    outcome = merge_change(STORED, change(version("c-2", 1763769700000, "phone-b"), 0))

    assert (outcome.status, outcome.rev) == ("conflict", 4)


def test_a_base_rev_the_server_never_issued_is_rejected() -> None:
    outcome = merge_change(STORED, change(version("c-2", 1763769700000), 4))

    assert (outcome.status, outcome.rev, outcome.state) == ("rejected", 3, STORED)
    assert [(e.field, e.code) for e in outcome.errors] == [("base_rev", "unknown_base_rev")]


def test_an_edit_of_a_record_the_server_does_not_have_is_rejected() -> None:
    outcome = merge_change(None, change(FIRST, 2))

    assert (outcome.status, outcome.rev, outcome.state) == ("rejected", 0, None)
    assert [e.code for e in outcome.errors] == ["unknown_base_rev"]


def test_a_visit_of_another_doctor_is_rejected_even_for_a_known_change_id() -> None:
    outcome = merge_change(STORED, change(FIRST, 3, doctor=QIN))

    assert (outcome.status, outcome.rev, outcome.state) == ("rejected", 0, None)
    assert [(e.field, e.code) for e in outcome.errors] == [("id", "other_doctor")]


def test_a_delete_with_the_greater_hlc_wins_and_a_later_edit_brings_the_visit_back() -> None:
    delete = version("c-2", 1763769700000, "phone-b", deleted=True)
    deleted = merge_change(STORED, change(delete, 2))
    assert deleted.state is not None and deleted.state.current.deleted

    revived = merge_change(deleted.state, change(version("c-3", 1763769800000), 4))

    assert revived.status == "applied" and revived.state is not None
    assert not revived.state.current.deleted


def test_equal_hlcs_are_decided_by_the_greater_change_id_whatever_the_order() -> None:
    low = Version("c-a", format_hlc(1763769600000, 0, "phone-a"), False, MORNING)
    high = Version("c-b", format_hlc(1763769600000, 0, "phone-a"), False, EDITED)

    low_first = merge_change(merge_change(None, change(low, 0)).state, change(high, 0))
    high_first = merge_change(merge_change(None, change(high, 0)).state, change(low, 0))

    assert wins(high, low) and not wins(low, high)
    assert low_first.state is not None and high_first.state is not None
    assert low_first.state.current == high_first.state.current == high


# --- convergence: several phones of one doctor, any order of pushes -----------------------

RECORDS = ("0b6f7a1e-0000-4e8f-a1b3-5c7d9e0f2a4b", "0b6f7a1e-0001-4e8f-a1b3-5c7d9e0f2a4b")


@dataclass
class Server:
    records: dict[str, StoredRecord[str]] = field(default_factory=dict)
    history: dict[str, list[Version[str]]] = field(default_factory=dict)

    def push(self, record_id: str, incoming: Change[str]) -> Outcome[str]:
        outcome = merge_change(self.records.get(record_id), incoming)
        assert outcome.status != "rejected", outcome.errors
        assert outcome.state is not None
        self.records[record_id] = outcome.state
        if outcome.to_history is not None:
            self.history.setdefault(record_id, []).append(outcome.to_history)
        return outcome


@dataclass
class FakeWall:
    ms: int

    def __call__(self) -> int:
        return self.ms


@dataclass
class Phone:
    clock: HybridClock
    wall: FakeWall
    known_rev: dict[str, int] = field(default_factory=dict)
    outbox: list[tuple[str, Change[str]]] = field(default_factory=list)

    def edit(self, record_id: str, deleted: bool, change_id: str) -> Version[str]:
        made = Version(change_id, self.clock.tick(), deleted, f"{self.clock.node} {change_id}")
        self.outbox.append((record_id, Change(made, self.known_rev.get(record_id, 0), WEI)))
        return made

    def learn(self, record_id: str, rev: int, hlc: str) -> None:
        self.known_rev[record_id] = max(rev, self.known_rev.get(record_id, 0))
        self.clock.receive(hlc)

    def push(self, server: Server, ack_lost: bool) -> None:
        for record_id, pending in self.outbox:
            outcome = server.push(record_id, pending)
            assert outcome.state is not None
            if not ack_lost:
                self.learn(record_id, outcome.rev, outcome.state.current.hlc)
        if not ack_lost:  # a lost answer leaves the outbox as it was: the next push retries it
            self.outbox.clear()

    def pull(self, server: Server) -> None:
        for record_id, stored in server.records.items():
            self.learn(record_id, stored.rev, stored.current.hlc)


operations = st.lists(
    st.tuples(
        st.sampled_from(["edit", "delete", "push", "push_ack_lost", "pull"]),
        st.integers(0, 2),  # which phone
        st.integers(0, len(RECORDS) - 1),
        st.integers(0, 90_000),  # ms the phone's wall clock moves on; 0 = same millisecond
    ),
    max_size=60,
)
# Phones' clocks disagree by up to an hour, as cheap phones' clocks do.
clock_offsets = st.lists(st.integers(-3_600_000, 3_600_000), min_size=3, max_size=3)


@settings(max_examples=300, deadline=None)
@given(ops=operations, offsets=clock_offsets)
def test_phones_of_one_doctor_converge_on_the_greatest_hlc_and_lose_no_version(
    ops: list[tuple[str, int, int, int]], offsets: list[int]
) -> None:
    server = Server()
    phones: list[Phone] = []
    for number, offset in enumerate(offsets):
        wall = FakeWall(1763769600000 + offset)
        phones.append(Phone(HybridClock(f"phone-{number}", wall), wall))
    made: dict[str, list[Version[str]]] = {record_id: [] for record_id in RECORDS}

    for step, (action, phone_no, record_no, advance) in enumerate(ops):
        phone = phones[phone_no]
        phone.wall.ms += advance
        if action in ("edit", "delete"):
            record_id = RECORDS[record_no]
            made[record_id].append(phone.edit(record_id, action == "delete", f"c-{step:03d}"))
        elif action == "pull":
            phone.pull(server)
        else:
            phone.push(server, ack_lost=action == "push_ack_lost")
    for phone in phones:  # every phone comes back online in the end
        phone.push(server, ack_lost=False)

    for record_id, versions in made.items():
        if not versions:
            assert record_id not in server.records
            continue
        stored = server.records[record_id]
        greatest = max(versions, key=lambda v: (v.hlc, v.change_id))
        assert stored.current == greatest
        kept = [stored.current, *server.history.get(record_id, [])]
        assert sorted(v.change_id for v in kept) == sorted(v.change_id for v in versions)


offline_edits = st.lists(
    st.tuples(
        st.integers(0, 2), st.integers(0, len(RECORDS) - 1), st.booleans(), st.integers(0, 5)
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(edits=offline_edits, seed=st.randoms(use_true_random=False))
def test_offline_edits_arriving_in_any_order_with_retries_end_in_the_same_state(
    edits: list[tuple[int, int, bool, int]], seed: random.Random
) -> None:
    # Phones that never pulled send base_rev 0 for everything; the server must still agree.
    clocks = [HybridClock(f"phone-{n}", lambda: 1763769600000) for n in range(3)]
    changes = [
        (
            RECORDS[record_no],
            Change(Version(f"c-{i:03d}", clocks[p].tick(), deleted, f"{i}"), 0, WEI),
        )
        for i, (p, record_no, deleted, _) in enumerate(edits)
    ]
    # Each change is sent once plus its retries.
    deliveries = [
        c for c, (*_, retries) in zip(changes, edits, strict=True) for _ in range(1 + retries)
    ]

    finals = []
    for _ in range(2):
        order = deliveries[:]
        seed.shuffle(order)
        server = Server()
        for record_id, incoming in order:
            server.push(record_id, incoming)
        # Revs count the versions that won on this server, so they may differ with the order;
        # what a pull shows (the winner) and what history keeps must not.
        finals.append(
            {
                record_id: (
                    stored.current,
                    sorted(
                        v.change_id for v in [stored.current, *server.history.get(record_id, [])]
                    ),
                )
                for record_id, stored in server.records.items()
            }
        )

    assert finals[0] == finals[1]
    for record_id, (current, kept) in finals[0].items():
        mine = [c.version for r, c in changes if r == record_id]
        assert current == max(mine, key=lambda v: (v.hlc, v.change_id))
        assert kept == sorted(v.change_id for v in mine)
