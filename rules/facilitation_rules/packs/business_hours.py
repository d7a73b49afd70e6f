"""Business-hours calendar: when an SLA clock runs.

A post made on Friday evening with a 24 business-hour SLA is due on Wednesday, not
Saturday: the clock runs only on working days, inside working hours, in the course team's
time zone, and not on holidays. Times in and out are UTC epoch seconds (floats), the unit
the engine's hot path uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS_SCANNED = 3660  # ten years without a working hour means a broken calendar


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working days and hours in a time zone; ``always`` (24/7) when ``enabled`` is false."""

    enabled: bool = False
    timezone: str = "UTC"
    working_days: frozenset[int] = frozenset(range(5))  # Monday=0, as date.weekday()
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.enabled and self.start >= self.end:
            raise ValueError("calendar: working hours must end after they start")
        if self.enabled and not self.working_days:
            raise ValueError("calendar: at least one working day is needed")

    def add(self, start_ts: float, seconds: float) -> float:
        """The UTC time at which ``seconds`` of business time have elapsed after ``start_ts``."""
        if not self.enabled:
            return start_ts + seconds
        zone = ZoneInfo(self.timezone)
        day = datetime.fromtimestamp(start_ts, UTC).astimezone(zone).date()
        remaining = seconds
        for _ in range(_MAX_DAYS_SCANNED):
            if day.weekday() in self.working_days and day not in self.holidays:
                open_ts = datetime.combine(day, self.start, zone).timestamp()
                close_ts = datetime.combine(day, self.end, zone).timestamp()
                begin = max(open_ts, start_ts)
                if begin < close_ts:
                    available = close_ts - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("calendar: no working time found within ten years")
