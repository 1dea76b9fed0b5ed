"""A dashboard over an orchestrator's repository: new runs, ticks, runs until done, every run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from prorch_nb import load_pipeline, registry
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.notebook.overview import overview
from prorch_nb.notebook.widgets import render
from prorch_nb.notebook.widgets.background import BackgroundRun
from prorch_nb.notebook.widgets.base import button, close_tree, guarded, snapshot_bundle
from prorch_nb.notebook.widgets.dashboard_view import NO_RUN, DashboardView, read_dashboard
from prorch_nb.notebook.widgets.log import ErrorList, HookOutput, LogView, Printer, capture_stdout
from prorch_nb.notebook.widgets.panel import PipelinePanel
from prorch_nb.orchestrator.orchestrator import Orchestrator
from prorch_nb.report import RunReport, TickReport
from prorch_nb.store import Store
from prorch_nb.styles import glyph
from prorch_nb.utils.constants import Status
from prorch_nb.utils.uuids import short_uuid

#: Value of the status filter that shows every run.
ALL = "all"
#: Seconds between redraws of the tables while a run goes on in the background.
REDRAW_INTERVAL = 0.5


class Dashboard(widgets.VBox):
    """Every run of an orchestrator's repository, and the controls to make and advance runs.

    From top to bottom: a header; "New run" (a registered pipeline class, optionally
    started at once); "Tick", "Run until done" (in a background thread, with a progress
    bar and "Stop"); errors; the log; the summary; the runs due next of those that wait
    for a time (a retry, a timer, a deadline), if any; a status filter and the runs table
    (newest first, at most ``limit`` rows); a run chooser, and the chosen run's
    :class:`PipelinePanel`. Everything is re-read from the repository after each action,
    but only what is shown: counts come from the store's indexes, and only the page of
    runs in the table and the runs due next are read (:func:`~prorch_nb.notebook.runs_page.read_page`). What
    hooks print goes to the log as ``[Pipeline uuid8 · Step] line``.
    """

    def __init__(self, orchestrator: Orchestrator, *, limit: int = 50) -> None:
        self.orchestrator = orchestrator
        self.repository_class = orchestrator.repository_class
        self.limit = limit
        self.panel: PipelinePanel | None = None
        self.background: BackgroundRun | None = None
        self._errors = ErrorList()
        self._printed = HookOutput()
        self._ended = 0
        self._redrawn = 0.0
        self._choosing = False
        self._lock = threading.RLock()

        self.header = widgets.HTML().add_class("prorch-dashboard-header")
        self.pipeline_choice = widgets.Dropdown(description="Pipeline").add_class("prorch-pipeline-choice")
        self.new_button = button("New run", "prorch-new-run", "Create a run of the chosen pipeline")
        self.start_at_once = widgets.Checkbox(value=True, description="start at once", indent=False)
        self.start_at_once.add_class("prorch-start-at-once")
        self.tick_button = button("Tick", "prorch-tick", "One pass: tick every pending run once")
        self.run_button = button("Run until done", "prorch-run-until-done", "Pass after pass in the background")
        self.stop_button = button("Stop", "prorch-stop", "Stop the background run after its current pass")
        self.refresh_button = button("Refresh", "prorch-dashboard-refresh", "Read everything again from the repository")
        self.progress = widgets.IntProgress(value=0, min=0, max=0).add_class("prorch-progress")
        self.progress_label = widgets.Label().add_class("prorch-progress-label")
        self.errors_view = widgets.HTML().add_class("prorch-dashboard-errors")
        self.report_view = widgets.HTML().add_class("prorch-report")
        self.log_view = LogView("prorch-dashboard-log")
        self.summary_view = widgets.HTML().add_class("prorch-summary")
        self.due_view = widgets.HTML().add_class("prorch-due")
        filters = [(ALL, ALL), *((f"{glyph(status)} {status}", status) for status in Status.ALL)]
        self.status_filter = widgets.ToggleButtons(options=filters, value=ALL).add_class("prorch-status-filter")
        self.runs_view = widgets.HTML().add_class("prorch-runs")
        self.run_choice = widgets.Dropdown(description="Run", options=[(NO_RUN, "")], value="")
        self.run_choice.add_class("prorch-run-choice")
        self.run_choice.layout.width = "32em"
        self.panel_box = widgets.VBox().add_class("prorch-panel-box")

        self.new_button.on_click(guarded("New run", self.new_run, self._report))
        self.tick_button.on_click(guarded("Tick", self.tick, self._report))
        self.run_button.on_click(guarded("Run until done", self.run_until_done, self._report))
        self.stop_button.on_click(guarded("Stop", self.stop, self._report))
        self.refresh_button.on_click(guarded("Refresh", self.refresh, self._report))
        self.status_filter.observe(guarded("Filter", self._redraw, self._report), "value")
        self.run_choice.observe(self._chosen, "value")
        super().__init__(
            [
                self.header,
                widgets.HBox([self.pipeline_choice, self.start_at_once, self.new_button]).add_class("prorch-new"),
                widgets.HBox(  # wraps, so a long progress label goes to the next line instead of out of sight
                    [self.tick_button, self.run_button, self.stop_button, self.progress, self.progress_label],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ).add_class("prorch-orchestrate"),
                self.errors_view,
                self.report_view,
                self.log_view.widget,
                self.summary_view,
                self.due_view,
                self.status_filter,
                self.runs_view,
                widgets.HBox([self.run_choice, self.refresh_button]).add_class("prorch-choose"),
                self.panel_box,
            ]
        )
        self.add_class("prorch-dashboard")
        self.refresh()

    # Actions ------------------------------------------------------------------------

    def new_run(self) -> None:
        """Create a run of the chosen pipeline class (and start it if asked), then show it."""
        pipeline_class = registry.pipeline_class(self.pipeline_choice.value or "")
        run = pipeline_class(repository_class=self.repository_class)
        message = f"New run: {pipeline_class.name} {short_uuid(run.uuid)} created"
        if self.start_at_once.value:
            printed = HookOutput()
            try:
                with capture_stdout(printed):
                    message += f", {run.start().action}"
            except StepHookError as error:  # recorded on the step; the run is shown with its error
                message += f", a hook raised {type(error.__cause__).__name__}: {error.__cause__}"
            finally:
                self._log_output(printed, {run.uuid: str(pipeline_class.name)})
        self.log_view.action(message)
        self.select(run.uuid)
        Store(self.repository_class).checkpoint_soon()  # the file alone catches up, off the click's path

    def tick(self) -> None:
        """One pass of the orchestrator; shows its report and errors."""
        printed = HookOutput()
        with capture_stdout(printed):
            report = self.orchestrator.execute_pipelines()
        self._passed("Tick", report, printed)
        self.refresh()
        Store(self.repository_class).checkpoint_soon()

    def run_until_done(self) -> None:
        """Start passes in a background thread until nothing is pending (see :meth:`stop`)."""
        if self.background is not None and self.background.running:
            raise RuntimeError("a run is already going on; stop it first")
        self._ended = 0
        self._printed.take()  # what an earlier run left
        self.progress.value, self.progress.max = 0, len(self.orchestrator.get_active_pipelines())
        self.progress_label.value = "pass 0, 0 ended"
        self.background = BackgroundRun(self.orchestrator, self._on_pass, self._printed, self._on_end)
        self.log_view.action(f"Run until done: {self.progress.max} pending")
        self.background.start()
        self._enable()

    def stop(self) -> None:
        """Stop the background run after the pass under way."""
        if self.background is not None:
            self.background.stop()
            self.progress_label.value += " — stopping after this pass"
        self._enable()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the background run (if any) to end; whether it has."""
        return self.background is None or self.background.join(timeout)

    def select(self, pipeline_uuid: str) -> None:
        """Show the panel of run ``pipeline_uuid`` (listed in the chooser even if the filter hides it)."""
        self._redraw(keep=pipeline_uuid)
        self.run_choice.value = pipeline_uuid

    # Background callbacks (called in the worker thread; they only assign traits) --------

    def _on_pass(self, number: int, report: TickReport) -> None:
        self._ended += len(report.ended)
        self.progress.value = min(self._ended, self.progress.max)
        self.progress_label.value = f"pass {number}, {self._ended} ended"
        self._passed(f"Pass {number}", report, self._printed)
        if time.monotonic() - self._redrawn >= REDRAW_INTERVAL:
            guarded("Refresh", self.refresh, self._report)()

    def _on_end(self, report: RunReport | None, error: Exception | None) -> None:
        if error is not None:
            self._report("Run until done", error)
        elif report is not None:
            self.progress_label.value = (
                f"pass {len(report.ticks)}, {self._ended} ended — stopped: {report.stopped_because}"
            )
            self.log_view.action(f"Run until done: {report!r}")
        guarded("Refresh", self.refresh, self._report)()

    # Showing ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the repository: header, classes, summary, runs, and the chosen run's panel."""
        with self._lock:
            self._redraw()
            if self.panel is not None:
                self.panel.refresh()
            self._redrawn = time.monotonic()
        self._enable()

    def read(self, keep: str | None = None) -> DashboardView:
        """Read the counts and the page of runs shown (and the run ``keep``), rendered."""
        status = None if self.status_filter.value == ALL else self.status_filter.value
        return read_dashboard(self.repository_class, self.limit, status, keep=[keep, self.run_choice.value])

    def _redraw(self, keep: str | None = None) -> None:
        """Update the header, pipeline classes, summary, runs table and run chooser in place."""
        with self._lock:
            names = sorted(registry.PIPELINES)
            if list(self.pipeline_choice.options) != names:
                chosen = self.pipeline_choice.value
                self.pipeline_choice.options = names
                self.pipeline_choice.value = chosen if chosen in names else (names[0] if names else None)
            view = self.read(keep)
            self.header.value, self.summary_view.value, self.runs_view.value = view.header, view.summary, view.runs
            self.due_view.value = view.due
            if view.choices != tuple(self.run_choice.options):
                chosen, self._choosing = self.run_choice.value, True
                try:
                    self.run_choice.options = view.choices
                    self.run_choice.value = chosen if any(uuid == chosen for _, uuid in view.choices) else ""
                finally:
                    self._choosing = False

    def _chosen(self, change: dict[str, Any]) -> None:
        """The run chooser changed: show the chosen run's panel (unless only its label changed)."""
        if self._choosing:
            return
        guarded("Show run", lambda: self._show(change["new"]), self._report)()

    def _show(self, pipeline_uuid: str) -> None:
        if self.panel is not None and self.panel.pipeline_uuid == pipeline_uuid:
            return
        old, self.panel = self.panel, None
        self.panel_box.children = []
        if old is not None:
            close_tree(old)
        if pipeline_uuid:
            run = load_pipeline(pipeline_uuid, self.repository_class)
            self.panel = PipelinePanel(run, on_action=self._redraw)
            self.panel_box.children = [self.panel]

    def _passed(self, action: str, report: TickReport, printed: HookOutput) -> None:
        names = {error.pipeline_uuid: error.pipeline_name for error in report.errors}
        names.update((outcome.pipeline_uuid, outcome.pipeline_name) for outcome in report.outcomes)
        self._log_output(printed, names)
        self.log_view.action(f"{action}: {report!r}")
        self.report_view.value = render.tick_report(report)

    def _log_output(self, printed: HookOutput, names: dict[str, str]) -> None:
        """Log what hooks printed, each line tagged with its run (name, short uuid) and step."""
        for printer, text in printed.take():
            self.log_view.output(_tag(printer, names), text)

    def _report(self, action: str, error: Exception) -> None:
        self._errors.add(action, error)
        self.log_view.action(f"{action} failed: {type(error).__name__}: {error}")
        self.errors_view.value = self._errors.html()

    def _enable(self) -> None:
        running = self.background is not None and self.background.running
        self.tick_button.disabled = self.run_button.disabled = running
        self.new_button.disabled = running or not self.pipeline_choice.value
        self.stop_button.disabled = self.background is None or not running or self.background.stopping

    def snapshot(self) -> tuple[str, str]:
        """The dashboard as static HTML (header, summary, runs, chosen run) and as text, read now."""
        view = self.read()
        panel = self.panel.snapshot()[0] if self.panel is not None else ""
        page = f"{view.header}{view.summary}{view.due}{view.runs}{panel}"
        return f"<div class='prorch-snapshot prorch-dashboard-snapshot'>{page}</div>", overview(
            self.repository_class
        ).text()

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The live widget, plus a static snapshot for viewers without a kernel."""
        return snapshot_bundle(super()._repr_mimebundle_(**kwargs), self.snapshot, include, exclude)

    def close(self) -> None:
        """Stop a background run and close the dashboard and every widget in it."""
        if self.background is not None:
            self.background.stop()
        for child in self.children:
            close_tree(child)
        super().close()


def _tag(printer: Printer, names: dict[str, str]) -> str:
    """``Pipeline uuid8 · Step``: which run and step printed (``hooks`` if no step's hook did)."""
    if printer is None:
        return "hooks"
    pipeline_uuid, step = printer
    run = " ".join(filter(None, [names.get(pipeline_uuid), short_uuid(pipeline_uuid)]))
    return f"{run} · {step}"
