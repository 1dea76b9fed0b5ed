"""Human in the loop: buttons that end a run's waiting step by hand."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from prorch_nb.dataclasses.step import StepData
from prorch_nb.notebook.widgets.base import button, guarded
from prorch_nb.utils.constants import Status

#: ``(status, description, CSS class)`` of each button, in order.
ENDINGS = (
    (Status.FINISHED, "Finish step", "prorch-finish-step"),
    (Status.FAILED, "Fail step", "prorch-fail-step"),
    (Status.CANCELLED, "Cancel step", "prorch-cancel-step"),
)


class ResolveBar:
    """The buttons "Finish step", "Fail step" and "Cancel step", shown while the current step is pending.

    ``end(status, label)`` does the work (the panel ends the step by hand and refreshes);
    ``report(action, error)`` shows what it raised.
    """

    def __init__(self, end: Callable[[str, str], None], report: Callable[[str, Exception], None]) -> None:
        self.label = widgets.HTML().add_class("prorch-resolve-label")
        self.buttons: dict[str, widgets.Button] = {}
        for status, description, css in ENDINGS:
            control = button(description, css, f"End the waiting step by hand: {status}")
            control.on_click(guarded(description, lambda s=status, d=description: end(s, d), report))
            self.buttons[status] = control
        self.box = widgets.HBox([self.label, *self.buttons.values()]).add_class("prorch-resolve")

    def update(self, waiting: StepData | None, busy: bool) -> None:
        """Show the bar for the ``waiting`` step (hide it if none); while ``busy``, only disable it."""
        if not busy:
            self.box.layout.display = None if waiting else "none"
            self.label.value = f"<b>{html.escape(waiting.name)}</b> is waiting:" if waiting else ""
        for control in self.buttons.values():
            control.disabled = busy or waiting is None
