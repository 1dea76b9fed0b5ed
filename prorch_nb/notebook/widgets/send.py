"""Signals from a person: a name, a JSON value and a "Send" button, for a run whose steps wait for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from prorch_nb.notebook.widgets.base import button, guarded


class SendBox:
    """The fields "Signal" (a name) and "Value" (JSON; empty is ``null``) and the button "Send".

    ``send(name, value)`` does the work (the panel sends the signal and refreshes); what
    it raises, and a name or value that cannot be sent, go to ``report(action, error)``.
    """

    def __init__(self, send: Callable[[str, Any], None], report: Callable[[str, Exception], None]) -> None:
        self.name = widgets.Text(description="Signal", placeholder="name", layout=widgets.Layout(width="16em"))
        self.name.add_class("prorch-signal-name")
        self.value = widgets.Text(
            description="Value", placeholder='JSON, e.g. {"by": "ann"}', layout=widgets.Layout(width="22em")
        )
        self.value.add_class("prorch-signal-value")
        self.button = button("Send", "prorch-send", "Send the value to the run under this name: a waiting step wakes")
        self._on_send = send
        self.button.on_click(guarded("Send", self._clicked, report))
        wrapping = widgets.Layout(flex_flow="row wrap")
        self.box = widgets.HBox([self.name, self.value, self.button], layout=wrapping).add_class("prorch-send-box")

    def signal(self) -> tuple[str, Any]:
        """The name and the value typed (the value parsed); ``ValueError`` saying what is wrong with them."""
        name = self.name.value.strip()
        if not name:
            raise ValueError("a signal needs a name: type it in the field Signal")
        text = self.value.value.strip()
        try:
            value = json.loads(text) if text else None
        except json.JSONDecodeError as error:
            raise ValueError(
                f"the value of signal {name!r} is not JSON ({error}); nothing was sent. "
                'Write text in double quotes ("yes"), numbers as they are, objects as {"by": "ann"}'
            ) from None
        return name, value

    def update(self, can_send: bool) -> None:
        """Enable the fields and the button if a signal can be sent now."""
        self.name.disabled = self.value.disabled = self.button.disabled = not can_send

    def _clicked(self) -> None:
        name, value = self.signal()
        self.value.value = ""
        self._on_send(name, value)
