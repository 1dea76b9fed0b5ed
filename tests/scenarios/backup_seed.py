"""The seed README's backup automation: three steps, each finishing in on_continue."""

import _harness as h


def main(api):
    @api.register_step
    class BackupGeneration(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "BackupGeneration"

        def on_start(self):
            h.say(self, "on_start", "Starting the backup generation process.")

        def on_continue(self):
            h.say(self, "on_continue", "Backup generation completed.")
            self.finish()

    @api.register_step
    class BackupTransfer(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "BackupTransfer"

        def on_start(self):
            h.say(self, "on_start", "Transferring the file to secure storage.")

        def on_continue(self):
            h.say(self, "on_continue", "Transfer completed.")
            self.finish()

    @api.register_step
    class ProcessCompletionNotification(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "ProcessCompletionNotification"

        def on_start(self):
            h.say(self, "on_start", "Notifying the process completion.")

        def on_continue(self):
            h.say(self, "on_continue", "Notification sent.")
            self.finish()

    @api.register_pipeline
    class BackupAutomationPipeline(api.Pipeline):
        name = "BackupAutomationPipeline"
        steps = [BackupGeneration, BackupTransfer, ProcessCompletionNotification]

    pipeline = BackupAutomationPipeline(repository_class=api.TinyDBRepository)
    h.show("created")
    h.start(pipeline, "P0")  # the README's "execute the pipeline"
    for _ in range(3):  # the orchestrator takes it from there: two steps, then the end
        h.orchestrate(api, api.TinyDBRepository)
    h.start(pipeline, "P0")  # an ended pipeline: nothing changes
    h.orchestrate(api, api.TinyDBRepository)  # nothing is pending
    h.done(api)


if __name__ == "__main__":
    main(h.load_api())
