"""A step that waits on another pipeline's step: each pipeline's tick completes (hooks
and writes) before the next pipeline of the pass begins, so it sees the change at once."""

import _harness as h


def main(api):
    @api.register_step
    class Build(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "Build"

        def on_start(self):
            h.say(self, "on_start", "building")

        def on_continue(self):
            if h.clock.tick >= 3:
                h.say(self, "on_continue", "built")
                self.finish()

    @api.register_step
    class WaitForBuild(api.OnContinueMixin, api.Step):
        """Finishes once the first pipeline's Build step is stored as finished."""

        name = "WaitForBuild"

        def on_continue(self):
            build = h.stored()[0][1][0]
            h.say(self, "on_continue", f"build is {build['status']}")
            if build["status"] == "finished":
                self.finish()

    @api.register_pipeline
    class Producer(api.Pipeline):
        name = "Producer"
        steps = [Build]

    @api.register_pipeline
    class Consumer(api.Pipeline):
        name = "Consumer"
        steps = [WaitForBuild]

    repository = api.TinyDBRepository
    producer, consumer = Producer(repository_class=repository), Consumer(repository_class=repository)
    h.show("created")
    h.start(producer, "P0")
    h.start(consumer, "P1")
    for _ in range(3):
        h.orchestrate(api, repository)
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
