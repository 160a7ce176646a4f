"""Checks on one pushed visit (SPEC §5): shape errors reject it, flags keep it."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.model import Assignment, Location, Village, Visit
from sync.policy import Policy
from sync.records import (
    EARTH_RADIUS_KM,
    FieldError,
    Rejected,
    VisitChange,
    base_rev_error,
    check_pushed_visit,
    distance_km,
    has_clock_skew,
    is_far_from_village,
    is_late,
    is_open,
    is_unassigned,
    local_date,
    overlapping_visits,
    owner_error,
    parse_rfc3339,
    visit_flags,
    week_end,
)

CST = timezone(timedelta(hours=8))
DOCTOR = "45022519870312"  # 韦医生's staff number
OTHER_DOCTOR = "45022519900101"  # 覃医生
DEVICE = "5f0c2a7e-3b1d-4c9a-8e21-6d7b9f0a1c34"
VISIT_ID = "0b6f7a1e-9c2d-4e8f-a1b3-5c7d9e0f2a4b"
CHANGE_ID = "7d3e1f2a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
# 融水苗族自治县, 融水镇: two of its administrative villages.
VILLAGE = Village("450225100201", "450225100", "和睦村", lat=25.0660, lon=109.2560)
NEIGHBOUR = Village("450225100202", "450225100", "小东江村")
VILLAGES = {v.code: v for v in (VILLAGE, NEIGHBOUR)}
# Sunday of ISO week 2026-W47 (Mon 16 – Sun 22 November), mid-morning in Guangxi.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=CST)


def pushed(**data: Any) -> dict[str, Any]:
    """A valid push record of a finished duty morning, with `data` fields replaced."""
    fields: dict[str, Any] = {
        "village": "450225100201",
        "kind": "duty",
        "started_at": "2026-11-22T08:00:00+08:00",
        "ended_at": "2026-11-22T09:30:00+08:00",
        "patients_seen": 3,
        "services": ["bp_check", "consultation"],
        "notes": "王奶奶血压偏高，下周复查。",
        "location": {"lat": 25.0661, "lon": 109.2559, "accuracy_m": 12.5},
    }
    fields.update(data)
    return {
        "type": "visit",
        "id": VISIT_ID,
        "change_id": CHANGE_ID,
        "base_rev": 0,
        "hlc": f"001763769600000-00000-{DEVICE}",
        "deleted": False,
        "data": fields,
    }


def check(record: dict[str, Any], now: datetime = NOW) -> VisitChange | Rejected:
    return check_pushed_visit(record, doctor=DOCTOR, known_villages=VILLAGES, now=now)


def accepted(record: dict[str, Any], now: datetime = NOW) -> VisitChange:
    result = check(record, now)
    assert isinstance(result, VisitChange), result
    return result


def codes(record: dict[str, Any], now: datetime = NOW) -> set[tuple[str, str]]:
    result = check(record, now)
    assert isinstance(result, Rejected), result
    return {(e.field, e.code) for e in result.errors}


# --- shape: accepted ------------------------------------------------------------------------


def test_a_well_formed_duty_visit_is_accepted_with_aware_datetimes() -> None:
    change = accepted(pushed())

    assert (change.id, change.change_id, change.base_rev, change.deleted) == (
        VISIT_ID,
        CHANGE_ID,
        0,
        False,
    )
    assert change.record is not None
    visit = change.record.visit
    assert visit.doctor == DOCTOR and visit.village == "450225100201" and visit.kind == "duty"
    assert visit.started_at == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert visit.started_at.utcoffset() == timedelta(hours=8)
    assert change.record.patients_seen == 3
    assert change.record.services == ("bp_check", "consultation")
    assert change.record.notes == "王奶奶血压偏高，下周复查。"
    assert change.record.location == Location(25.0661, 109.2559, 12.5)


def test_a_visit_still_in_progress_is_accepted_without_ended_at() -> None:
    change = accepted(pushed(ended_at=None))

    assert change.record is not None and change.record.visit.ended_at is None


def test_utc_timestamps_with_z_are_accepted() -> None:
    change = accepted(
        pushed(started_at="2026-11-22T00:00:00Z", ended_at="2026-11-22T01:00:00.250z")
    )

    assert change.record is not None
    assert change.record.visit.ended_at == datetime(2026, 11, 22, 9, 0, 0, 250000, tzinfo=CST)


def test_an_uppercase_uuid_is_stored_in_lowercase() -> None:
    record = pushed()
    record["id"] = VISIT_ID.upper()

    assert accepted(record).id == VISIT_ID


def test_a_repeated_service_tag_is_kept_once() -> None:
    change = accepted(pushed(services=["bp_check", "bp_check", "other"]))

    assert change.record is not None and change.record.services == ("bp_check", "other")


def test_a_location_without_accuracy_is_accepted() -> None:
    change = accepted(pushed(location={"lat": 25.0661, "lon": 109.2559, "accuracy_m": None}))

    assert change.record is not None and change.record.location == Location(25.0661, 109.2559)


def test_a_visit_without_location_is_accepted() -> None:
    change = accepted(pushed(location=None))

    assert change.record is not None and change.record.location is None


def test_flags_echoed_back_from_a_pull_are_ignored() -> None:
    assert accepted(pushed(flags=["late"])).record is not None


def test_a_delete_without_data_is_accepted_as_a_bare_tombstone() -> None:
    record = pushed()
    record["deleted"] = True
    record["base_rev"] = 2
    del record["data"]

    change = accepted(record)

    assert change.deleted and change.base_rev == 2 and change.record is None


def test_a_delete_with_data_marks_the_visit_deleted() -> None:
    record = pushed()
    record["deleted"] = True

    change = accepted(record)

    assert change.record is not None and change.record.visit.deleted


# --- shape: rejected ------------------------------------------------------------------------


def test_an_id_that_is_not_a_uuid_is_rejected() -> None:
    record = pushed()
    record["id"] = "visit-1"

    assert codes(record) == {("id", "invalid_uuid")}


def test_a_change_id_that_is_not_a_uuid_is_rejected() -> None:
    record = pushed()
    record["change_id"] = "0b6f7a1e9c2d4e8fa1b35c7d9e0f2a4b"  # no dashes

    assert codes(record) == {("change_id", "invalid_uuid")}


def test_a_missing_started_at_is_rejected_as_required() -> None:
    record = pushed()
    del record["data"]["started_at"]

    assert codes(record) == {("data.started_at", "required")}


def test_a_missing_envelope_field_is_rejected_as_required() -> None:
    record = pushed()
    del record["deleted"]
    del record["hlc"]

    assert codes(record) == {("deleted", "required"), ("hlc", "required")}


def test_patients_seen_sent_as_a_string_is_rejected_as_mistyped() -> None:
    assert codes(pushed(patients_seen="3")) == {("data.patients_seen", "invalid_type")}


def test_patients_seen_sent_as_a_boolean_is_rejected_as_mistyped() -> None:
    assert codes(pushed(patients_seen=True)) == {("data.patients_seen", "invalid_type")}


def test_data_that_is_not_an_object_is_rejected() -> None:
    record = pushed()
    record["data"] = ["450225100201"]

    assert codes(record) == {("data", "invalid_type")}


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    result = check_pushed_visit(["visit"], doctor=DOCTOR, known_villages=VILLAGES, now=NOW)

    assert isinstance(result, Rejected)
    assert [(e.field, e.code) for e in result.errors] == [("record", "invalid_type")]


def test_a_record_of_another_type_is_rejected() -> None:
    record = pushed()
    record["type"] = "assignment"

    assert codes(record) == {("type", "unknown_type")}


def test_an_unknown_village_is_rejected() -> None:
    assert codes(pushed(village="450225100299")) == {("data.village", "unknown_village")}


def test_an_unknown_kind_is_rejected() -> None:
    assert codes(pushed(kind="roster")) == {("data.kind", "invalid_kind")}


def test_a_visit_ending_when_it_starts_is_rejected() -> None:
    record = pushed(ended_at="2026-11-22T08:00:00+08:00")

    assert codes(record) == {("data.ended_at", "ends_before_start")}


def test_a_visit_ending_before_it_starts_is_rejected() -> None:
    record = pushed(ended_at="2026-11-22T07:59:00+08:00")

    assert codes(record) == {("data.ended_at", "ends_before_start")}


def test_a_visit_of_exactly_sixteen_hours_is_accepted() -> None:
    record = pushed(started_at="2026-11-21T06:00:00+08:00", ended_at="2026-11-21T22:00:00+08:00")

    assert accepted(record).record is not None


def test_a_visit_of_sixteen_hours_and_one_minute_is_rejected() -> None:
    record = pushed(started_at="2026-11-21T06:00:00+08:00", ended_at="2026-11-21T22:01:00+08:00")

    assert codes(record) == {("data.ended_at", "too_long")}


def test_a_visit_starting_exactly_ten_minutes_ahead_of_server_is_accepted() -> None:
    record = pushed(started_at="2026-11-22T10:10:00+08:00", ended_at=None)

    assert accepted(record).record is not None


def test_a_visit_starting_eleven_minutes_ahead_of_server_is_rejected() -> None:
    record = pushed(started_at="2026-11-22T10:11:00+08:00", ended_at=None)

    assert codes(record) == {("data.started_at", "in_future")}


def test_the_future_check_compares_instants_not_local_clock_readings() -> None:
    # 02:05 UTC is 10:05 in Guangxi: five minutes ahead, not eight hours behind.
    record = pushed(started_at="2026-11-22T02:05:00+00:00", ended_at=None)

    assert accepted(record).record is not None


@pytest.mark.parametrize("seen", [0, 500])
def test_patients_seen_at_the_limits_is_accepted(seen: int) -> None:
    assert accepted(pushed(patients_seen=seen)).record is not None


@pytest.mark.parametrize("seen", [-1, 501])
def test_patients_seen_outside_0_to_500_is_rejected(seen: int) -> None:
    assert codes(pushed(patients_seen=seen)) == {("data.patients_seen", "out_of_range")}


def test_notes_of_2000_chinese_characters_are_accepted() -> None:
    assert accepted(pushed(notes="村" * 2000)).record is not None


def test_notes_of_2001_characters_are_rejected() -> None:
    assert codes(pushed(notes="村" * 2001)) == {("data.notes", "too_long_notes")}


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"lat": 90.5, "lon": 109.0, "accuracy_m": 5}, "data.location.lat"),
        ({"lat": -90.5, "lon": 109.0, "accuracy_m": 5}, "data.location.lat"),
        ({"lat": 25.0, "lon": 180.5, "accuracy_m": 5}, "data.location.lon"),
        ({"lat": 25.0, "lon": -181, "accuracy_m": 5}, "data.location.lon"),
        ({"lat": 25.0, "lon": 109.0, "accuracy_m": -1}, "data.location.accuracy_m"),
    ],
)
def test_a_location_out_of_range_is_rejected(location: dict[str, Any], field: str) -> None:
    assert codes(pushed(location=location)) == {(field, "out_of_range")}


def test_a_location_at_the_poles_and_the_date_line_is_accepted() -> None:
    record = pushed(location={"lat": -90, "lon": 180, "accuracy_m": 0})

    assert accepted(record).record is not None


def test_a_location_with_text_coordinates_is_rejected_as_mistyped() -> None:
    record = pushed(location={"lat": "25.06", "lon": 109.25, "accuracy_m": 5})

    assert codes(record) == {("data.location.lat", "invalid_type")}


def test_a_location_without_lon_is_rejected() -> None:
    assert codes(pushed(location={"lat": 25.06})) == {("data.location.lon", "required")}


def test_a_location_with_nan_is_rejected() -> None:
    record = pushed(location={"lat": math.nan, "lon": 109.25, "accuracy_m": 5})

    assert codes(record) == {("data.location.lat", "invalid_type")}


def test_an_unknown_service_tag_is_rejected_at_its_index() -> None:
    record = pushed(services=["bp_check", "acupuncture"])

    assert codes(record) == {("data.services[1]", "unknown_service")}


def test_services_that_are_not_a_list_are_rejected() -> None:
    assert codes(pushed(services="bp_check")) == {("data.services", "invalid_type")}


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-22T08:00:00",  # no offset
        "2026-11-22 08:00:00+08:00",  # space instead of T
        "2026-11-22T08:00+08:00",  # no seconds
        "2026-11-22T08:00:00+0800",  # offset without colon
        "2026-02-30T08:00:00+08:00",  # no such day
        "1763769600",
    ],
)
def test_a_timestamp_that_is_not_rfc3339_with_an_offset_is_rejected(stamp: str) -> None:
    assert codes(pushed(started_at=stamp)) == {("data.started_at", "invalid_timestamp")}


def test_a_malformed_hlc_is_rejected() -> None:
    record = pushed()
    record["hlc"] = "1763769600000-0-phone"

    assert codes(record) == {("hlc", "invalid_hlc")}


def test_a_negative_base_rev_is_rejected() -> None:
    record = pushed()
    record["base_rev"] = -1

    assert codes(record) == {("base_rev", "out_of_range")}


def test_every_error_of_a_record_is_reported_at_once() -> None:
    record = pushed(village="450225100299", patients_seen=900, services=["x"], notes=None)
    record["id"] = "not-a-uuid"

    assert codes(record) == {
        ("id", "invalid_uuid"),
        ("data.village", "unknown_village"),
        ("data.patients_seen", "out_of_range"),
        ("data.services[0]", "unknown_service"),
        ("data.notes", "invalid_type"),
    }


def test_errors_carry_a_plain_english_message() -> None:
    result = check(pushed(started_at="2026-11-22T10:11:00+08:00", ended_at=None))

    assert isinstance(result, Rejected)
    assert result.errors == (
        FieldError(
            "data.started_at",
            "in_future",
            "started_at is more than 10 minutes ahead of server time",
        ),
    )


def test_parse_rfc3339_keeps_the_offset() -> None:
    parsed = parse_rfc3339("2026-11-22T08:00:00.123456789-05:30")

    assert parsed is not None
    assert parsed.utcoffset() == -timedelta(hours=5, minutes=30)
    assert parsed.microsecond == 123456


def _parts_oracle(text: str) -> datetime | None:
    """RFC 3339 read field by field (the reader parse_rfc3339 had before it used fromisoformat)."""
    match = re.fullmatch(
        r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
        r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
        text,
        re.ASCII,
    )
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            timezone(offset),
        )  # fmt: skip
    except ValueError:
        return None


_DIGITS = st.text("0123456789", min_size=1, max_size=3)


@given(
    st.tuples(
        st.sampled_from(["2026", "2024", "0001", "9999", "202"]),
        st.sampled_from(["01", "02", "12", "13", "00"]),
        st.sampled_from(["01", "28", "29", "30", "31", "32"]),
        st.sampled_from(["T", "t", " "]),
        st.sampled_from(["00", "08", "23", "24"]),
        st.sampled_from(["00", "59", "60"]),
        st.sampled_from(["00", "59", "60", "61"]),
        st.one_of(st.just(""), _DIGITS.map(lambda d: "." + d), st.just(".123456789")),
        st.sampled_from(["Z", "z", "+08:00", "-05:30", "+23:59", "+24:00", "+05:60", "-00:00", ""]),
    )
)
def test_parse_rfc3339_reads_what_the_field_by_field_reader_reads(parts: tuple[str, ...]) -> None:
    year, month, day, sep, hour, minute, second, fraction, offset = parts
    text = f"{year}-{month}-{day}{sep}{hour}:{minute}:{second}{fraction}{offset}"

    parsed, expected = parse_rfc3339(text), _parts_oracle(text)

    assert parsed == expected
    assert (parsed is None) == (expected is None)
    if parsed is not None and expected is not None:
        assert parsed.utcoffset() == expected.utcoffset()
        assert parsed.microsecond == expected.microsecond


# --- checks that need stored state ----------------------------------------------------------


def test_a_visit_stored_as_another_doctors_is_refused() -> None:
    error = owner_error(OTHER_DOCTOR, DOCTOR)

    assert error is not None and (error.field, error.code) == ("id", "other_doctor")


def test_a_new_visit_or_the_doctors_own_visit_has_no_owner_error() -> None:
    assert owner_error(None, DOCTOR) is None
    assert owner_error(DOCTOR, DOCTOR) is None


@pytest.mark.parametrize(("stored_rev", "base_rev"), [(None, 1), (3, 4)])
def test_a_base_rev_the_server_never_issued_is_refused(
    stored_rev: int | None, base_rev: int
) -> None:
    error = base_rev_error(stored_rev, base_rev)

    assert error is not None and (error.field, error.code) == ("base_rev", "unknown_base_rev")


@pytest.mark.parametrize(("stored_rev", "base_rev"), [(None, 0), (3, 3), (3, 1), (3, 0)])
def test_a_base_rev_the_server_issued_or_zero_for_new_is_fine(
    stored_rev: int | None, base_rev: int
) -> None:
    assert base_rev_error(stored_rev, base_rev) is None


# --- flags ----------------------------------------------------------------------------------


def visit(
    start: datetime,
    end: datetime | None,
    *,
    id: str = VISIT_ID,
    village: str = "450225100201",
    kind: str = "duty",
    doctor: str = DOCTOR,
    deleted: bool = False,
    dismissed: bool = False,
) -> Visit:
    assert kind in ("duty", "patrol")
    return Visit(
        id,
        doctor,
        village,
        "duty" if kind == "duty" else "patrol",
        start,
        end,
        deleted=deleted,
        dismissed=dismissed,
    )


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


ROSTER = Assignment(
    "a-roster-1", DOCTOR, "450225100201", "roster", date(2026, 6, 1), date(2026, 11, 20)
)
PATROL = Assignment("a-patrol-1", DOCTOR, "450225100202", "patrol", date(2026, 11, 16), None)


def test_a_duty_visit_inside_a_roster_assignment_is_assigned() -> None:
    assert not is_unassigned(visit(at(20, 8), at(20, 17)), [ROSTER, PATROL])


def test_a_visit_without_any_assignment_is_unassigned() -> None:
    assert is_unassigned(visit(at(20, 8), at(20, 17)), [])


def test_a_duty_visit_under_a_patrol_assignment_is_unassigned() -> None:
    duty_at_patrol_village = visit(at(20, 8), at(20, 17), village="450225100202")

    assert is_unassigned(duty_at_patrol_village, [PATROL])


def test_a_patrol_visit_under_a_patrol_assignment_is_assigned() -> None:
    assert not is_unassigned(
        visit(at(20, 8), at(20, 12), village="450225100202", kind="patrol"), [PATROL]
    )


def test_another_doctors_assignment_does_not_cover_the_visit() -> None:
    assert is_unassigned(visit(at(20, 8), at(20, 17), doctor=OTHER_DOCTOR), [ROSTER])


def test_the_assignment_end_date_is_inclusive() -> None:
    assert not is_unassigned(visit(at(20, 8), at(20, 17)), [ROSTER])
    assert is_unassigned(visit(at(21, 8), at(21, 17)), [ROSTER])


def test_a_visit_crossing_midnight_belongs_to_its_start_date() -> None:
    night = visit(at(20, 22), at(21, 2))

    assert local_date(night.started_at) == date(2026, 11, 20)
    assert not is_unassigned(night, [ROSTER])


def test_the_visit_date_is_the_local_date_not_the_utc_date() -> None:
    # 17:30 UTC on Sunday 15 November is 01:30 on Monday 16 November in Guangxi.
    early = visit(
        datetime(2026, 11, 15, 17, 30, tzinfo=UTC),
        datetime(2026, 11, 15, 21, 30, tzinfo=UTC),
        village="450225100202",
        kind="patrol",
    )

    assert not is_unassigned(early, [PATROL])
    assert is_unassigned(early, [PATROL], tz="UTC")


OTHER_ID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
THIRD_ID = "f0e1d2c3-b4a5-4968-8776-655443322110"


def test_visits_at_two_villages_at_once_overlap_each_other() -> None:
    here = visit(at(20, 8), at(20, 12))
    there = visit(at(20, 11), at(20, 15), id=OTHER_ID, village="450225100202")

    assert overlapping_visits(here, [here, there]) == (OTHER_ID,)
    assert overlapping_visits(there, [here, there]) == (VISIT_ID,)


def test_all_overlapped_visits_are_returned_sorted() -> None:
    here = visit(at(20, 8), at(20, 17))
    others = [
        visit(at(20, 14), at(20, 15), id=THIRD_ID, village="450225100202"),
        visit(at(20, 9), at(20, 10), id=OTHER_ID, village="450225100202"),
    ]

    assert overlapping_visits(here, others) == (OTHER_ID, THIRD_ID)


def test_two_visits_at_the_same_village_do_not_overlap() -> None:
    here = visit(at(20, 8), at(20, 12))
    again = visit(at(20, 11), at(20, 15), id=OTHER_ID)

    assert overlapping_visits(here, [again]) == ()


def test_a_visit_ending_when_the_next_starts_does_not_overlap() -> None:
    here = visit(at(20, 8), at(20, 12))
    next_one = visit(at(20, 12), at(20, 15), id=OTHER_ID, village="450225100202")

    assert overlapping_visits(here, [next_one]) == ()


def test_another_doctors_visit_does_not_overlap() -> None:
    here = visit(at(20, 8), at(20, 12))
    colleague = visit(
        at(20, 9), at(20, 11), id=OTHER_ID, village="450225100202", doctor=OTHER_DOCTOR
    )

    assert overlapping_visits(here, [colleague]) == ()


def test_deleted_or_dismissed_visits_overlap_nothing() -> None:
    here = visit(at(20, 8), at(20, 12))
    deleted = visit(at(20, 9), at(20, 11), id=OTHER_ID, village="450225100202", deleted=True)
    dismissed = visit(at(20, 9), at(20, 11), id=THIRD_ID, village="450225100202", dismissed=True)

    assert overlapping_visits(here, [deleted, dismissed]) == ()
    assert overlapping_visits(deleted, [here]) == ()


def test_an_open_visit_starting_inside_another_village_visit_overlaps_it() -> None:
    closed = visit(at(20, 8), at(20, 12))
    opened = visit(at(20, 10), None, id=OTHER_ID, village="450225100202")

    assert overlapping_visits(opened, [closed]) == (VISIT_ID,)
    assert overlapping_visits(closed, [opened]) == (OTHER_ID,)


def test_an_open_visit_starting_with_another_village_visit_overlaps_it() -> None:
    closed = visit(at(20, 8), at(20, 12))
    opened = visit(at(20, 8), None, id=OTHER_ID, village="450225100202")

    assert overlapping_visits(opened, [closed]) == (VISIT_ID,)


def test_a_forgotten_check_out_does_not_overlap_later_visits() -> None:
    forgotten = visit(at(19, 8), None)
    next_day = visit(at(20, 8), at(20, 12), id=OTHER_ID, village="450225100202")

    assert overlapping_visits(next_day, [forgotten]) == ()
    assert overlapping_visits(forgotten, [next_day]) == ()


def test_two_open_visits_starting_at_the_same_moment_overlap() -> None:
    here = visit(at(20, 8), None)
    there = visit(at(20, 8), None, id=OTHER_ID, village="450225100202")

    assert overlapping_visits(here, [there]) == (OTHER_ID,)


def point_north(km: float) -> Location:
    assert VILLAGE.lat is not None and VILLAGE.lon is not None
    return Location(VILLAGE.lat + math.degrees(km / EARTH_RADIUS_KM), VILLAGE.lon, 10)


def test_a_check_in_exactly_three_km_from_the_village_is_not_flagged() -> None:
    location = point_north(3.0)

    assert distance_km(location.lat, location.lon, 25.0660, 109.2560) == pytest.approx(3.0)
    assert not is_far_from_village(location, VILLAGE)


def test_a_check_in_at_exactly_the_configured_distance_is_not_flagged() -> None:
    location = Location(25.0900, 109.2700)
    limit = distance_km(location.lat, location.lon, 25.0660, 109.2560)

    assert not is_far_from_village(location, VILLAGE, Policy(far_from_village_km=limit))


def test_a_check_in_three_km_and_ten_metres_away_is_flagged() -> None:
    assert is_far_from_village(point_north(3.01), VILLAGE)


def test_a_check_in_east_of_the_village_uses_great_circle_distance() -> None:
    # At 25° N a degree of longitude is about 100.9 km, so 0.03° is ~3.03 km.
    assert is_far_from_village(Location(25.0660, 109.2860), VILLAGE)
    assert not is_far_from_village(Location(25.0660, 109.2850), VILLAGE)


def test_no_far_flag_without_village_coordinates_or_location() -> None:
    assert not is_far_from_village(Location(22.8, 108.3), NEIGHBOUR)
    assert not is_far_from_village(None, VILLAGE)


def test_a_phone_exactly_ten_minutes_off_has_no_clock_skew() -> None:
    assert not has_clock_skew(NOW - timedelta(minutes=10), NOW)
    assert not has_clock_skew(NOW + timedelta(minutes=10), NOW)


def test_a_phone_more_than_ten_minutes_off_either_way_has_clock_skew() -> None:
    assert has_clock_skew(NOW + timedelta(minutes=10, seconds=1), NOW)
    assert has_clock_skew(NOW - timedelta(minutes=10, seconds=1), NOW)


def test_the_week_ends_sunday_24_00_local() -> None:
    assert week_end(at(16, 0)) == at(23, 0)
    assert week_end(at(22, 23, 59)) == at(23, 0)
    assert week_end(at(23, 0)) == at(30, 0)


def test_a_visit_received_exactly_seven_days_after_its_week_is_not_late() -> None:
    friday = visit(at(20, 8), at(20, 17))

    assert not is_late(friday, at(30, 0))


def test_a_visit_received_a_second_past_seven_days_after_its_week_is_late() -> None:
    friday = visit(at(20, 8), at(20, 17))

    assert is_late(friday, at(30, 0) + timedelta(seconds=1))


def test_utc_timestamps_at_a_week_boundary_use_the_local_week() -> None:
    # 16:30 UTC on Sunday 22 November is 00:30 on Monday 23 November in Guangxi: week W48.
    monday_local = visit(
        datetime(2026, 11, 22, 16, 30, tzinfo=UTC),
        datetime(2026, 11, 22, 22, 30, tzinfo=UTC),
    )
    # 15:59 UTC on Sunday is still Sunday 23:59 in Guangxi: week W47.
    sunday_local = visit(
        datetime(2026, 11, 22, 15, 59, tzinfo=UTC),
        datetime(2026, 11, 22, 17, 0, tzinfo=UTC),
    )
    received = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)

    assert week_end(monday_local.started_at) == at(30, 0)
    assert not is_late(monday_local, received)
    assert is_late(sunday_local, received)


def test_an_open_visit_is_not_flagged_on_its_own_day() -> None:
    assert not is_open(visit(at(22, 8), None), at(22, 23, 59))


def test_an_open_visit_is_flagged_once_its_local_date_has_ended() -> None:
    assert is_open(visit(at(22, 8), None), at(23, 0))


def test_a_closed_visit_is_never_open() -> None:
    assert not is_open(visit(at(20, 8), at(20, 17)), at(30, 0))


def test_open_uses_the_local_date_of_a_utc_start() -> None:
    # 17:00 UTC on Saturday 21 is 01:00 on Sunday 22 local: still open-but-today at 23:00 local.
    started = visit(datetime(2026, 11, 21, 17, 0, tzinfo=UTC), None)

    assert not is_open(started, at(22, 23))


def test_a_clean_visit_has_no_flags() -> None:
    friday = visit(at(20, 8), at(20, 17))

    flags = visit_flags(
        friday,
        village=VILLAGE,
        location=Location(25.0661, 109.2559, 8),
        assignments=[ROSTER],
        other_visits=[friday],
        now=at(20, 18),
        first_received_at=at(20, 17, 5),
        device_time=at(20, 17, 4),
        received_at=at(20, 17, 5),
    )

    assert flags == frozenset()


def test_visit_flags_combines_every_rule() -> None:
    saturday = visit(at(21, 8), None)  # after the roster ended, left open
    elsewhere = visit(at(21, 7), at(21, 9), id=OTHER_ID, village="450225100202", kind="patrol")

    flags = visit_flags(
        saturday,
        village=VILLAGE,
        location=Location(25.2, 109.2560),
        assignments=[ROSTER, PATROL],
        other_visits=[saturday, elsewhere],
        now=at(8, 9, month=12),
        first_received_at=at(8, 9, month=12),
        device_time=at(8, 8, month=12),
        received_at=at(8, 9, month=12),
    )

    assert flags == {"unassigned", "overlap", "far_from_village", "clock_skew", "late", "open"}


def test_clock_skew_is_left_out_when_recomputing_without_a_push() -> None:
    friday = visit(at(20, 8), at(20, 17))

    flags = visit_flags(
        friday,
        village=VILLAGE,
        location=None,
        assignments=[ROSTER],
        other_visits=[],
        now=at(20, 18),
        first_received_at=at(20, 17, 5),
    )

    assert "clock_skew" not in flags
