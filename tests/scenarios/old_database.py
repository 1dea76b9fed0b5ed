"""A database.json written by prorch 1.0.1, carried on to the end by prorch_nb.

``old_database.py prorch write`` leaves runs part way (with the seed's repository);
``old_database.py prorch_nb continue {default|seed}`` loads them with
``prorch_nb.TinyDBRepository`` or the seed's repository class, runs the orchestrator
until nothing is pending, starts the run prorch never started, and runs again.
``old_database.py <root> continue passes`` does the same with the seed's repository and
a fixed number of ``execute_pipelines()`` passes, so either root can carry on. The
outside event a waiting step looks for is the file ``go`` in the working folder.
"""

import os
import sys

import _harness as h


def define(api):
    @api.register_step
    class Prepare(api.OnStartMixin, api.Step):
        name = "Prepare"

        def on_start(self):
            h.say(self, "on_start", "prepared")
            self.finish()

    @api.register_step
    class WaitForGo(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "WaitForGo"

        def on_start(self):
            h.say(self, "on_start", "asked for a go")

        def on_continue(self):
            if os.path.exists("go"):
                h.say(self, "on_continue", "go")
                self.finish()
            else:
                h.say(self, "on_continue", "no go yet")

    @api.register_step
    class Notify(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "Notify"

        def on_start(self):
            h.say(self, "on_start", "sending")

        def on_continue(self):
            h.say(self, "on_continue", "sent")
            self.finish()

    @api.register_pipeline
    class Transfer(api.Pipeline):
        name = "Transfer"
        steps = [Prepare, WaitForGo, Notify]

    @api.register_pipeline
    class Short(api.Pipeline):
        name = "Short"
        steps = [Prepare, Notify]

    return {"Transfer": Transfer, "Short": Short}


def write(api):
    """P0 waits on a pending step, P1 is never started, P2 is finished, P3 is between steps."""
    classes, repo = define(api), api.TinyDBRepository
    waiting, untouched = classes["Transfer"](repository_class=repo), classes["Transfer"](repository_class=repo)
    short, between = classes["Short"](repository_class=repo), classes["Transfer"](repository_class=repo)
    h.show("created")
    h.start(waiting, "P0")
    h.start(waiting, "P0")
    for _ in range(3):
        h.start(short, "P2")
    h.start(between, "P3")
    assert untouched.status == api.Status.CREATED
    h.done(api)


def carry_on(api, how):
    classes, repo = define(api), api.TinyDBRepository
    if how == "default":
        import prorch_nb

        repo = prorch_nb.TinyDBRepository.at("database.json")
    for index, (record, _) in enumerate(h.stored()):
        run = classes[record["name"]](repository_class=repo, pipeline_uuid=record["uuid"])
        print(f"loaded P{index} {run.name} {run.status} {run.uuid == record['uuid']}")
    open("go", "w").close()
    run_all(api, repo, how)
    h.show("after the orchestrator")
    for index, (record, _) in enumerate(h.stored()):
        if record["status"] == api.Status.CREATED:
            h.start(classes[record["name"]](repository_class=repo, pipeline_uuid=record["uuid"]), f"P{index}")
    run_all(api, repo, how)
    h.done(api)


def run_all(api, repo, how):
    if how == "passes":
        for _ in range(4):
            h.orchestrate(api, repo)
    else:
        api.Orchestrator(config=api.OrchestratorConfig(repository_class=repo)).run_until_done()


if __name__ == "__main__":
    api = h.load_api()
    if sys.argv[2:3] == ["write"]:
        write(api)
    else:
        carry_on(api, sys.argv[3])
