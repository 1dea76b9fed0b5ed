"""UTC timestamps as ISO-8601 strings, the form every record stores.

Always with microseconds (``2026-11-27T09:35:55.000000+00:00``): stored times have one
width, so they sort as text in time order. :func:`parse_time` reads them back, always
time-zone aware.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone


def utc_now() -> str:
    """Return the current time in UTC, e.g. ``2026-11-27T09:35:55.123456+00:00``."""
    return utc_at(time.time())


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
