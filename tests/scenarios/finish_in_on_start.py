"""A step with both hooks that finishes in on_start: on_continue must not run that tick."""

import _harness as h


def main(api):
    @api.register_step
    class Instant(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "Instant"

        def on_start(self):
            h.say(self, "on_start", "finished already")
            self.finish()

        def on_continue(self):
            h.say(self, "on_continue", "SHOULD NOT RUN")

    @api.register_step
    class TwoTicks(api.OnStartMixin, api.OnContinueMixin, api.Step):
        """Finishes on its second on_continue (its tick tells them apart)."""

        name = "TwoTicks"

        def on_start(self):
            h.say(self, "on_start", f"started on pass {h.clock.tick}")

        def on_continue(self):
            if h.clock.tick % 2 == 0:
                h.say(self, "on_continue", "finished")
                self.finish()
            else:
                h.say(self, "on_continue", "not yet")

    @api.register_pipeline
    class InstantFirst(api.Pipeline):
        name = "InstantFirst"
        steps = [Instant, Instant, TwoTicks, Instant]

    pipeline = InstantFirst(repository_class=api.TinyDBRepository)
    h.show("created")
    for _ in range(7):
        h.start(pipeline, "P0")
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
