"""Pipelines and steps used across the tests (registered once, at import)."""

from prorch_nb import OnContinueMixin, OnStartMixin, Pipeline, Step, register_pipeline, register_step

#: Outside events the waiting step looks for, by pipeline uuid (a stand-in for the world).
APPROVALS: set[str] = set()


@register_step
class Quick(OnStartMixin, Step):
    name = "Quick"

    def on_start(self):
        self.metadata["ran"] = self.metadata.get("ran", 0) + 1
        self.finish()


@register_step
class TwoPhase(OnStartMixin, OnContinueMixin, Step):
    name = "TwoPhase"

    def on_start(self):
        self.metadata["token"] = f"job-{self.uuid[:4]}"

    def on_continue(self):
        self.context.setdefault("tokens", []).append(self.metadata["token"])
        self.finish()


@register_step
class WaitForApproval(OnContinueMixin, Step):
    name = "WaitForApproval"

    def on_continue(self):
        self.metadata["checks"] = self.metadata.get("checks", 0) + 1
        if self.pipeline_uuid in APPROVALS:
            self.finish()


@register_step
class Explodes(OnStartMixin, Step):
    name = "Explodes"

    def on_start(self):
        raise ValueError("disk full")


@register_step
class Refuses(OnStartMixin, Step):
    name = "Refuses"

    def on_start(self):
        self.cancel("not today")


@register_pipeline
class Simple(Pipeline):
    name = "Simple"
    steps = [Quick, TwoPhase, Quick]


@register_pipeline
class Approval(Pipeline):
    name = "Approval"
    steps = [Quick, WaitForApproval, Quick]


@register_pipeline
class Broken(Pipeline):
    name = "Broken"
    steps = [Quick, Explodes, Quick]


@register_pipeline
class Refused(Pipeline):
    name = "Refused"
    steps = [Refuses, Quick]


@register_step
class HandsOnALot(OnStartMixin, Step):
    name = "HandsOnALot"

    def on_start(self):
        self.context["blob"] = "x" * 40_000
        self.finish()


@register_step
class NeedsTheBlob(OnStartMixin, Step):
    name = "NeedsTheBlob"

    def on_start(self):
        self.metadata["blob_length"] = len(self.context["blob"])
        self.finish()


@register_pipeline
class HandOff(Pipeline):
    name = "HandOff"
    steps = [HandsOnALot, NeedsTheBlob]
