"""Several pipelines under the orchestrator: pending ones only, in creation order."""

import _harness as h


def main(api):
    @api.register_step
    class Quick(api.OnStartMixin, api.Step):
        name = "Quick"

        def on_start(self):
            h.say(self, "on_start", "done")
            self.finish()

    @api.register_step
    class Slow(api.OnStartMixin, api.OnContinueMixin, api.Step):
        """Done on its third on_continue: the pass number says which one this is."""

        name = "Slow"

        def on_start(self):
            h.say(self, "on_start", "begun")

        def on_continue(self):
            if h.clock.tick % 3 == 0:
                h.say(self, "on_continue", "done")
                self.finish()
            else:
                h.say(self, "on_continue", "working")

    @api.register_pipeline
    class Short(api.Pipeline):
        name = "Short"
        steps = [Quick, Quick]

    @api.register_pipeline
    class Long(api.Pipeline):
        name = "Long"
        steps = [Quick, Slow, Quick, Slow]

    repo = api.TinyDBRepository
    runs = [Long(repository_class=repo), Short(repository_class=repo), Long(repository_class=repo)]
    runs += [Short(repository_class=repo), Short(repository_class=repo)]
    h.show("created")
    h.orchestrate(api, repo)  # nothing is pending yet
    h.start(runs[4], "P4")  # started newest first: the orchestrator still goes oldest first
    h.start(runs[2], "P2")
    h.start(runs[0], "P0")
    for _ in range(3):
        h.orchestrate(api, repo)
    # a late start, on an instance loaded by uuid, joins the next pass; P1 is never started
    h.start(Short(repository_class=repo, pipeline_uuid=runs[3].uuid), "P3 loaded by uuid")
    for _ in range(4):  # the last two passes find nothing pending
        h.orchestrate(api, repo)
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
