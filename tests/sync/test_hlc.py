"""The hybrid logical clock of SPEC §6."""

from __future__ import annotations

import pytest

from sync.hlc import HybridClock, InvalidHlc, format_hlc, hlc_after, is_valid_hlc, parse_hlc

DEVICE = "5f0c2a7e-3b1d-4c9a-8e21-6d7b9f0a1c34"


class FakeWall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_the_spec_example_parses_into_milliseconds_counter_and_node() -> None:
    text = f"001763769600000-00000-{DEVICE}"

    parsed = parse_hlc(text)

    assert (parsed.wall_ms, parsed.counter, parsed.node) == (1763769600000, 0, DEVICE)
    assert str(parsed) == text


def test_a_node_id_may_contain_dashes() -> None:
    parsed = parse_hlc("001763769600000-00042-phone-of-wei")

    assert (parsed.counter, parsed.node) == (42, "phone-of-wei")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1763769600000-00000-dev",  # 13 digits of ms
        "001763769600000-0000-dev",  # 4-digit counter
        "001763769600000-00000-",  # no node
        "001763769600000-00000-dev ice",  # a space in the node
        "001763769600000-00000-韦医生",  # not ASCII
        "００1763769600000-00000-dev",  # full-width digits are not digits here
        "001763769600000_00000_dev",
    ],
)
def test_a_malformed_hlc_is_refused_with_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidHlc, match="hybrid logical clock"):
        parse_hlc(text)

    assert not is_valid_hlc(text)


def test_a_non_string_is_not_a_valid_hlc() -> None:
    assert not is_valid_hlc(1763769600000)


def test_formatting_a_counter_beyond_five_digits_is_refused() -> None:
    with pytest.raises(InvalidHlc):
        format_hlc(1763769600000, 100_000, "dev")


def test_plain_string_comparison_orders_by_time_then_counter_then_node() -> None:
    earlier = format_hlc(1763769600000, 99, "zzz")
    later_counter = format_hlc(1763769600000, 100, "aaa")
    later_ms = format_hlc(1763769600001, 0, "aaa")

    assert hlc_after(later_counter, earlier)
    assert hlc_after(later_ms, later_counter)
    assert hlc_after(format_hlc(1, 0, "b"), format_hlc(1, 0, "a"))
    assert not hlc_after(earlier, earlier)


def test_ticks_follow_the_wall_clock_and_count_within_one_millisecond() -> None:
    wall = FakeWall(1763769600000)
    clock = HybridClock(DEVICE, wall)

    first, second = clock.tick(), clock.tick()
    wall.ms += 5
    third = clock.tick()

    assert first == f"001763769600000-00000-{DEVICE}"
    assert second == f"001763769600000-00001-{DEVICE}"
    assert third == f"001763769600005-00000-{DEVICE}"


def test_a_wall_clock_set_back_never_makes_an_earlier_hlc() -> None:
    wall = FakeWall(1763769600000)
    clock = HybridClock(DEVICE, wall)
    before = clock.tick()

    wall.ms -= 3_600_000
    after = clock.tick()

    assert hlc_after(after, before)


def test_a_restored_clock_never_goes_back_after_a_restart() -> None:
    saved = format_hlc(1763769600000, 4, DEVICE)
    clock = HybridClock(DEVICE, FakeWall(1763769000000), last=saved)

    assert clock.tick() == format_hlc(1763769600000, 5, DEVICE)


def test_receiving_a_later_hlc_moves_the_clock_past_it() -> None:
    clock = HybridClock("phone-b", FakeWall(1763769600000))
    pulled = format_hlc(1763769700000, 7, "phone-a")

    received = clock.receive(pulled)
    next_tick = clock.tick()

    assert received == format_hlc(1763769700000, 8, "phone-b")
    assert hlc_after(received, pulled)
    assert hlc_after(next_tick, received)


def test_receiving_an_older_hlc_still_advances_the_clock() -> None:
    clock = HybridClock("phone-b", FakeWall(1763769600000))
    before = clock.tick()

    after = clock.receive(format_hlc(1763769500000, 3, "phone-a"))

    assert hlc_after(after, before)


def test_receiving_an_hlc_of_the_same_millisecond_counts_past_both() -> None:
    clock = HybridClock("phone-b", FakeWall(1763769600000))
    clock.tick()
    clock.tick()

    after = clock.receive(format_hlc(1763769600000, 9, "phone-a"))

    assert after == format_hlc(1763769600000, 10, "phone-b")


def test_a_full_counter_borrows_the_next_millisecond() -> None:
    clock = HybridClock("phone-b", FakeWall(1763769600000))

    after = clock.receive(format_hlc(1763769600000, 99_999, "phone-a"))

    assert after == format_hlc(1763769600001, 0, "phone-b")


def test_a_clock_with_a_malformed_node_id_cannot_be_made() -> None:
    with pytest.raises(InvalidHlc):
        HybridClock("phone b")
