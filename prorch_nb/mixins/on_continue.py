"""Mixin for steps that check on their work on every tick while pending."""

from __future__ import annotations


class OnContinueMixin:
    """Gives a step an ``on_continue`` hook, run on every tick while the step is pending."""

    def on_continue(self) -> None:
        """Check on the step's work; call ``finish()`` when done, or return to wait."""
        raise NotImplementedError(f"{type(self).__name__} uses OnContinueMixin but does not define on_continue()")
