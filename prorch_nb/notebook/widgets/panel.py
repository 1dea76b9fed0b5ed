"""A panel for one run: start, continue, cancel, resolve, resume it and send it signals, and see it change in place."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.notebook.diagrams import check_direction
from prorch_nb.notebook.widgets import render
from prorch_nb.notebook.widgets.base import button, close_tree, guarded, snapshot_bundle
from prorch_nb.notebook.widgets.log import ErrorList, HookOutput, LogView, capture_stdout
from prorch_nb.notebook.widgets.resolve import ResolveBar
from prorch_nb.notebook.widgets.send import SendBox
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.reprs import run_text
from prorch_nb.store import Store
from prorch_nb.utils.clock import now_datetime
from prorch_nb.utils.constants import Status


@dataclass(frozen=True)
class RunView:
    """One reading of a run from its repository, rendered."""

    record: PipelineData
    steps: list[StepData]
    status: str
    errors: str
    diagram: str
    table: str

    @property
    def waiting(self) -> StepData | None:
        """The step a person may end by hand: the pending one of a run still open."""
        if self.record.status in Status.ENDED:
            return None
        return next((step for step in self.steps if step.status == Status.PENDING), None)


class PipelinePanel(widgets.VBox):
    """Buttons, signals, status line, diagram, step table, errors and log of one run.

    "Resume" runs a failed or cancelled run again from the step that ended it; the box
    "Signal" / "Value" / "Send" sends a signal to an open run. The Note goes with every
    change made by hand (Cancel, Resume, Send, the buttons that end a waiting step).

    The panel keeps only the run's uuid, class and repository class: each action loads
    the run afresh, and each :meth:`refresh` reads the run and its steps once
    (:meth:`read`) and renders every view from that reading, so any number of panels
    (and dashboards) on one repository agree after a refresh. What hooks print during
    an action goes to the log as ``[StepName] line``. Exceptions are shown in the
    panel, never raised to ipywidgets.
    """

    def __init__(self, run: Pipeline, *, direction: str = "LR", on_action: Callable[[], None] | None = None) -> None:
        self.pipeline_uuid = run.uuid
        self.pipeline_class = type(run)
        self.repository_class = run.repository_class
        self.direction = check_direction(direction)
        self._on_action = on_action
        self._busy = False
        self._errors = ErrorList()
        self._step_errors = ""
        self._lock = threading.RLock()

        self.status_line = widgets.HTML().add_class("prorch-status")
        self.start_button = button("Start", "prorch-start", "Start the run: its first tick")
        self.continue_button = button("Continue", "prorch-continue", "One tick: start or continue the current step")
        self.cancel_button = button("Cancel", "prorch-cancel", "Cancel the run and its pending step")
        self.resume_button = button(
            "Resume", "prorch-resume", "Run the failed or cancelled run again from the step that ended it"
        )
        self.refresh_button = button("Refresh", "prorch-refresh", "Read the run again from the repository")
        self.note = widgets.Text(description="Note", placeholder="optional", layout=widgets.Layout(width="18em"))
        self.note.add_class("prorch-note")
        self.resolve = ResolveBar(self._end_step, self._report)
        self.send_box = SendBox(self._send_signal, self._report)
        self.errors_view = widgets.HTML().add_class("prorch-errors")
        # a diagram wider than the output scrolls in its own box (not the whole panel)
        self.diagram = widgets.HTML(layout=widgets.Layout(overflow="auto")).add_class("prorch-diagram")
        self.table = widgets.HTML().add_class("prorch-steps")
        self.log_view = LogView("prorch-log")
        actions = [
            (self.start_button, "Start", self._tick),
            (self.continue_button, "Continue", self._tick),
            (self.cancel_button, "Cancel", self._cancel),
            (self.resume_button, "Resume", self._resume),
        ]
        for control, label, action in actions:
            control.on_click(guarded(label, lambda label=label, action=action: self._act(label, action), self._report))
        self.refresh_button.on_click(guarded("Refresh", self.refresh, self._report))

        buttons = [self.start_button, self.continue_button, self.cancel_button, self.resume_button, self.note]
        wrapping = widgets.Layout(flex_flow="row wrap")  # a narrow output wraps the row, never scrolls the panel
        super().__init__(
            [
                self.status_line,
                widgets.HBox([*buttons, self.refresh_button], layout=wrapping).add_class("prorch-buttons"),
                self.resolve.box,
                self.send_box.box,
                self.errors_view,
                self.diagram,
                self.table,
                self.log_view.widget,
            ]
        )
        self.add_class("prorch-panel")
        self.refresh()

    # Reading ------------------------------------------------------------------------

    def load(self) -> Pipeline:
        """The run, loaded now from the repository."""
        return self.pipeline_class(repository_class=self.repository_class, pipeline_uuid=self.pipeline_uuid)

    def read(self) -> RunView:
        """Read the run and its steps once, and render every view from that (raises if they cannot be read)."""
        record, steps = Store(self.repository_class).read_run(self.pipeline_uuid)
        now = now_datetime()
        return RunView(
            record,
            steps,
            status=render.status_line(record, steps, now),
            errors=render.step_errors(steps),
            diagram=render.diagram(self.pipeline_class.__name__, record, steps, self.direction, now),
            table=render.steps_table(steps),
        )

    def refresh(self) -> None:
        """Re-read the run and update every view and button in place; errors are shown, not raised."""
        with self._lock:
            try:
                view = self.read()
            except Exception as error:  # the repository may be gone or broken: say so in the panel
                self._errors.add("Refresh", error)
                self._show_errors()
                self._enable(None)
                return
            self.status_line.value = view.status
            self.diagram.value = view.diagram
            self.table.value = view.table
            self._step_errors = view.errors
            self._show_errors()
            self._enable(view)

    # Acting -------------------------------------------------------------------------

    def _act(self, label: str, action: Callable[[Pipeline], str]) -> None:
        """Do ``action`` on the run with every button disabled, log it, then re-read everything."""
        self._busy = True
        self._enable(None)
        printed = HookOutput()
        try:
            run = self.load()
            try:
                with capture_stdout(printed):
                    message = action(run)
            finally:
                for printer, text in printed.take():
                    self.log_view.output(printer[1] if printer else label, text)
            self.log_view.action(f"{label}: {message}")
        except Exception as error:
            self._report(label, error)
        finally:
            self._busy = False
            self.refresh()
            Store(self.repository_class).checkpoint_soon()  # the file alone catches up, off the click's path
        if self._on_action is not None:
            guarded("Update", self._on_action, self._report)()

    def _tick(self, run: Pipeline) -> str:
        try:
            return run.start().action
        except StepHookError as error:  # recorded on the step: its error box comes from the repository
            cause = error.__cause__ or error
            return f"{self._current_step_name(run)} failed: {type(cause).__name__}: {cause}"

    def _cancel(self, run: Pipeline) -> str:
        note = self._take_note()
        run.cancel(note)
        return f"cancelled the run{_noted(note)}"

    def _resume(self, run: Pipeline) -> str:
        note = self._take_note()
        step = run.resume(note)
        where = f"from {step.name}" if step is not None else "(its next step starts at the next tick)"
        return f"resumed the run {where}{_noted(note)}"

    def _send_signal(self, name: str, value: Any) -> None:
        note = self._take_note()
        self._act("Send", lambda run: _sent(run, name, value, note))

    def _end_step(self, status: str, label: str) -> None:
        note = self._take_note()
        self._act(label, lambda run: f"{run.end_current_step(status, note).name} {status} by hand{_noted(note)}")

    def _take_note(self) -> str | None:
        note, self.note.value = self.note.value.strip(), ""
        return note or None

    @staticmethod
    def _current_step_name(run: Pipeline) -> str | None:
        """Name of the step the run is on, read now (the step whose hooks the last tick ran)."""
        current = run.refresh().current_step
        return next((step.name for step in run.step_records() if step.uuid == current), None)

    # Showing ------------------------------------------------------------------------

    def _report(self, action: str, error: Exception) -> None:
        self._errors.add(action, error)
        self.log_view.action(f"{action} failed: {type(error).__name__}: {error}")
        self._show_errors()

    def _show_errors(self) -> None:
        self.errors_view.value = self._step_errors + self._errors.html()

    def _enable(self, view: RunView | None) -> None:
        """Enable the controls that make sense for the run as read (none while busy or unread)."""
        status = view.record.status if view is not None and not self._busy else None
        self.start_button.disabled = status != Status.CREATED
        self.continue_button.disabled = status != Status.PENDING
        self.cancel_button.disabled = status not in Status.OPEN
        self.resume_button.disabled = status not in Status.RESUMABLE
        self.note.disabled = status not in Status.OPEN | Status.RESUMABLE
        self.refresh_button.disabled = self._busy
        self.resolve.update(view.waiting if view else None, busy=self._busy)
        self.send_box.update(status in Status.OPEN)

    def snapshot(self) -> tuple[str, str]:
        """The run as static HTML (status, errors, diagram, steps) and as text, read now."""
        view = self.read()
        page = (
            f"<div class='prorch-snapshot prorch-panel-snapshot'>{view.status}{view.errors}"
            f"<div class='prorch-diagram'>{view.diagram}</div>{view.table}</div>"
        )
        return page, run_text(self.pipeline_class.__name__, view.record, view.steps)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The live widget, plus a static snapshot for viewers without a kernel."""
        return snapshot_bundle(super()._repr_mimebundle_(**kwargs), self.snapshot, include, exclude)

    def close(self) -> None:
        """Close the panel and every widget in it."""
        for child in self.children:
            close_tree(child)
        super().close()


def _sent(run: Pipeline, name: str, value: Any, note: str | None) -> str:
    """Send the signal; what was sent, for the log."""
    run.send(name, value, note=note)
    return f"sent {name} = {json.dumps(value, ensure_ascii=False)}{_noted(note)}"


def _noted(note: str | None) -> str:
    """`` (note: ...)`` after what was done, when a note was given."""
    return f" (note: {note})" if note else ""
