"""What a diagram's node tells on hover: a step's place, status, times, schedule, note and errors."""

from __future__ import annotations

from datetime import datetime

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.notebook.text import format_time
from prorch_nb.notebook.waits import attempt_errors, error_line, resumed_lines, schedule_lines
from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.constants import Status
from prorch_nb.utils.durations import duration_between, format_duration
from prorch_nb.utils.history import ended_entry, started_at


def step_tooltip(run: PipelineData, step: StepData, index: int, count: int, *, now: datetime) -> str:
    """Lines about step ``index`` (from 0) of the ``count`` of ``run``, at ``now``.

    Its place, name and status; start, end, duration and note; its resumes; the errors of
    attempts another one followed; its attempts, the time it waits for and its deadline;
    the error that failed it.
    """
    lines = [f"{index + 1}/{count} {step.name}: {step.status}"]
    if run.status in Status.ENDED and step.status == Status.CREATED:
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
        lines.append(f"running for {format_duration((now - begin).total_seconds())}")
    lines += resumed_lines(step) + attempt_errors(step) + schedule_lines(run, step, now)
    if step.error:
        lines.append(error_line(step.error))
    return "\n".join(lines)
