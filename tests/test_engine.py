"""Tick semantics, per-instance metadata, context, errors and cancellation, on every repository."""

import pytest

from prorch_nb import (
    OnStartMixin,
    Orchestrator,
    OrchestratorConfig,
    Status,
    Step,
    StopReason,
    load_pipeline,
    register_pipeline,
    register_step,
)
from prorch_nb.exceptions.exceptions import (
    InvalidRecordError,
    InvalidTransitionError,
    PipelineNameNotDefinedException,
    RecordNotFoundError,
    StepHookError,
    StepsNotDefinedException,
)
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.store import Store
from tests.pipelines import APPROVALS, Approval, Broken, Quick, Refused, Simple

C, P, F, X, K = Status.CREATED, Status.PENDING, Status.FINISHED, Status.FAILED, Status.CANCELLED


def statuses(pipeline):
    pipeline.refresh()
    return pipeline.status, [s.status for s in pipeline.step_records()]


def test_creation_stores_pipeline_and_steps_in_order(repository_class):
    run = Simple(repository_class=repository_class)
    assert statuses(run) == (C, [C, C, C])
    steps = run.step_records()
    assert [s.name for s in steps] == ["Quick", "TwoPhase", "Quick"]
    assert [s.position for s in steps] == [0, 1, 2]
    assert all(s.pipeline_uuid == run.uuid for s in steps)
    assert run.record.created_at.endswith("+00:00")
    assert run.history[0]["status"] == C


def test_one_step_started_per_tick_and_end_on_the_following_tick(repository_class):
    run = Simple(repository_class=repository_class)
    assert run.start().action == "started Quick -> finished"
    assert statuses(run) == (P, [F, C, C])
    run.start()  # on_start of TwoPhase, then on_continue finishes it in the same tick
    assert statuses(run) == (P, [F, F, C])
    run.start()
    assert statuses(run) == (P, [F, F, F])
    outcome = run.start()
    assert outcome.ended and statuses(run) == (F, [F, F, F])
    assert run.start().action == "nothing to do"  # ended runs are never touched again


def test_current_step_recorded_on_pipeline(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    run.start()
    waiting = run.step_records()[1]
    assert run.refresh().current_step == waiting.uuid
    assert waiting.status == P


def test_orchestrator_ticks_only_pending_pipelines_oldest_first(repository_class):
    first, second = Simple(repository_class=repository_class), Simple(repository_class=repository_class)
    untouched = Simple(repository_class=repository_class)
    first.start()
    second.start()
    orchestrator = Orchestrator(config=OrchestratorConfig(repository_class=repository_class))
    assert [p.uuid for p in orchestrator.get_active_pipelines()] == [first.uuid, second.uuid]
    report = orchestrator.execute_pipelines()
    assert [o.pipeline_uuid for o in report.outcomes] == [first.uuid, second.uuid]
    assert len(report.advanced) == 2 and not report.errors
    assert statuses(untouched) == (C, [C, C, C])


def test_run_until_done_stops_when_nothing_pending(repository_class):
    runs = [Simple(repository_class=repository_class) for _ in range(3)]
    for run in runs:
        run.start()
    run_report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done()
    assert run_report.stopped_because == StopReason.NOTHING_PENDING
    assert len(run_report.ended) == 3
    assert all(statuses(run) == (F, [F, F, F]) for run in runs)


def test_run_until_done_stops_when_a_pass_changes_nothing(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=repository_class))
    report = orchestrator.run_until_done()
    assert report.stopped_because == StopReason.WAITING
    assert statuses(run) == (P, [F, P, C])
    APPROVALS.add(run.uuid)
    assert orchestrator.run_until_done().stopped_because == StopReason.NOTHING_PENDING
    assert statuses(run) == (F, [F, F, F])


def test_run_until_done_honours_max_ticks(repository_class):
    Simple(repository_class=repository_class).start()
    report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done(max_ticks=1)
    assert len(report.ticks) == 1 and report.stopped_because == StopReason.MAX_TICKS


def test_run_until_done_says_a_pass_that_changed_nothing_reported_errors(repository_class):
    run = Simple(repository_class=repository_class)
    run.start()
    Store(repository_class).pipelines.update(run.uuid, {"name": "RetiredPipeline"})

    report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done()

    assert report.stopped_because == StopReason.ERRORS and "RetiredPipeline" in report.errors[0].message


def test_run_until_done_stops_when_asked_before_a_pass(repository_class):
    Simple(repository_class=repository_class).start()
    report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done(
        should_stop=lambda: True
    )
    assert report.ticks == [] and report.stopped_because == StopReason.REQUESTED


def test_metadata_is_per_instance_and_persisted(repository_class):
    a, b = Approval(repository_class=repository_class), Approval(repository_class=repository_class)
    for _ in range(3):
        a.start()
    b.start()
    checks = {run.uuid: run.step_records()[1].metadata.get("checks") for run in (a, b)}
    assert checks == {a.uuid: 2, b.uuid: None}
    assert Pipeline.metadata == {"current_step": None}  # the class default is never mutated
    assert a.refresh().metadata["current_step"] != b.refresh().metadata["current_step"]


def test_on_start_metadata_reaches_on_continue_and_context_reaches_later_steps(repository_class):
    run = Simple(repository_class=repository_class, context={"tokens": []})
    for _ in range(4):
        run.start()
    two_phase = run.step_records()[1]
    assert two_phase.metadata["token"] == f"job-{two_phase.uuid[:4]}"
    assert run.refresh().context == {"tokens": [two_phase.metadata["token"]]}


def test_metadata_changed_after_finish_in_the_same_hook_is_saved(repository_class):
    @register_step
    class Tidy(OnStartMixin, Step):
        name = "TidyAfterFinish"

        def on_start(self):
            self.finish()
            self.metadata["tidied"] = True

    @register_pipeline
    class TidyRun(Pipeline):
        name = "TidyRun"
        steps = [Tidy]

    run = TidyRun(repository_class=repository_class)
    outcome = run.start()
    assert not outcome.conflict
    [step] = run.step_records()
    assert step.status == F and step.metadata == {"tidied": True} and step.claimed_by is None


def test_raising_hook_fails_step_with_error_then_pipeline(repository_class):
    run = Broken(repository_class=repository_class)
    run.start()
    with pytest.raises(StepHookError, match="Explodes") as caught:
        run.start()
    assert isinstance(caught.value.__cause__, ValueError)
    assert statuses(run) == (P, [F, X, C])
    error = run.step_records()[1].error
    assert error["type"] == "ValueError" and error["message"] == "disk full" and error["hook"] == "on_start"
    assert "raise ValueError" in error["traceback"]
    assert run.step_records()[1].history[-1]["by"] == "error"
    run.start()
    assert statuses(run) == (X, [F, X, C])


def test_raising_hook_never_stops_the_orchestrator(repository_class):
    healthy_before, broken, healthy_after = (cls(repository_class=repository_class) for cls in (Simple, Broken, Simple))
    for run in (healthy_before, broken, healthy_after):
        run.start()
    report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines()
    assert len(report.outcomes) == 3 and len(report.errors) == 1 and len(report.failed) == 1
    assert "disk full" in report.errors[0].message and report.errors[0].pipeline_uuid == broken.uuid
    assert "1 failed, 1 error>" in repr(report)
    Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done()
    assert statuses(broken)[0] == X
    assert statuses(healthy_before)[0] == statuses(healthy_after)[0] == F


def test_step_cancelling_itself_cancels_pipeline_and_leaves_the_rest_created(repository_class):
    run = Refused(repository_class=repository_class)
    run.start()
    run.start()
    assert statuses(run) == (K, [K, C])
    assert run.step_records()[0].history[-1]["note"] == "not today"


def test_cancel_from_outside_cancels_pending_step(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    run.start()
    run.cancel("no longer needed")
    assert statuses(run) == (K, [F, K, C])
    assert run.history[-1] == {**run.history[-1], "by": "hand", "note": "no longer needed"}
    assert run.step_records()[1].history[-1] == {**run.step_records()[1].history[-1], "by": "hand"}
    with pytest.raises(InvalidTransitionError, match="already cancelled"):
        run.cancel()


@register_step
class ClaimsToBeAPerson(OnStartMixin, Step):
    name = "ClaimsToBeAPerson"

    def on_start(self):
        self.finish("approved", by="hand")


@register_pipeline
class Impersonation(Pipeline):
    name = "Impersonation"
    steps = [ClaimsToBeAPerson]


def test_a_hook_cannot_write_who_ended_its_step_into_the_history(repository_class):
    run = Impersonation(repository_class=repository_class)

    with pytest.raises(StepHookError, match=r"TypeError.*'by'"):
        run.start()

    [step] = run.step_records()
    assert step.status == X and [entry["by"] for entry in step.history] == ["engine", "engine", "error"]


def test_a_run_and_its_steps_tell_their_repository_class_and_keep_it(repository_class):
    run = Approval(repository_class=repository_class)
    run.start()
    run.start()

    step = run.end_current_step(F)

    assert run.repository_class is repository_class and step.repository_class is repository_class
    assert load_pipeline(run.uuid, repository_class).repository_class is repository_class
    with pytest.raises(AttributeError):
        run.repository_class = dict


@pytest.mark.parametrize("ending", [F, X, K])
def test_end_current_step_by_hand_then_the_run_follows(repository_class, ending):
    run = Approval(repository_class=repository_class)
    run.start()
    run.start()
    step = run.end_current_step(ending, note="approved by Ana")
    assert step.name == "WaitForApproval" and statuses(run) == (P, [F, ending, C])
    assert run.step_records()[1].history[-1] == {
        **run.step_records()[1].history[-1],
        "by": "hand",
        "note": "approved by Ana",
    }
    run.start()
    assert statuses(run) == ((P, [F, F, F]) if ending == F else (ending, [F, ending, C]))


def test_end_current_step_refuses_without_a_pending_step(repository_class):
    run = Approval(repository_class=repository_class)
    with pytest.raises(InvalidTransitionError, match="no pending step"):
        run.end_current_step(F)
    with pytest.raises(ValueError, match="not 'pending'"):
        run.end_current_step(P)


def test_ended_status_never_changes(repository_class):
    run = Simple(repository_class=repository_class)
    run.start()
    step = load_pipeline(run.uuid, repository_class).step_records()[0]
    from prorch_nb.step.step import Step

    loaded = Step._from_record(step, Store(repository_class))
    with pytest.raises(InvalidTransitionError, match="ended status"):
        loaded.fail()


def test_a_kept_run_holds_no_store_between_operations(repository_class):
    run = Simple(repository_class=repository_class)  # thousands kept: no repository objects each
    assert run._store is None
    run.start()
    assert run._store is None
    assert load_pipeline(run.uuid, repository_class)._store is None
    run.cancel("kept")
    assert run._store is None and run.refresh().status == Status.CANCELLED


def test_load_by_uuid_and_by_registry(repository_class):
    run = Simple(repository_class=repository_class)
    assert Simple(repository_class=repository_class, pipeline_uuid=run.uuid).uuid == run.uuid
    assert type(load_pipeline(run.uuid, repository_class)) is Simple
    with pytest.raises(InvalidRecordError, match="is a 'Simple' run"):
        Approval(repository_class=repository_class, pipeline_uuid=run.uuid)
    with pytest.raises(RecordNotFoundError, match="no pipeline record"):
        Simple(repository_class=repository_class, pipeline_uuid="missing")


def test_class_definition_errors_name_the_class(repository_class):
    class Nameless(Pipeline):
        steps = [Quick]

    class Stepless(Pipeline):
        name = "Stepless"

    with pytest.raises(PipelineNameNotDefinedException, match="Nameless"):
        Nameless(repository_class=repository_class)
    with pytest.raises(StepsNotDefinedException, match="Stepless"):
        Stepless(repository_class=repository_class)
