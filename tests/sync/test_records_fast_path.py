"""The fast path of check_pushed_visit must agree with the reference reader on every record."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.policy import DEFAULT_POLICY
from sync.records import _checked_by_reader, _well_formed_visit
from tests.sync.test_records import DOCTOR, NOW, VILLAGES, pushed

START = "2026-11-22T08:00:00+08:00"
# Per field, the values at and around each rule's boundary, and of the wrong type.
BOUNDARIES: dict[tuple[str, ...], list[Any]] = {
    ("type",): ["visit", "note", None, 1],
    ("id",): ["0B6F7A1E-9C2D-4E8F-A1B3-5C7D9E0F2A4B", "not-a-uuid", "", None, 7],
    ("change_id",): ["7D3E1F2A-4B5C-4D6E-8F90-A1B2C3D4E5F6", "x", None],
    ("base_rev",): [0, 1, -1, 1.5, True, "0", None],
    ("hlc",): ["001763769600000-00000-dev", "1763769600000-0-dev", "", None, 5],
    ("deleted",): [True, False, "yes", 0, None],
    ("data",): [None, [], "x"],
    ("data", "village"): ["450225100202", "450225999999", "", None, 450225100201],
    ("data", "kind"): ["patrol", "roster", "", None],
    ("data", "started_at"): [
        "2026-11-22T00:00:00Z", "2026-11-22T10:10:00+08:00", "2026-11-22T10:10:01+08:00",
        "2026-11-22T08:00:00", "2026-11-22 08:00:00+08:00", "", None, 1,
    ],
    ("data", "ended_at"): [
        None, START, "2026-11-22T07:59:59+08:00", "2026-11-23T00:00:00+08:00",
        "2026-11-23T00:01:00+08:00", "2026-11-22T09:30:00Z", "soon", 3,
    ],
    ("data", "patients_seen"): [0, 500, 501, -1, 3.0, "3", True, None],
    ("data", "services"): [[], ["x-ray"], "bp_check", [1], ["other", "other"], None],
    ("data", "notes"): ["", "x" * 2000, "x" * 2001, "韦" * 2001, 5, None],
    ("data", "location"): [
        None, {"lat": 90, "lon": 180}, {"lat": 90.1, "lon": 0}, {"lat": 0, "lon": -180.1},
        {"lat": 25.0, "lon": 109.0, "accuracy_m": -1}, {"lat": 25.0, "lon": 109.0, "accuracy_m": 0},
        {"lat": "25", "lon": 109.0}, {"lat": 25.0}, [25.0, 109.0], {"lat": True, "lon": 109.0},
    ],
}
MISSING = object()


@st.composite
def near_valid_records(draw: st.DrawFn) -> dict[str, Any]:
    record = pushed()
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        path = draw(st.sampled_from(sorted(BOUNDARIES)))
        value = draw(st.sampled_from([*BOUNDARIES[path], MISSING]))
        target = record if len(path) == 1 else record.get("data")
        if not isinstance(target, dict):
            continue
        if value is MISSING:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return record


@settings(max_examples=600, deadline=None)
@given(near_valid_records())
def test_the_fast_path_returns_what_the_reader_returns_or_steps_aside(
    record: dict[str, Any],
) -> None:
    fast = _well_formed_visit(record, DOCTOR, VILLAGES, NOW, DEFAULT_POLICY)

    reference = _checked_by_reader(record, DOCTOR, VILLAGES, NOW, DEFAULT_POLICY)

    assert fast is None or fast == reference


def test_the_fast_path_takes_a_well_formed_record() -> None:
    record = pushed()

    fast = _well_formed_visit(record, DOCTOR, VILLAGES, NOW, DEFAULT_POLICY)

    assert fast is not None
    assert fast == _checked_by_reader(record, DOCTOR, VILLAGES, NOW, DEFAULT_POLICY)
