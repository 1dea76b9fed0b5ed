"""Steps with only one of the hook mixins, or with none."""

import _harness as h


def main(api):
    @api.register_step
    class ContinueOnly(api.OnContinueMixin, api.Step):
        """No OnStartMixin: on_continue runs on the tick that starts the step."""

        name = "ContinueOnly"

        def on_continue(self):
            h.say(self, "on_continue", "done at once")
            self.finish()

    @api.register_step
    class StartOnly(api.OnStartMixin, api.Step):
        """No OnContinueMixin: must finish in on_start."""

        name = "StartOnly"

        def on_start(self):
            h.say(self, "on_start", "done at once")
            self.finish()

    @api.register_step
    class StartOnlyNeverDone(api.OnStartMixin, api.Step):
        """No OnContinueMixin and no finish(): pending forever, nothing runs again."""

        name = "StartOnlyNeverDone"

        def on_start(self):
            h.say(self, "on_start", "started, never finishes")

    @api.register_step
    class NoHooks(api.Step):
        name = "NoHooks"

    @api.register_pipeline
    class OneMixinEach(api.Pipeline):
        name = "OneMixinEach"
        steps = [ContinueOnly, StartOnly, ContinueOnly]

    @api.register_pipeline
    class Stuck(api.Pipeline):
        name = "Stuck"
        steps = [StartOnly, StartOnlyNeverDone, StartOnly]

    @api.register_pipeline
    class Bare(api.Pipeline):
        name = "Bare"
        steps = [NoHooks, StartOnly]

    repo = api.TinyDBRepository
    one, stuck, bare = OneMixinEach(repository_class=repo), Stuck(repository_class=repo), Bare(repository_class=repo)
    h.show("created")
    for _ in range(4):
        h.start(one, "P0")
        h.start(stuck, "P1")
        h.start(bare, "P2")
    h.orchestrate(api, repo)
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
