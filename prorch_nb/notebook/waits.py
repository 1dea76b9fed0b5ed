"""What a step's schedule says, for people: its attempts, what it waits for and until when, its deadline, its errors.

Read from the step's record, and for the attempts a step may make from the ``retry`` of
the step class registered under its name (a class not registered in this process counts
its attempts without a limit). Times are written as the views write them, in UTC,
without the date on the day of ``now``.

>>> from prorch_nb.dataclasses.pipeline import PipelineData
>>> from prorch_nb.dataclasses.step import StepData
>>> from prorch_nb.utils.clock import as_datetime
>>> run = PipelineData(uuid="p", name="Upload", status="pending")
>>> step = StepData(uuid="s", name="Unregistered", pipeline_uuid="p", status="pending", attempts=2,
...                 on_start_done=False, due_at="2026-11-30T09:00:40.000000+00:00",
...                 deadline="2026-12-01T09:00:00.000000+00:00")
>>> schedule_lines(run, step, as_datetime("2026-11-30T09:00:10+00:00"))
['attempt 2', 'retry at 09:00:40 UTC', 'timeout 2026-12-01 09:00:00 UTC']
>>> error_line({"type": "StepTimeoutError", "message": "still pending at its deadline"})
'timed out: StepTimeoutError: still pending at its deadline'
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prorch_nb import registry
from prorch_nb.exceptions.exceptions import StepTimeoutError
from prorch_nb.lifecycle import BY_RETRY
from prorch_nb.notebook.text import format_time, short_time
from prorch_nb.schedule import woken
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData

#: What a waiting step waits for: the next attempt after a hook raised, or the end of a ``wait()``.
RETRY, TIMER = "retry", "timer"
#: What a run waits for when its step's deadline comes before the end of its wait.
DEADLINE = "deadline"
#: The error type of a step still pending at its deadline.
TIMED_OUT = StepTimeoutError.__name__
#: Longest error message shown in a line.
MAX_MESSAGE = 300


def max_attempts(step: StepData) -> int | None:
    """How many attempts the step's registered class allows (``None``: no ``retry``, or not registered)."""
    retry = getattr(registry.STEPS.get(step.name), "retry", None)
    return getattr(retry, "max_attempts", None)


def attempt_label(number: int, allowed: int | None) -> str:
    """``attempt 2/3``, or ``attempt 2`` when the number allowed is not known."""
    return f"attempt {number}/{allowed}" if allowed else f"attempt {number}"


def attempts_text(step: StepData) -> str | None:
    """``attempt 2/3`` for a started step whose class retries; ``attempt 2`` for another that began more than once."""
    count, allowed = step.attempts or 0, max_attempts(step)
    if count and (allowed or count > 1):
        return attempt_label(count, allowed)
    return None


def waits_for(step: StepData) -> str | None:
    """:data:`RETRY` or :data:`TIMER` for a pending step with a time it waits for; ``None`` for others."""
    if step.status != Status.PENDING or not step.due_at:
        return None
    return RETRY if step.on_start_done is False else TIMER


def wait_text(run: PipelineData, step: StepData, now: datetime) -> str | None:
    """``retry at 09:00:40 UTC``, ``waits until 10:00:00 UTC`` or ``woken by a signal`` (for ``run``'s next tick).

    ``None`` for a step that waits for no time.
    """
    kind = waits_for(step)
    if kind is None:
        return None
    if woken(run, step):
        return "woken by a signal"
    return f"{'retry at' if kind == RETRY else 'waits until'} {short_time(step.due_at, now)}"


def deadline_text(step: StepData, now: datetime) -> str | None:
    """``timeout 11:00:00 UTC`` for a pending step with a deadline."""
    if step.status != Status.PENDING or not step.deadline:
        return None
    return f"timeout {short_time(step.deadline, now)}"


def schedule_lines(run: PipelineData, step: StepData, now: datetime) -> list[str]:
    """What ``run``'s ``step`` has of its attempts, the time it waits for and its deadline."""
    return [line for line in (attempts_text(step), wait_text(run, step, now), deadline_text(step, now)) if line]


def shortened(message: Any) -> str:
    """``message`` as text, at most :data:`MAX_MESSAGE` characters."""
    text = str(message)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def error_text(error: dict[str, Any]) -> str:
    """``ValueError: disk full``: an error's type and (shortened) message."""
    return f"{error.get('type', 'Exception')}: {shortened(error.get('message', ''))}"


def error_line(error: dict[str, Any]) -> str:
    """An error as a line: ``error in on_start: ...``, ``timed out: StepTimeoutError: ...``, or ``error: ...``."""
    if error.get("type") == TIMED_OUT and "hook" not in error:
        return f"timed out: {error_text(error)}"
    hook = error.get("hook")
    return f"error in {hook}: {error_text(error)}" if hook else f"error: {error_text(error)}"


def failure_title(step: StepData) -> str:
    """How a step's error box is titled: ``Upload failed in on_start``, ``Upload timed out``, ``Upload failed``."""
    error = step.error or {}
    if error.get("type") == TIMED_OUT and "hook" not in error:
        return f"{step.name} timed out"
    return f"{step.name} failed in {error['hook']}" if error.get("hook") else f"{step.name} failed"


def attempt_errors(step: StepData) -> list[str]:
    """``attempt 1/3: ConnectionError: refused`` for each attempt that was followed by another, in order."""
    allowed = max_attempts(step)
    lines = []
    for entry in step.history:
        if entry.get("by") != BY_RETRY:
            continue
        error = entry.get("error")
        what = error_text(error) if isinstance(error, dict) else "began and never ended (its worker stopped)"
        lines.append(f"{attempt_label(entry.get('attempt', '?'), allowed)}: {what}")
    return lines


def resumed_lines(step: StepData) -> list[str]:
    """``resumed 2026-11-30 09:00:00 UTC after OSError: disk full (note: ...)`` for each resume of the step.

    A resume is an entry into ``pending`` by hand right after one into an ended status.
    """
    lines = []
    for before, entry in itertools.pairwise(step.history):
        if not (before.get("status") in Status.ENDED and entry.get("status") == Status.PENDING):
            continue
        ended_by = entry.get("resumed_from")
        after = f" after {error_text(ended_by)}" if isinstance(ended_by, dict) else ""
        note = f" (note: {entry['note']})" if entry.get("note") else ""
        lines.append(f"resumed {format_time(entry.get('at'))}{after}{note}")
    return lines


def due_reason(run_due_at: str | None, step: StepData) -> str | None:
    """What a run due at ``run_due_at`` waits for on its open ``step``: :data:`RETRY`, :data:`TIMER`, :data:`DEADLINE`.

    A run is due at the earlier of its step's wait and deadline (the deadline when both are one time).
    """
    if run_due_at is not None and step.status == Status.PENDING and run_due_at == step.deadline:
        return DEADLINE
    return waits_for(step)
