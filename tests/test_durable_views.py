"""Retries, timeouts, timers, signals and resumes as the views show them: diagrams, text, tooltips, frames.

Every time comes from a fake clock: what a view says of "now" is known to the second.
"""

from __future__ import annotations

import pandas as pd
import pytest

from prorch_nb import InMemoryRepository, Orchestrator, OrchestratorConfig, Status
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import StepHookError, StepTimeoutError
from prorch_nb.notebook.diagrams import run_graph
from prorch_nb.notebook.frames import pipelines_frame, steps_frame
from prorch_nb.notebook.tooltips import step_tooltip
from prorch_nb.notebook.waits import attempt_errors, failure_title
from prorch_nb.notebook.widgets import render
from prorch_nb.utils.clock import now_datetime
from tests import durable_pipelines as d
from tests.durable_pipelines import START, at
from tests.pipelines import Approval


def node(run, index: int = 0) -> str:
    """The DOT statement of step ``index`` in the run's diagram: its label and its tooltip."""
    [found] = [line for line in run.graph().body if line.startswith(f"\tstep{index} [")]
    return found


def label(run, index: int = 0) -> str:
    """The HTML-like label of step ``index`` of the run's diagram."""
    return node(run, index).split(" color=")[0]


def tooltip(run, index: int = 0) -> str:
    record, steps = run.refresh().record, run.step_records()
    return step_tooltip(record, steps[index], index, len(steps), now=now_datetime())


def retried(failures: int):
    """An Upload run whose first ``failures`` attempts raise, started once."""
    run = d.Upload(repository_class=InMemoryRepository.fresh())
    d.FAILURES[run.uuid] = failures
    run.start()
    return run


def until_done(run):
    Orchestrator(OrchestratorConfig(repository_class=run.repository_class)).run_until_done(wait=True)
    return run.refresh()


# Diagrams and the text repr ------------------------------------------------------------


def test_a_retrying_step_shows_its_attempts_its_next_try_and_an_hourglass(clock):
    run = retried(3)
    assert '<font point-size="10">⏳ pending</font>' in label(run)
    assert '<font point-size="9">attempt 1/4</font><br/><font point-size="9">retry at 09:00:10 UTC</font>' in label(run)
    assert repr(run) == f"<Upload {run.uuid[:8]} pending: ⏳ FlakyUpload>"
    clock.advance(10)
    run.start()
    assert "attempt 2/4" in label(run) and "retry at 09:00:40 UTC" in label(run)  # 10 s, then 30 s
    clock.advance(30)  # due now: it no longer waits, the next pass runs it
    assert "▶ pending" in label(run) and repr(run).endswith(": ▶ FlakyUpload>")


def test_a_timer_shows_when_it_ends_and_the_deadline_and_a_signal_wakes_it(clock):
    run = d.SignalledApproval(repository_class=InMemoryRepository.fresh())
    run.start()
    assert "⏳ pending" in label(run) and "waits until 10:00:00 UTC" in label(run)
    assert "timeout 2026-12-01 09:00:00 UTC" in label(run)  # another day: with its date
    assert "attempt" not in label(run)  # no retry, one attempt: nothing to count
    run.send("approval", {"by": "ann"})
    assert "▶ pending" in label(run) and "woken by a signal" in label(run)
    assert "⏳" not in repr(run)


def test_steps_without_retries_timers_or_deadlines_are_drawn_as_before(clock):
    run = Approval(repository_class=InMemoryRepository.fresh())
    run.start()
    run.start()
    labels = [label(run, index) for index in range(3)]
    assert [text.count("<br/>") for text in labels] == [1, 1, 1]
    assert labels[1].endswith('[label=<<b>2. WaitForApproval</b><br/><font point-size="10">▶ pending</font>>')
    assert repr(run) == f"<Approval {run.uuid[:8]} pending: ✓ Quick → ▶ WaitForApproval → · Quick>"


def test_attempts_of_a_step_whose_class_is_not_registered_are_counted_when_more_than_one():
    run = PipelineData(uuid="p", name="Elsewhere", status=Status.PENDING, metadata={"current_step": "s"})

    def drawn(attempts):
        step = StepData(uuid="s", name="NotRegistered", pipeline_uuid="p", status=Status.PENDING, attempts=attempts)
        return run_graph(run, [step]).body[0]

    assert "attempt 3" in drawn(3) and "attempt 3/" not in drawn(3)
    assert "attempt" not in drawn(1)


# Tooltips, error boxes and the steps table ------------------------------------------------


def test_each_attempts_error_is_listed_and_the_last_one_is_not_called_a_failure(clock):
    run = retried(3)
    clock.advance(10)
    run.start()
    tip = tooltip(run)
    assert "attempt 1/4: ConnectionError: upload refused on attempt 1" in tip
    assert "attempt 2/4: ConnectionError: upload refused on attempt 2" in tip
    assert "error in" not in tip  # the step has not failed: it waits for attempt 3
    steps = run.step_records()
    assert render.step_errors(steps) == ""
    table = render.steps_table(steps)
    assert "<td style='white-space:pre-line'>attempt 1/4: ConnectionError: upload refused on attempt 1\n" in table


def test_a_step_that_succeeded_after_retries_shows_its_attempts_but_no_error(clock):
    run = until_done(retried(1))
    assert run.status == Status.FINISHED
    assert "✓ finished" in label(run) and "attempt 2/4" in label(run) and "retry at" not in label(run)
    assert tooltip(run).splitlines()[-2:] == [
        "attempt 1/4: ConnectionError: upload refused on attempt 1",
        "attempt 2/4",
    ]
    assert render.step_errors(run.step_records()) == ""


def test_the_last_attempts_failure_follows_the_earlier_attempts(clock):
    run = until_done(retried(99))
    tip = tooltip(run).splitlines()
    assert tip[-5:] == [
        "attempt 1/4: ConnectionError: upload refused on attempt 1",
        "attempt 2/4: ConnectionError: upload refused on attempt 2",
        "attempt 3/4: ConnectionError: upload refused on attempt 3",
        "attempt 4/4",
        "error in on_start: ConnectionError: upload refused on attempt 4",
    ]
    steps = run.step_records()
    assert "<b>FlakyUpload failed in on_start</b>: ConnectionError: upload refused on attempt 4" in (
        render.step_errors(steps)
    )
    assert "error in on_start: ConnectionError: upload refused on attempt 4</td>" in render.steps_table(steps)


def test_a_timed_out_step_reads_as_timed_out(clock):
    run = d.SignalledApproval(repository_class=InMemoryRepository.fresh())
    run.start()
    clock.advance(24 * 3600)
    with pytest.raises(StepTimeoutError):
        run.start()
    tip = tooltip(run)
    assert "timed out: StepTimeoutError: step 'AwaitApproval'" in tip and "a hook" not in tip
    box = render.step_errors(run.step_records())
    assert "<b>AwaitApproval timed out</b>: StepTimeoutError: " in box and "failed in" not in box
    assert "timeout" not in label(run).split("</b>")[1]  # an ended step has no deadline to show
    assert steps_frame(run.repository_class)["by"].tolist() == ["timeout"]


def test_lost_workers_read_as_attempts_that_never_ended():
    note = "attempt 2 of 2 began and never ended (its worker stopped)"
    step = StepData(
        uuid="s",
        name=d.KilledAlways.name,
        pipeline_uuid="p",
        status=Status.FAILED,
        attempts=3,
        history=[{"status": Status.PENDING, "at": START, "by": "retry", "attempt": 1, "note": "..."}],
        error={"type": "LostAttemptError", "message": note, "traceback": ""},
    )
    assert attempt_errors(step) == ["attempt 1/2: began and never ended (its worker stopped)"]
    assert failure_title(step) == "KilledAlways failed"
    run = PipelineData(uuid="p", name="KillAlways", status=Status.FAILED)
    assert f"error: LostAttemptError: {note}" in step_tooltip(run, step, 0, 1, now=now_datetime())


# Resumes --------------------------------------------------------------------------------


def test_a_resumed_run_has_not_ended_until_it_ends_again(clock):
    run = d.Resumable(repository_class=InMemoryRepository.fresh())
    with pytest.raises(StepHookError):
        run.start()
    run.start()
    clock.advance(60)
    d.FIXED.add(run.uuid)
    d.FAILURES[run.uuid] = 0
    run.resume("disk cleaned up")
    assert "resumed 2026-11-30 09:01:00 UTC after OSError: disk full (note: disk cleaned up)" in tooltip(run)
    pipeline = pipelines_frame(run.repository_class).iloc[0]
    assert (pipeline["status"], pipeline["ended_at"], pipeline["by"]) == (Status.PENDING, pd.NaT, pd.NA)
    assert steps_frame(run.repository_class)["ended_at"].isna().all()
    clock.advance(60)
    assert until_done(run).status == Status.FINISHED
    pipeline = pipelines_frame(run.repository_class).iloc[0]
    assert (pipeline["ended_at"], pipeline["by"]) == (pd.Timestamp(at(120)), "engine")
    assert steps_frame(run.repository_class)["by"].tolist() == ["step", "step"]


# Frames -----------------------------------------------------------------------------------


def test_frames_show_attempts_due_times_deadlines_and_signals(repository_class, clock):
    upload = d.Upload(repository_class=repository_class)
    d.FAILURES[upload.uuid] = 3
    upload.start()
    approval = d.SignalledApproval(repository_class=repository_class)
    approval.start()
    approval.send("approval", {"by": "ann", "comment": "ça va"}, note="looks good")
    steps = steps_frame(repository_class).set_index("name")
    assert steps.loc["FlakyUpload", "attempts"] == 1 and steps.loc["AwaitApproval", "attempts"] == 1
    assert steps.loc["FlakyUpload", "next_due"] == pd.Timestamp(at(10))
    assert steps.loc["AwaitApproval", "next_due"] == pd.Timestamp(at(3600))
    assert pd.isna(steps.loc["FlakyUpload", "deadline"])
    assert steps.loc["AwaitApproval", "deadline"] == pd.Timestamp(at(24 * 3600))
    runs = pipelines_frame(repository_class).set_index("name")
    assert runs.loc["Upload", "next_due"] == pd.Timestamp(at(10))
    assert pd.isna(runs.loc["SignalledApproval", "next_due"])  # a signal makes it due at the next pass
    assert pd.isna(runs.loc["Upload", "signals"])
    assert runs.loc["SignalledApproval", "signals"] == '{"approval": {"by": "ann", "comment": "ça va"}}'
    flat = pipelines_frame(repository_class, flatten_metadata=True).set_index("name")
    assert flat.loc["SignalledApproval", "signals.approval.by"] == "ann"
