"""A step that waits several ticks: on_continue runs on every one of them."""

import _harness as h


def main(api):
    @api.register_step
    class Prepare(api.OnStartMixin, api.Step):
        name = "Prepare"

        def on_start(self):
            h.say(self, "on_start", "prepared")
            self.finish()

    @api.register_step
    class WaitForUpload(api.OnStartMixin, api.OnContinueMixin, api.Step):
        """The upload is 'done' from pass 6 on (the outside world, not our metadata)."""

        name = "WaitForUpload"

        def on_start(self):
            h.say(self, "on_start", "upload requested")

        def on_continue(self):
            if h.clock.tick >= 6:
                h.say(self, "on_continue", "upload complete")
                self.finish()
            else:
                h.say(self, "on_continue", f"still uploading on pass {h.clock.tick}")

    @api.register_step
    class WaitWithoutStart(api.OnContinueMixin, api.Step):
        name = "WaitWithoutStart"

        def on_continue(self):
            if h.clock.tick >= 9:
                h.say(self, "on_continue", "ready")
                self.finish()
            else:
                h.say(self, "on_continue", "waiting")

    @api.register_pipeline
    class Upload(api.Pipeline):
        name = "Upload"
        steps = [Prepare, WaitForUpload, WaitWithoutStart, Prepare]

    repo = api.TinyDBRepository
    pipeline = Upload(repository_class=repo)
    h.show("created")
    h.start(pipeline, "P0")
    h.start(pipeline, "P0")
    for _ in range(9):
        h.orchestrate(api, repo)
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
