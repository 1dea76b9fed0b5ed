"""Mixin for steps that do something when they start."""

from __future__ import annotations


class OnStartMixin:
    """Gives a step an ``on_start`` hook, run once on the tick that starts the step."""

    def on_start(self) -> None:
        """Begin the step's work; may call ``finish()``, ``fail()`` or ``cancel()``."""
        raise NotImplementedError(f"{type(self).__name__} uses OnStartMixin but does not define on_start()")
