"""When a step may run: retries with backoff, timeouts, timers and the signals that wake them.

A step class declares ``retry = Retry(...)`` and ``timeout = 600`` (seconds or a
``timedelta``); a hook calls ``self.wait(...)``. What they decide is stored on the step
record: ``attempts`` (how many times ``on_start`` began), ``due_at`` (not before this
time: the next attempt, or the end of a wait), ``waiting_since`` (when the tick that
began the wait started: a signal sent after it wakes the wait) and ``deadline`` (start
plus timeout). The run keeps ``due_at``, the earliest of its open step's, so a pass skips
runs that are not due without reading them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prorch_nb.utils.clock import as_datetime, parse_time, stored_time, utc_at
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData


@dataclass(frozen=True)
class Retry:
    """How a step is tried again after a hook raises.

    Attempt ``n`` that raised is followed by attempt ``n + 1`` after
    ``interval * backoff ** (n - 1)`` seconds, at most ``max_interval`` (default 100 times
    ``interval``), until ``max_attempts`` attempts have been made. ``retry_if(exc)``, if
    given, says which exceptions are worth another attempt; the others fail the step at once.

    >>> retry = Retry(max_attempts=4, interval=1.0, backoff=2.0, max_interval=3)
    >>> [retry.delay(n) for n in (1, 2, 3)]
    [1.0, 2.0, 3.0]
    """

    max_attempts: int = 3
    interval: float = 1.0
    backoff: float = 2.0
    max_interval: float | None = None
    retry_if: Callable[[Exception], bool] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError(f"Retry: max_attempts must be a whole number >= 1, got {self.max_attempts!r}")
        for name, least in (("interval", 0.0), ("backoff", 1.0), ("max_interval", 0.0)):
            value = getattr(self, name)
            if value is None and name == "max_interval":
                continue
            if not _finite_number(value) or value < least:
                raise ValueError(f"Retry: {name} must be a finite number >= {least:g}, got {value!r}")
        if self.retry_if is not None and not callable(self.retry_if):
            raise TypeError(f"Retry: retry_if must be callable, got {type(self.retry_if).__name__}")

    def delay(self, attempt: int) -> float:
        """Seconds between attempt ``attempt`` (which raised) and the next."""
        cap = 100 * self.interval if self.max_interval is None else self.max_interval
        try:
            wanted = self.interval * self.backoff ** (attempt - 1)
        except OverflowError:
            wanted = math.inf
        return float(min(wanted, cap))

    def retries(self, attempt: int, exc: Exception) -> bool:
        """Whether attempt ``attempt``, which raised ``exc``, is followed by another."""
        return attempt < self.max_attempts and (self.retry_if is None or bool(self.retry_if(exc)))


def seconds_of(value: Any, what: str) -> float | None:
    """A duration in seconds from a number or a ``timedelta`` (``None`` stays ``None``); refuses others by ``what``."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if not _finite_number(seconds) or seconds <= 0:
        raise ValueError(f"{what} must be a positive number of seconds or a timedelta, got {value!r}")
    return float(seconds)


def wake_time(now: datetime, seconds: float | timedelta | None, until: str | datetime | None) -> str:
    """The stored time a wait ends: ``seconds`` after ``now``, or ``until``, whichever is later."""
    if seconds is None and until is None:
        raise TypeError("wait() needs seconds=... or until=...")
    moments = [now.timestamp()]
    if seconds is not None:
        delay = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        if not _finite_number(delay) or delay < 0:
            raise ValueError(f"wait(seconds=...) must be a number >= 0 or a timedelta, got {seconds!r}")
        moments.append(now.timestamp() + delay)
    if until is not None:
        try:
            moments.append(as_datetime(until).timestamp())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"wait(until=...) must be an ISO-8601 time or a datetime, got {until!r}") from exc
    if max(moments) >= _LAST_STORABLE:
        raise ValueError(f"wait() ends after the year 9999 (seconds={seconds!r}, until={until!r})")
    return utc_at(max(moments))


def later(now: datetime, seconds: float) -> str:
    """The stored time ``seconds`` after ``now``."""
    return utc_at(now.timestamp() + seconds)


def woken(run: PipelineData, step: StepData) -> bool:
    """Whether a signal reached the run after the step began to wait (``waiting_since``)."""
    signaled, since = parse_time(run.signaled_at), parse_time(step.waiting_since)
    return signaled is not None and since is not None and signaled >= since


def woken_in_time(run: PipelineData, step: StepData) -> bool:
    """Whether a signal woke the step's wait before its deadline: the step runs once more before it can time out."""
    signaled, deadline = parse_time(run.signaled_at), parse_time(step.deadline)
    return woken(run, step) and signaled is not None and deadline is not None and signaled < deadline


def waiting(run: PipelineData, step: StepData, now: datetime) -> bool:
    """Whether the step must not run yet: its ``due_at`` is later than ``now`` and no signal woke it.

    A ``due_at`` that is no readable time (a record written by hand) holds nothing back.
    """
    due = parse_time(step.due_at)
    return due is not None and due > now and not woken(run, step)


def run_due_at(run: PipelineData, step: StepData) -> str | None:
    """When the run is next due for its open step ``step``: its wait's end or its deadline, whichever is first.

    ``None`` (due at every pass) when the step does not wait (it polls ``on_continue``), has
    ended, or a signal woke its wait.
    """
    due = stored_time(step.due_at)
    if due is None or step.status in Status.ENDED or woken(run, step):
        return None
    deadline = stored_time(step.deadline)
    return due if deadline is None else min(due, deadline)


#: Seconds since the epoch of 9999-12-31T00:00:00Z: a later time cannot be stored as ISO-8601.
_LAST_STORABLE = 253402214400.0


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
