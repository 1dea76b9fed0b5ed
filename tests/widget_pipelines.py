"""Pipelines for the widget tests: a step that prints, and a step that waits for the test."""

import threading

from prorch_nb import OnStartMixin, Pipeline, Step, register_pipeline, register_step
from tests.pipelines import Quick

#: Seconds a wait gives up after: only so that nothing hangs forever (a loaded machine may be slow).
PATIENCE = 300.0
#: Set by ``Blocking.on_start`` when it begins; it then waits for :data:`RELEASE`.
ENTERED = threading.Event()
RELEASE = threading.Event()


@register_step
class Chatty(OnStartMixin, Step):
    name = "Chatty"

    def on_start(self):
        print("hello from", self.name)
        print("second line")
        self.finish()


@register_step
class Blocking(OnStartMixin, Step):
    name = "Blocking"

    def on_start(self):
        ENTERED.set()
        if not RELEASE.wait(PATIENCE):
            raise TimeoutError("the test never released the step")
        self.finish()


@register_pipeline
class Talkative(Pipeline):
    name = "Talkative"
    steps = [Chatty, Quick]


@register_pipeline
class Gated(Pipeline):
    name = "Gated"
    steps = [Quick, Blocking, Quick]


@register_pipeline
class ChattyLater(Pipeline):
    """Quiet on its first tick (Quick); Chatty prints on the second, within an orchestrator's pass."""

    name = "ChattyLater"
    steps = [Quick, Chatty]
