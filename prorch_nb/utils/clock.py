"""UTC timestamps as ISO-8601 strings, the form every record stores, and the engine's clock.

Always with microseconds (``2026-11-27T09:35:55.000000+00:00``): stored times have one
width, so they sort as text in time order. :func:`parse_time` reads them back, always
time-zone aware.

Every time the engine stamps or waits for comes from :func:`now` and every pause from
:func:`sleep`; :func:`use_clock` puts a :class:`FakeClock` in their place (tests and
notebooks that must not wait for real).
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone


class FakeClock:
    """A clock that moves only when told to (or when the engine sleeps on it).

    >>> clock = FakeClock("2026-11-30T09:00:00+00:00")
    >>> with use_clock(clock):
    ...     sleep(90)
    ...     utc_now()
    '2026-11-30T09:01:30.000000+00:00'
    """

    def __init__(self, start: str | datetime | float = "2026-01-01T00:00:00+00:00") -> None:
        self.time = start if isinstance(start, (int, float)) else as_datetime(start).timestamp()

    def advance(self, seconds: float | timedelta) -> None:
        """Move the clock ``seconds`` forward."""
        self.time += seconds.total_seconds() if isinstance(seconds, timedelta) else seconds


_fake: FakeClock | None = None


@contextlib.contextmanager
def use_clock(clock: FakeClock) -> Iterator[FakeClock]:
    """Make ``clock`` the engine's clock inside the block (this process, every thread)."""
    global _fake
    before, _fake = _fake, clock
    try:
        yield clock
    finally:
        _fake = before


def fake_clock() -> FakeClock | None:
    """The clock :func:`use_clock` installed, if any (a database's own clock is not asked then)."""
    return _fake


def now() -> float:
    """Seconds since the epoch, by the engine's clock."""
    return time.time() if _fake is None else _fake.time


def now_datetime() -> datetime:
    """The engine's clock as an aware UTC datetime."""
    return datetime.fromtimestamp(now(), timezone.utc)


def sleep(seconds: float) -> None:
    """Pause ``seconds``; a fake clock moves forward at once instead."""
    if seconds <= 0:
        return
    if _fake is None:
        time.sleep(seconds)
    else:
        _fake.advance(seconds)


def utc_now() -> str:
    """Return the current time in UTC, e.g. ``2026-11-27T09:35:55.123456+00:00``."""
    return utc_at(now())


def utc_at(timestamp: float) -> str:
    """The time ``timestamp`` (seconds since the epoch) in UTC, as :func:`utc_now` writes it.

    >>> utc_at(0.25)
    '1970-01-01T00:00:00.250000+00:00'
    """
    seconds, microseconds = divmod(round(timestamp * 1_000_000), 1_000_000)
    return f"{_whole_second(seconds)}.{microseconds:06d}+00:00"


@functools.lru_cache(maxsize=8)
def _whole_second(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a second (cached: records are stamped many times a second)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def parse_time(at: str | None) -> datetime | None:
    """A stored ISO-8601 time as an aware datetime (UTC if it names no zone); ``None`` if absent or unreadable.

    >>> parse_time("2026-11-27T09:35:55.250000+00:00")
    datetime.datetime(2026, 11, 27, 9, 35, 55, 250000, tzinfo=datetime.timezone.utc)
    >>> parse_time("2026-11-27T09:35:55").tzinfo, parse_time("yesterday"), parse_time(None)
    (datetime.timezone.utc, None, None)
    """
    if not at:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


#: A time as :func:`utc_at` writes it.
_STORED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00").fullmatch


def stored_time(value: object) -> str | None:
    """``value`` as :func:`utc_at` writes times (they sort as text), or ``None`` if it is not a readable time.

    >>> stored_time("2026-11-30T10:00:00+01:00"), stored_time("soon"), stored_time(None)
    ('2026-11-30T09:00:00.000000+00:00', None, None)
    """
    if type(value) is not str:
        return None
    if _STORED(value):
        return value
    moment = parse_time(value)
    return None if moment is None else utc_at(moment.timestamp())


def as_datetime(moment: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO-8601 text or a datetime (naive ones are taken as UTC).

    >>> as_datetime("2026-11-30T10:00:00+01:00").isoformat()
    '2026-11-30T09:00:00+00:00'
    """
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if not isinstance(value, datetime):
        raise TypeError(f"expected an ISO-8601 time or a datetime, got {type(moment).__name__}")
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
