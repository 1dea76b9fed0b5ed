"""When a step started and ended, from its status history, as short readable text.

>>> format_duration(0.25), format_duration(75), format_duration(3 * 3600 + 120)
('0.25 s', '1 min 15 s', '3 h 2 min')
>>> format_time("2026-11-27T09:43:38.123456+00:00")
'2026-11-27 09:43:38 UTC'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from prorch_nb.dataclasses.step import StepData
from prorch_nb.utils.constants import Status

#: Longest error message shown in a tooltip.
MAX_MESSAGE = 300


def started_at(history: list[dict[str, Any]]) -> str | None:
    """Time of the first entry into ``pending``."""
    return next((entry.get("at") for entry in history if entry.get("status") == Status.PENDING), None)


def ended_entry(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first entry into an ended status."""
    return next((entry for entry in history if entry.get("status") in Status.ENDED), None)


def format_time(at: str | None) -> str:
    """An ISO-8601 time as ``YYYY-MM-DD HH:MM:SS UTC`` (unparsable text is returned as is)."""
    moment = _parse(at)
    if moment is None:
        return at or "—"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: float) -> str:
    """A duration for people: ``0.25 s``, ``42 s``, ``1 min 15 s``, ``3 h 2 min``, ``2 d 1 h``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def step_tooltip(step: StepData, index: int, count: int) -> str:
    """Lines about one step: name and status, start, end, duration, note and error."""
    lines = [f"{index + 1}/{count} {step.name}: {step.status}"]
    start, end = started_at(step.history), ended_entry(step.history)
    if start:
        lines.append(f"started {format_time(start)}")
    if end:
        lines.append(f"ended {format_time(end.get('at'))}")
        if end.get("note"):
            lines.append(f"note: {end['note']}")
    begin, finish = _parse(start), _parse(end.get("at") if end else None)
    if begin and finish:
        lines.append(f"took {format_duration((finish - begin).total_seconds())}")
    elif begin and step.status == Status.PENDING:
        lines.append(f"running for {format_duration((datetime.now(timezone.utc) - begin).total_seconds())}")
    if step.error:
        error = step.error
        message = str(error.get("message", ""))
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        lines.append(f"error in {error.get('hook', 'a hook')}: {error.get('type', 'Exception')}: {message}")
    return "\n".join(lines)


def _parse(at: str | None) -> datetime | None:
    if not at:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
