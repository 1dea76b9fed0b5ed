"""Stored records: unknown names, malformed records, and state carried across processes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import Orchestrator, OrchestratorConfig, Status, TinyDBRepository, load_pipeline
from prorch_nb.exceptions.exceptions import InvalidRecordError, NotRegisteredError
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.store import Store
from tests.pipelines import Approval, Simple

REPO_ROOT = Path(__file__).resolve().parents[1]


def orchestrate(repository_class):
    return Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines()


def test_unregistered_pipeline_name_is_reported_and_others_go_on(repository_class):
    stray, healthy = Simple(repository_class=repository_class), Simple(repository_class=repository_class)
    stray.start()
    healthy.start()
    store = Store(repository_class)
    store.pipelines.update(stray.uuid, {"name": "RetiredPipeline"})

    report = orchestrate(repository_class)

    [error] = report.errors
    assert error.pipeline_uuid == stray.uuid and isinstance(error.exception, NotRegisteredError)
    assert f"'RetiredPipeline' (pipeline record {stray.uuid}) is not registered" in error.message
    assert [o.pipeline_uuid for o in report.outcomes] == [healthy.uuid]
    with pytest.raises(NotRegisteredError, match="RetiredPipeline"):
        load_pipeline(stray.uuid, repository_class)


def test_unregistered_step_name_names_step_and_pipeline(repository_class):
    run = Simple(repository_class=repository_class)
    run.start()
    second = run.step_records()[1]
    Store(repository_class).steps.update(second.uuid, {"name": "VanishedStep"})

    [error] = orchestrate(repository_class).errors

    assert "'VanishedStep'" in error.message and second.uuid in error.message and run.uuid in error.message
    assert [s.status for s in run.step_records()] == [Status.FINISHED, Status.CREATED, Status.CREATED]


def test_malformed_record_is_reported_with_its_uuid(repository_class):
    run = Simple(repository_class=repository_class)
    run.start()
    Store(repository_class).steps.update(run.step_records()[1].uuid, {"metadata": ["not", "a", "dict"]})

    [error] = orchestrate(repository_class).errors

    assert isinstance(error.exception, InvalidRecordError)
    assert "field 'metadata' must be a dict" in error.message and error.pipeline_uuid == run.uuid


def test_pipeline_listing_steps_of_another_pipeline_is_reported(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    steps = run.step_records()
    for step in steps:
        Store(repository_class).steps.update(step.uuid, {"pipeline_uuid": "elsewhere"})

    [error] = orchestrate(repository_class).errors
    assert isinstance(error.exception, InvalidRecordError)
    if repository_class.status_of is IRepository.status_of:  # statuses read from every step record
        assert f"({run.uuid}) has no step records" in error.message
    else:  # statuses read from the index, then the open step's record
        assert f"({run.uuid}) lists step {steps[1].uuid}, which belongs to pipeline elsewhere" in error.message


def test_pipeline_whose_step_records_are_gone_is_reported(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    store = Store(repository_class)
    store.pipelines.update(run.uuid, {"step_uuids": []})  # a record of prorch 1.0.1 lists no steps
    for step in run.step_records():
        store.steps.update(step.uuid, {"pipeline_uuid": "elsewhere"})

    [error] = orchestrate(repository_class).errors
    assert f"({run.uuid}) has no step records" in error.message


STEP_MODULE = """
from prorch_nb import OnContinueMixin, OnStartMixin, Pipeline, Step, register_pipeline, register_step

@register_step
class Remember(OnStartMixin, OnContinueMixin, Step):
    name = "Remember"

    def on_start(self):
        self.metadata["ticket"] = "T-" + self.uuid[:6]
        self.context["seen_by"] = ["on_start"]
        print("on_start stored", self.metadata["ticket"])

    def on_continue(self):
        print("on_continue read", self.metadata.get("ticket"), self.context.get("seen_by"))
        if self.metadata.get("ticket"):
            self.finish()

@register_pipeline
class RememberAcrossProcesses(Pipeline):
    name = "RememberAcrossProcesses"
    steps = [Remember]
"""


def run_python(code: str, folder: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        env={"PYTHONPATH": f"{REPO_ROOT}:{folder}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_metadata_written_by_on_start_is_read_by_on_continue_in_another_process(tmp_path):
    (tmp_path / "remember.py").write_text(STEP_MODULE)
    setup = "import remember, prorch_nb as pn; R = pn.TinyDBRepository.at('runs.json');"
    first = run_python(setup + "r = remember.RememberAcrossProcesses(repository_class=R); print(r.uuid)", tmp_path)
    uuid = first.split()[-1]
    # The first process may not even finish the step: its on_continue finds the ticket at once.
    started = run_python(
        setup + f"remember.RememberAcrossProcesses(repository_class=R, pipeline_uuid='{uuid}').start()", tmp_path
    )
    ticket = started.split()[2]
    assert started.splitlines() == [f"on_start stored {ticket}", f"on_continue read {ticket} ['on_start']"]

    tables = json.loads((tmp_path / "runs.json").read_text())
    [step] = tables["pipeline_steps"].values()
    assert step["metadata"] == {"ticket": ticket} and step["status"] == Status.FINISHED
    [pipeline] = tables["pipelines"].values()
    assert pipeline["context"] == {"seen_by": ["on_start"]}

    ended = run_python(setup + "print(pn.Orchestrator(pn.OrchestratorConfig(R)).run_until_done())", tmp_path)
    assert "ended finished" in ended
    assert TinyDBRepository.at(tmp_path / "runs.json")("PIPELINE").get(uuid)["status"] == Status.FINISHED


def test_malformed_pending_pipeline_record_is_reported_and_others_go_on(repository_class):
    broken, healthy = Simple(repository_class=repository_class), Simple(repository_class=repository_class)
    broken.start()
    healthy.start()
    Store(repository_class).pipelines.update(broken.uuid, {"context": "not a dict"})

    report = orchestrate(repository_class)

    [error] = report.errors
    assert error.pipeline_uuid == broken.uuid and error.pipeline_name == "Simple"
    assert isinstance(error.exception, InvalidRecordError) and "field 'context' must be a dict" in error.message
    assert [o.pipeline_uuid for o in report.outcomes] == [healthy.uuid]


def test_optional_reads_agree_with_the_four_required_methods(repository_class):
    runs = [Simple(repository_class=repository_class) for _ in range(3)]
    runs[1].start()
    runs[2].cancel("not needed")
    pipelines, steps = Store(repository_class).pipelines, Store(repository_class).steps

    for table in (pipelines, steps):
        for status in Status.ALL:
            found = table.search(["status", status])
            assert table.search_uuids(["status", status]) == [record["uuid"] for record in found]
            assert all(table.status_of(record["uuid"]) == status for record in found)
    assert steps.search_uuids(["pipeline_uuid", runs[0].uuid]) == [s.uuid for s in runs[0].step_records()]
    assert steps.search_uuids(["position", 1]) == [r.step_records()[1].uuid for r in runs]  # not indexed
    assert pipelines.search_uuids(["uuid", runs[2].uuid]) == [runs[2].uuid]
    assert pipelines.search_uuids(["uuid", "nobody"]) == [] and pipelines.status_of("nobody") is None
