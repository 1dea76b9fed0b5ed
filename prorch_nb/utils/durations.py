"""Durations for people, written the same way in notebooks and in the terminal.

>>> [format_duration(s) for s in (0.000252, 0.25, 4.5, 75, 3 * 3600 + 120, 2 * 86400 + 3600)]
['0.252 ms', '250 ms', '4.50 s', '1 min 15 s', '3 h 2 min', '2 d 1 h']
>>> duration_between("2026-11-27T09:00:00+00:00", "2026-11-27T09:01:15+00:00"), duration_between(None, None)
('1 min 15 s', '-')
"""

from __future__ import annotations

from prorch_nb.utils.clock import parse_time

#: What a duration that cannot be known (no start, no end) reads as.
UNKNOWN = "-"


def format_duration(seconds: float) -> str:
    """``seconds`` in the unit that suits it: ``250 ms``, ``4.50 s``, ``1 min 15 s``, ``3 h 2 min``, ``2 d 1 h``."""
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def duration_between(start: str | None, end: str | None) -> str:
    """The time from the stored time ``start`` to ``end``, or :data:`UNKNOWN` if either is missing."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return UNKNOWN
    return format_duration((last - first).total_seconds())
