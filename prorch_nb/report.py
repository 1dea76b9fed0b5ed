"""What ticks did: one line per pipeline ticked, gathered per orchestrator pass and run."""

from __future__ import annotations

from dataclasses import dataclass, field

from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid


@dataclass(frozen=True, slots=True)
class TickOutcome:
    """What one tick did to one pipeline."""

    pipeline_uuid: str
    pipeline_name: str
    pipeline_before: str
    pipeline_after: str
    step_name: str | None = None
    step_uuid: str | None = None
    step_before: str | None = None
    step_after: str | None = None
    error: str | None = None
    busy: bool = False
    conflict: bool = False
    #: When the step waits until (a timer, or a retry's next attempt); ``None`` if it does not wait.
    due_at: str | None = None

    @property
    def changed(self) -> bool:
        """Whether any status changed."""
        return self.pipeline_before != self.pipeline_after or self.step_before != self.step_after

    @property
    def ended(self) -> bool:
        """Whether the pipeline reached an ended status on this tick."""
        return self.pipeline_after in Status.ENDED and self.pipeline_before not in Status.ENDED

    @property
    def action(self) -> str:
        """A short verb phrase: what the tick did."""
        if self.ended:
            return f"ended {self.pipeline_after}"
        if self.busy:
            return "skipped: its step is claimed by another worker"
        if self.step_name is None:
            return f"not due until {self.due_at}" if self.due_at else "nothing to do"
        verb = "started" if self.step_before == Status.CREATED else "continued"
        result = f" -> {self.step_after}" if self.step_after != Status.PENDING else " (waiting)"
        if self.step_after == Status.PENDING and self.due_at:
            result = f" (waiting until {self.due_at})"
        conflict = " (changed meanwhile by someone else; kept theirs)" if self.conflict else ""
        return f"{verb} {self.step_name}{result}{conflict}"

    def __str__(self) -> str:
        line = f"{self.pipeline_name} {short_uuid(self.pipeline_uuid)}: {self.action}"
        return f"{line}\n    error: {self.error}" if self.error else line


@dataclass(frozen=True, slots=True)
class TickError:
    """A pipeline the orchestrator could not tick, and why."""

    pipeline_uuid: str
    pipeline_name: str
    message: str
    exception: BaseException = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.pipeline_name} {short_uuid(self.pipeline_uuid)}: {self.message}"


@dataclass
class TickReport:
    """One ``Orchestrator.execute_pipelines()`` pass."""

    outcomes: list[TickOutcome] = field(default_factory=list)
    errors: list[TickError] = field(default_factory=list)
    #: Uuids of pending runs this pass left to the other workers that hold them.
    held: list[str] = field(default_factory=list)

    @property
    def advanced(self) -> list[TickOutcome]:
        """Pipelines that moved on without ending."""
        return [o for o in self.outcomes if o.changed and not o.ended]

    @property
    def ended(self) -> list[TickOutcome]:
        """Pipelines that ended on this pass (finished, failed or cancelled)."""
        return [o for o in self.outcomes if o.ended]

    @property
    def failed(self) -> list[TickOutcome]:
        """Pipelines whose step failed on this pass."""
        return [o for o in self.outcomes if o.step_after == Status.FAILED and o.step_before != Status.FAILED]

    @property
    def changed(self) -> bool:
        """Whether this pass changed any status."""
        return any(o.changed for o in self.outcomes)

    def __repr__(self) -> str:
        return (
            f"<TickReport: {len(self.outcomes)} ticked, {len(self.advanced)} advanced, "
            f"{len(self.ended)} ended, {len(self.failed)} failed, {plural(len(self.errors), 'error')}>"
        )

    def __str__(self) -> str:
        lines = [repr(self)] + [f"  {o}" for o in self.outcomes] + [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


class StopReason:
    """Why :meth:`~prorch_nb.orchestrator.orchestrator.Orchestrator.run_until_done` stopped.

    Compare :attr:`RunReport.stopped_because` with these; each reads after "stopped
    because" or "stopped:".

    >>> print(f"stopped because {StopReason.WAITING}")
    stopped because a whole pass changed nothing (pending steps are waiting)
    """

    #: No run is left pending: every run it could reach has ended (or is ``created``).
    NOTHING_PENDING = "no pipeline is pending"
    #: A pass changed no status and reported no error: the pending steps wait for the outside world
    #: (or for a time: ``RunReport.next_due`` says when the first is due).
    WAITING = "a whole pass changed nothing (pending steps are waiting)"
    #: A pass changed no status and some runs could not be ticked: see the report's errors.
    ERRORS = "a whole pass changed nothing and reported errors"
    #: It made the ``max_ticks`` passes it was allowed.
    MAX_TICKS = "it made max_ticks passes"
    #: ``should_stop()`` said so (a Stop button, a signal).
    REQUESTED = "a stop was requested"


@dataclass
class RunReport:
    """``Orchestrator.run_until_done()``: every pass, and why it stopped."""

    ticks: list[TickReport] = field(default_factory=list)
    #: One of the :class:`StopReason` constants.
    stopped_because: str = ""
    #: When the first waiting run is due (a timer, a retry's next attempt), if one waits.
    next_due: str | None = None

    @property
    def ended(self) -> list[TickOutcome]:
        """Pipelines that ended during the run."""
        return [o for tick in self.ticks for o in tick.ended]

    @property
    def errors(self) -> list[TickError]:
        """Every error of every pass."""
        return [e for tick in self.ticks for e in tick.errors]

    def __repr__(self) -> str:
        return (
            f"<RunReport: {plural(len(self.ticks), 'pass')}, {len(self.ended)} ended, "
            f"{plural(len(self.errors), 'error')}; stopped: {self.stopped_because}>"
        )

    def __str__(self) -> str:
        passes = [f"pass {n}: {tick}" for n, tick in enumerate(self.ticks, start=1)]
        return "\n".join([*passes, f"stopped: {self.stopped_because}"])
