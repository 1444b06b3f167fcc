"""Every time the server writes (event envelopes, API fields, mail) is UTC with a `Z`, to the
microsecond, and reads back as the same instant."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from workroom.clock import isoformat, parse_iso, utc

ZONES = st.sampled_from([None, timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES))
def test_a_time_is_written_in_utc_with_a_z_and_reads_back_as_the_same_instant(value: datetime) -> None:
    text = isoformat(value)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", text), text
    assert parse_iso(text) == utc(value)
    assert ("." in text) == (value.microsecond != 0)  # a whole second carries no fraction


def test_the_written_form() -> None:
    assert isoformat(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)) == "2026-03-02T09:00:00Z"
    assert isoformat(datetime(2026, 3, 2, 11, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))) == \
        "2026-03-02T09:00:00.250000Z"
    assert isoformat(datetime(2026, 3, 2, 9, 0)) == "2026-03-02T09:00:00Z"  # naive (SQLite): already UTC
