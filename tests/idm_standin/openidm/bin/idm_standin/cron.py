"""Quartz-style cron expressions for the IDM stand-in (test double) scheduler.

Fields: seconds minutes hours day-of-month month day-of-week [year], evaluated in UTC. Supported:
``*``, numbers, lists, ranges, ``a/b`` and ``*/b`` steps, month and weekday names, and ``?`` in
one of the two day fields (Quartz refuses an expression where neither day field is ``?``).
Not supported (refused with a clear error): ``L``, ``W``, ``#``.
"""

from __future__ import annotations

import bisect
import datetime

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
UTC = datetime.UTC


class CronError(ValueError):
    pass


def _value(token: str, low: int, high: int, names: list[str] | None, field: str) -> int:
    token = token.strip().upper()
    if names and token in names:
        return names.index(token) + low
    if not token.isdigit():
        raise CronError(f"{field}: {token!r} is not supported by the IDM stand-in (test double)")
    value = int(token)
    if not low <= value <= high:
        raise CronError(f"{field}: {value} is outside {low}-{high}")
    return value


def _parse_field(text: str, low: int, high: int, field: str, names=None) -> list[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{field}: empty list element in {text!r}")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, low, high, names, field), _value(b, low, high, names, field)
            if start > end:
                raise CronError(f"{field}: range {base!r} runs backwards")
        else:
            start = _value(base, low, high, names, field)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return sorted(values)


class CronExpression:
    def __init__(self, text: str):
        fields = text.split()
        if len(fields) not in (6, 7):
            raise CronError(
                f"{text!r}: a Quartz cron expression has 6 or 7 fields "
                "(seconds minutes hours day-of-month month day-of-week [year])"
            )
        self.text = text
        for index, name in ((0, "seconds"), (1, "minutes"), (2, "hours"), (4, "month")):
            if fields[index] == "?":
                raise CronError(f"{name}: '?' is only allowed in the day fields")
        self.seconds = _parse_field(fields[0], 0, 59, "seconds")
        self.minutes = _parse_field(fields[1], 0, 59, "minutes")
        self.hours = _parse_field(fields[2], 0, 23, "hours")
        self.months = set(_parse_field(fields[4], 1, 12, "month", _MONTHS))
        dom, dow = fields[3], fields[5]
        if (dom == "?") == (dow == "?"):
            raise CronError(
                f"{text!r}: exactly one of day-of-month and day-of-week must be '?' (Quartz)"
            )
        self.dom = None if dom == "?" else set(_parse_field(dom, 1, 31, "day-of-month"))
        self.dow = None if dow == "?" else set(_parse_field(dow, 1, 7, "day-of-week", _DAYS))
        self.years = set(_parse_field(fields[6], 1970, 2199, "year")) if len(fields) == 7 else None

    def _day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.dom is not None and day.day not in self.dom:
            return False
        quartz_dow = (day.weekday() + 1) % 7 + 1  # Quartz: 1 = Sunday ... 7 = Saturday
        return self.dow is None or quartz_dow in self.dow

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first fire time strictly after ``moment`` (timezone-aware, UTC)."""
        moment = moment.astimezone(UTC).replace(microsecond=0) + datetime.timedelta(seconds=1)
        day = moment.date()
        first = (moment.hour, moment.minute, moment.second)
        for _ in range(366 * 5):
            if self._day_matches(day):
                found = self._time_in_day(first)
                if found is not None:
                    return datetime.datetime(day.year, day.month, day.day, *found, tzinfo=UTC)
            day += datetime.timedelta(days=1)
            first = (0, 0, 0)
        raise CronError(f"{self.text!r} does not fire within five years")

    def _time_in_day(self, first: tuple[int, int, int]) -> tuple[int, int, int] | None:
        h0, m0, s0 = first
        for hour in self.hours[bisect.bisect_left(self.hours, h0) :]:
            m_start = m0 if hour == h0 else 0
            for minute in self.minutes[bisect.bisect_left(self.minutes, m_start) :]:
                s_start = s0 if (hour, minute) == (h0, m0) else 0
                index = bisect.bisect_left(self.seconds, s_start)
                if index < len(self.seconds):
                    return hour, minute, self.seconds[index]
        return None
