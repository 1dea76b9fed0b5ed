"""What a diagram's node tells on hover: a step's place, status, times, note and error."""

from __future__ import annotations

from datetime import datetime, timezone

from prorch_nb.dataclasses.step import StepData
from prorch_nb.notebook.text import format_time
from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.constants import Status
from prorch_nb.utils.durations import duration_between, format_duration
from prorch_nb.utils.history import ended_entry, started_at

#: Longest error message shown in a tooltip.
MAX_MESSAGE = 300


def step_tooltip(step: StepData, index: int, count: int, *, run_ended: bool) -> str:
    """Lines about step ``index`` (from 0) of ``count``: place, name and status, start, end, duration, note, error."""
    lines = [f"{index + 1}/{count} {step.name}: {step.status}"]
    if run_ended and step.status == Status.CREATED:
        lines.append("never reached: the run ended first")
    start, end = started_at(step.history), ended_entry(step.history)
    if start:
        lines.append(f"started {format_time(start)}")
    if end:
        lines.append(f"ended {format_time(end.get('at'))}")
        if end.get("note"):
            lines.append(f"note: {end['note']}")
    begin = parse_time(start)
    if begin and end:
        lines.append(f"took {duration_between(start, end.get('at'))}")
    elif begin and step.status == Status.PENDING:
        lines.append(f"running for {format_duration((datetime.now(timezone.utc) - begin).total_seconds())}")
    if step.error:
        error = step.error
        message = str(error.get("message", ""))
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        lines.append(f"error in {error.get('hook', 'a hook')}: {error.get('type', 'Exception')}: {message}")
    return "\n".join(lines)
