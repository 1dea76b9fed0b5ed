"""Steps that call fail() or cancel(): the pipeline ends on the tick after.

argv[2] is ``fail`` or ``cancel``; the steps after the one that gives up stay created.
"""

import sys

import _harness as h


def main(api, verb):
    @api.register_step
    class Fine(api.OnStartMixin, api.Step):
        name = "Fine"

        def on_start(self):
            h.say(self, "on_start", "ok")
            self.finish()

    @api.register_step
    class GivesUpAtStart(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "GivesUpAtStart"

        def on_start(self):
            h.say(self, "on_start", verb)
            getattr(self, verb)()

        def on_continue(self):
            h.say(self, "on_continue", "SHOULD NOT RUN")

    @api.register_step
    class GivesUpLater(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "GivesUpLater"

        def on_start(self):
            h.say(self, "on_start", "trying")

        def on_continue(self):
            if h.clock.tick >= 4:
                h.say(self, "on_continue", verb)
                getattr(self, verb)()
            else:
                h.say(self, "on_continue", "still trying")

    @api.register_pipeline
    class EarlyExit(api.Pipeline):
        name = "EarlyExit"
        steps = [Fine, GivesUpAtStart, Fine]

    @api.register_pipeline
    class LateExit(api.Pipeline):
        name = "LateExit"
        steps = [GivesUpLater, Fine, Fine]

    @api.register_pipeline
    class Healthy(api.Pipeline):
        name = "Healthy"
        steps = [Fine, Fine]

    repo = api.TinyDBRepository
    runs = [EarlyExit(repository_class=repo), LateExit(repository_class=repo), Healthy(repository_class=repo)]
    h.show("created")
    for index, run in enumerate(runs):
        h.start(run, f"P{index}")
    for _ in range(4):
        h.orchestrate(api, repo)
    h.start(runs[0], "P0")  # ended: stays as it is
    h.done(api)


if __name__ == "__main__":
    main(h.load_api(), sys.argv[2] if len(sys.argv) > 2 else "fail")
