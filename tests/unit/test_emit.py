"""The detectors' wording helpers (``facilitation_rules.detectors.emit``)."""

from hypothesis import given
from hypothesis import strategies as st

from facilitation_rules.detectors.emit import iso_time, utc
from facilitation_rules.event_codec import format_time, parse_time

# 1970 to 2100, at any microsecond a float can hold there
_TIMES = st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False, allow_infinity=False)


@given(_TIMES)
def test_iso_time_writes_a_time_as_the_contract_does(ts):
    assert iso_time(ts) == format_time(utc(ts))


def test_iso_time_drops_a_zero_fraction_and_ends_in_z():
    assert iso_time(parse_time("2024-03-01T09:30:00Z").timestamp()) == "2024-03-01T09:30:00Z"
    assert iso_time(1709285400.25) == "2024-03-01T09:30:00.250000Z"
