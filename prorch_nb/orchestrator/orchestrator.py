"""The orchestrator: ticks every pending pipeline of a repository, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prorch_nb.claims import DEFAULT_LEASE_SECONDS
from prorch_nb.dataclasses.orchestrator import OrchestratorConfig
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.display import RichDisplay
from prorch_nb.pipeline.tick import run_tick
from prorch_nb.report import RunReport, StopReason, TickError, TickReport
from prorch_nb.store import Store, check_repository_class
from prorch_nb.utils import clock
from prorch_nb.utils.clock import as_datetime
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from prorch_nb.notebook.overview import Overview
    from prorch_nb.notebook.widgets import Dashboard

__all__ = ["Orchestrator", "OrchestratorConfig"]


class Orchestrator(RichDisplay):
    """Advances pipelines stored in ``config.repository_class``.

    :meth:`execute_pipelines` is one pass: every ``pending`` pipeline ticks once. A
    pipeline that raises (a hook, an unregistered name, a bad record) is reported and
    never stops the others. In Jupyter it shows an overview of the repository's runs.
    """

    def __init__(self, config: OrchestratorConfig, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        check_repository_class(config.repository_class)
        self._repository_class = config.repository_class
        self.config = config
        self.lease_seconds = lease_seconds

    @property
    def repository_class(self) -> type:
        """The repository class pipelines are stored in."""
        return self._repository_class

    def get_active_pipelines(self) -> list[PipelineData]:
        """Records of the pipelines a pass would tick (``pending``), oldest first."""
        return Store(self._repository_class).pipelines_with_status(Status.PENDING)

    def execute_pipelines(self) -> TickReport:
        """Tick every pending pipeline once, oldest first; returns what happened to each.

        Pipelines tick one after the other, each to its end (hooks included) before the
        next begins, exactly as in prorch; the store may write the pass's changes together.
        """
        store = Store(self._repository_class)
        report = TickReport()
        with store.batch():
            for uuid in store.runs_to_tick(report.held):
                self._tick(uuid, store, report)
        if not report.outcomes and not report.errors and not report.held:
            store.checkpoint(quietly=True)  # idle: the file alone is brought up to date
        return report

    def run_until_done(
        self,
        max_ticks: int | None = None,
        *,
        on_tick: Callable[[int, TickReport], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        wait: bool = False,
    ) -> RunReport:
        """Pass after pass until no pipeline is pending or a whole pass changed nothing.

        The report says why it stopped (a :class:`~prorch_nb.report.StopReason`) and, if
        runs wait (a timer, a retry's next attempt), when the first is due. With ``wait``
        it sleeps until then instead of stopping, and goes on (``should_stop`` is asked at
        least every second meanwhile). ``max_ticks`` caps the number of passes;
        ``on_tick(n, report)`` is called after each pass and ``should_stop()`` before each
        (for progress bars and Stop buttons). A journalled store's file alone is up to
        date when it returns.
        """
        run = self._passes(max_ticks, on_tick, should_stop, wait)
        Store(self._repository_class).checkpoint(quietly=True)
        return run

    def _passes(
        self,
        max_ticks: int | None,
        on_tick: Callable[[int, TickReport], None] | None,
        should_stop: Callable[[], bool] | None,
        wait: bool,
    ) -> RunReport:
        run = RunReport()
        while True:
            if max_ticks is not None and len(run.ticks) >= max_ticks:
                run.stopped_because = StopReason.MAX_TICKS
                return run
            if should_stop and should_stop():
                run.stopped_because = StopReason.REQUESTED
                return run
            report = self.execute_pipelines()
            idle = not report.outcomes and not report.errors and not report.held
            if not idle:
                run.ticks.append(report)
                if on_tick:
                    on_tick(len(run.ticks), report)
                if report.changed:
                    continue
            store = Store(self._repository_class)
            run.next_due = store.next_due()
            # a run due already that the pass could not tick (an error): waiting would not help
            stuck = bool(report.errors) and run.next_due is not None and as_datetime(run.next_due) <= store.now()
            if run.next_due is None or not wait or stuck:
                run.stopped_because = _stop_reason(idle and run.next_due is None, report)
                return run
            self._sleep_until(run.next_due, should_stop)

    def _sleep_until(self, due: str, should_stop: Callable[[], bool] | None) -> None:
        """Sleep until ``due`` (the store's clock), a second at a time, cut short by a stop or a run due sooner.

        Each second the store is asked again (anew: a repository may cache what it read), so
        a signal that wakes a run ends the sleep. On a fake clock it looks every minute: a
        day of fake time then costs 1,440 looks, not 86,400.
        """
        store = Store(self._repository_class)
        look_every = 1.0 if clock.fake_clock() is None else 60.0
        while (left := (as_datetime(due) - store.now()).total_seconds()) > 0:
            if should_stop and should_stop():
                return
            clock.sleep(min(left, look_every))
            store = Store(self._repository_class)
            if store.due_run_uuids(store.now()):
                return

    def _tick(self, uuid: str, store: Store, report: TickReport) -> None:
        try:
            tick = run_tick(uuid, store, self.lease_seconds)
        except Exception as exc:  # one pipeline's problem never stops the pass
            report.errors.append(TickError(uuid, _stored_name(store, uuid), f"{type(exc).__name__}: {exc}", exc))
            return
        outcome = tick.outcome()
        report.outcomes.append(outcome)
        if tick.error:
            report.errors.append(TickError(outcome.pipeline_uuid, outcome.pipeline_name, str(tick.error), tick.error))

    def dashboard(self, limit: int = 50) -> Dashboard:
        """An ipywidgets dashboard: new runs, ticks, runs until done, every run of the repository."""
        from prorch_nb.notebook.widgets import Dashboard

        return Dashboard(self, limit=limit)

    def _notebook_view(self) -> Overview:
        """What Jupyter shows: an overview of the runs in this orchestrator's repository, read now."""
        from prorch_nb.notebook.overview import overview

        return overview(self._repository_class)

    def __repr__(self) -> str:
        return f"<Orchestrator over {getattr(self._repository_class, '__name__', self._repository_class)}>"


def _stored_name(store: Store, uuid: str) -> str:
    """The name in a pipeline record that could not be ticked, if it can be read at all."""
    try:
        data = store.pipelines.get(uuid)
    except Exception:  # the record's problem is already being reported
        return ""
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else ""


def _stop_reason(nothing_pending: bool, report: TickReport) -> str:
    """Why a run of passes stops when a pass changed nothing."""
    if nothing_pending:
        return StopReason.NOTHING_PENDING
    return StopReason.ERRORS if report.errors else StopReason.WAITING
