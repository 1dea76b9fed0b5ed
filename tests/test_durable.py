"""Retries with backoff, timeouts, timers, signals and resuming, under a fake clock (nothing sleeps)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import (
    InMemoryRepository,
    Orchestrator,
    OrchestratorConfig,
    Retry,
    Status,
    StopReason,
    TinyDBRepository,
)
from prorch_nb.exceptions.exceptions import (
    InvalidTransitionError,
    NotJSONError,
    StepHookError,
    StepTimeoutError,
)
from prorch_nb.utils.clock import utc_now
from tests import durable_pipelines as d
from tests.durable_pipelines import at


def orchestrator(repository_class) -> Orchestrator:
    return Orchestrator(OrchestratorConfig(repository_class=repository_class))


def step_of(run, index: int = 0):
    return run.step_records()[index]


def by(history, who):
    return [entry for entry in history if entry.get("by") == who]


# Retries ------------------------------------------------------------------------------


def test_retry_schedule_follows_backoff_and_keeps_every_attempt(repository_class, clock):
    run = d.Upload(repository_class=repository_class)
    d.FAILURES[run.uuid] = 3
    outcome = run.start()
    assert outcome.step_after == Status.PENDING and outcome.due_at == at(10)
    runner = orchestrator(repository_class)
    report = runner.run_until_done()
    assert report.stopped_because == StopReason.WAITING and report.next_due == at(10)

    report = runner.run_until_done(wait=True)
    assert report.stopped_because == StopReason.NOTHING_PENDING
    step = step_of(run)
    assert (step.status, step.attempts, step.metadata) == (Status.FINISHED, 4, {"uploaded_on": 4})
    retries = by(step.history, "retry")
    assert [entry["attempt"] for entry in retries] == [1, 2, 3]
    assert [entry["next_at"] for entry in retries] == [at(10), at(10 + 30), at(10 + 30 + 60)]  # 10, 30, capped at 60
    assert [entry["at"] for entry in retries] == [at(0), at(10), at(40)]
    assert [entry["error"]["message"] for entry in retries] == [f"upload refused on attempt {n}" for n in (1, 2, 3)]
    assert all(entry["error"]["type"] == "ConnectionError" for entry in retries)
    assert run.refresh().status == Status.FINISHED
    assert utc_now() == at(100)  # the orchestrator slept on the fake clock until each attempt was due


def test_the_last_attempt_fails_the_step_with_every_error_kept(repository_class, clock):
    run = d.Upload(repository_class=repository_class)
    d.FAILURES[run.uuid] = 99
    run.start()
    report = orchestrator(repository_class).run_until_done(wait=True)
    assert report.stopped_because == StopReason.NOTHING_PENDING
    step = step_of(run)
    assert (step.status, step.attempts) == (Status.FAILED, 4)
    assert [entry["attempt"] for entry in by(step.history, "retry")] == [1, 2, 3]
    assert step.error["message"] == "upload refused on attempt 4"
    assert step.history[-1]["by"] == "error" and step.due_at is None and step.claimed_by is None
    assert run.refresh().status == Status.FAILED


def test_retry_if_decides_which_exceptions_are_retried(repository_class, clock):
    run = d.Picky(repository_class=repository_class)
    run.start()  # ConnectionError: retried
    clock.advance(1)
    with pytest.raises(StepHookError, match="PermissionError"):
        run.start()  # PermissionError: not retried, though attempts are left
    step = step_of(run)
    assert (step.status, step.attempts, len(by(step.history, "retry"))) == (Status.FAILED, 2, 1)


def test_a_predicate_that_raises_fails_the_step_and_says_so(repository_class, clock):
    run = d.Predicate(repository_class=repository_class)
    with pytest.raises(StepHookError):
        run.start()
    step = step_of(run)
    assert step.status == Status.FAILED
    assert "retry_if raised ZeroDivisionError" in step.error["message"]


def test_retry_arguments_are_checked():
    assert [Retry(interval=2, backoff=10, max_interval=None).delay(n) for n in (1, 2, 3, 4)] == [2, 20, 200, 200]
    assert Retry(interval=1, backoff=2).delay(5000) == 100  # no overflow: capped at 100 x interval
    bad_arguments = [{"max_attempts": 0}, {"max_attempts": 2.5}, {"interval": -1}, {"backoff": 0.5}]
    bad_arguments.append({"interval": float("inf")})
    for bad in bad_arguments:
        with pytest.raises(ValueError, match="Retry"):
            Retry(**bad)
    with pytest.raises(TypeError, match="retry_if"):
        Retry(retry_if="ConnectionError")


def test_a_step_class_with_a_bad_timeout_or_retry_is_refused():
    from prorch_nb import Step

    class Forever(Step):
        name = "Forever"
        timeout = -5

    class Wrong(Step):
        name = "Wrong"
        retry = 3

    with pytest.raises(ValueError, match="Forever: timeout"):
        Forever._validate_class()
    with pytest.raises(TypeError, match="Wrong: retry must be a Retry"):
        Wrong._validate_class()


# Timers and timeouts -------------------------------------------------------------------


def test_a_timer_is_not_run_before_its_time(repository_class, clock):
    run = d.Timer(repository_class=repository_class, context={"until": at(3600)})
    outcome = run.start()
    assert outcome.due_at == at(3600) and "waiting until" in outcome.action
    assert run.start().action == f"not due until {at(3600)}"
    clock.advance(3599)
    report = orchestrator(repository_class).run_until_done()
    assert report.stopped_because == StopReason.WAITING and report.next_due == at(3600)
    assert step_of(run).status == Status.PENDING
    clock.advance(1)
    orchestrator(repository_class).run_until_done()
    assert [r.status for r in run.step_records()] == [Status.FINISHED]
    assert run.refresh().status == Status.FINISHED


@pytest.mark.parametrize("store", ["memory", "tinydb"])
def test_a_pass_skips_waiting_runs_without_reading_them(store, tmp_path, clock):
    repository_class = InMemoryRepository.fresh() if store == "memory" else TinyDBRepository.at(tmp_path / "runs.json")
    waiting = [d.Timer(repository_class=repository_class, context={"until": at(600)}) for _ in range(3)]
    for run in waiting:
        run.start()
    due = d.Timer(repository_class=repository_class, context={"until": at(5)})
    due.start()
    read: list[str] = []
    original = repository_class.get

    def counting_get(self, uuid):
        read.append(uuid)
        return original(self, uuid)

    counted = type("Counted", (repository_class,), {"get": counting_get})
    clock.advance(5)
    report = orchestrator(counted).execute_pipelines()
    assert [o.pipeline_uuid for o in report.outcomes] == [due.uuid]
    assert not {run.uuid for run in waiting} & set(read)
    steps_of_waiting = {uuid for run in waiting for uuid in run.record.step_uuids}
    assert not steps_of_waiting & set(read)


def test_timeout_fails_a_waiting_step_at_its_deadline(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    step = step_of(run)
    assert step.deadline == at(24 * 3600) and step.due_at == at(3600)
    report = orchestrator(repository_class).run_until_done(wait=True)
    assert report.stopped_because == StopReason.NOTHING_PENDING
    assert [str(error.exception.__class__.__name__) for error in report.errors] == ["StepTimeoutError"]
    step = step_of(run)
    assert step.status == Status.FAILED and step.metadata["checks"] == 23
    assert step.history[-1]["by"] == "timeout" and step.error["type"] == "StepTimeoutError"
    assert step.history[-1]["at"] == at(24 * 3600)
    assert run.refresh().status == Status.FAILED


def test_start_raises_the_timeout_like_a_hook_error(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    clock.advance(24 * 3600)
    with pytest.raises(StepTimeoutError, match="deadline"):
        run.start()
    assert step_of(run).status == Status.FAILED


def test_wait_outside_a_hook_is_refused(repository_class, clock):
    from prorch_nb.step.step import Step
    from prorch_nb.store import Store

    run = d.Timer(repository_class=repository_class, context={"until": at(60)})
    step = Step._from_record(step_of(run), Store(repository_class))
    with pytest.raises(InvalidTransitionError, match="wait"):
        step.wait(10)


# Signals ----------------------------------------------------------------------------------


def test_a_signal_wakes_a_waiting_step_and_is_recorded(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    runner = orchestrator(repository_class)
    assert runner.run_until_done().stopped_because == StopReason.WAITING
    clock.advance(60)
    run.send("approval", {"by": "ann", "comment": "ship it"}, note="from the panel")
    report = runner.run_until_done()
    assert report.stopped_because == StopReason.NOTHING_PENDING
    step = step_of(run)
    assert step.status == Status.FINISHED and step.metadata == {"checks": 1, "approved_by": "ann"}
    assert step.history[-1]["note"] == "ship it"
    assert step.history[-1]["at"] == at(60)  # woken at once, not at the hour
    run.refresh()
    assert run.record.signals == {"approval": {"by": "ann", "comment": "ship it"}}
    signal = by(run.history, "signal")
    assert signal == [
        {
            "status": Status.PENDING,
            "at": at(60),
            "by": "signal",
            "note": "from the panel",
            "signal": "approval",
            "value": {"by": "ann", "comment": "ship it"},
        }
    ]


def test_a_signal_sent_while_the_hook_runs_is_not_lost(repository_class, clock):
    """The hook reads no approval, a signal arrives, then the hook waits: the wait is woken at once."""
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    clock.advance(3600)
    original = d.AwaitApproval.on_continue

    def racing(self):
        original(self)  # sees no approval yet, waits an hour
        run.send("approval", {"by": "bob"})  # another process, while the hook runs

    d.AwaitApproval.on_continue = racing
    try:
        run.start()
    finally:
        d.AwaitApproval.on_continue = original
    assert step_of(run).status == Status.PENDING
    assert run.refresh().record.due_at is None  # due now, not in an hour
    run.start()
    assert step_of(run).status == Status.FINISHED


def test_signals_are_checked(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    with pytest.raises(NotJSONError, match="signal"):
        run.send("approval", {1, 2})
    with pytest.raises(ValueError, match="name"):
        run.send("", 1)
    run.start()
    run.cancel()
    with pytest.raises(InvalidTransitionError, match="no more signals"):
        run.send("approval", {"by": "ann"})
    assert run.refresh().record.signals == {}


# Resuming -----------------------------------------------------------------------------------


def test_a_failed_run_resumes_from_the_step_that_failed(repository_class, clock):
    run = d.Resumable(repository_class=repository_class)
    with pytest.raises(StepHookError):
        run.start()
    runner = orchestrator(repository_class)
    runner.run_until_done()
    assert run.refresh().status == Status.FAILED
    d.FIXED.add(run.uuid)
    d.FAILURES[run.uuid] = 0
    step = run.resume("disk cleaned up")
    assert step.name == "Crashes" and step.status == Status.PENDING
    assert run.refresh().status == Status.PENDING
    report = runner.run_until_done()
    assert report.stopped_because == StopReason.NOTHING_PENDING
    assert run.refresh().status == Status.FINISHED
    crashes = step_of(run)
    assert crashes.status == Status.FINISHED and crashes.attempts == 1 and crashes.error is None
    resumed = [entry for entry in crashes.history if entry.get("by") == "hand"]
    assert resumed == [
        {
            "status": Status.PENDING,
            "at": at(0),
            "by": "hand",
            "note": "disk cleaned up",
            "resumed_from": {"type": "OSError", "message": "disk full", "hook": "on_start"},
        }
    ]
    assert [entry["status"] for entry in run.history] == ["created", "pending", "failed", "pending", "finished"]


def test_only_failed_or_cancelled_runs_resume(repository_class, clock):
    run = d.Timer(repository_class=repository_class, context={"until": at(0)})
    with pytest.raises(InvalidTransitionError, match="only a failed or cancelled run"):
        run.resume()
    run.start()
    run.start()
    run.start()
    assert run.refresh().status == Status.FINISHED
    with pytest.raises(InvalidTransitionError, match="finished"):
        run.resume()


def test_a_cancelled_run_resumes_its_cancelled_step(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    run.cancel("by mistake")
    step = run.resume("undo")
    assert step.status == Status.PENDING and run.refresh().status == Status.PENDING
    run.start()  # on_start again: it waits
    run.send("approval", {"by": "ann"})
    orchestrator(repository_class).run_until_done()
    assert run.refresh().status == Status.FINISHED


# Crash safety ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
TICK_IN_A_WORKER = """
import sys
from prorch_nb import TinyDBRepository, load_pipeline
import tests.durable_pipelines
load_pipeline(sys.argv[2], TinyDBRepository.at(sys.argv[1])).start()
"""


SEND_UNTIL_STOPPED = """
import select, sys
from prorch_nb import TinyDBRepository, load_pipeline
import tests.durable_pipelines
run = load_pipeline(sys.argv[2], TinyDBRepository.at(sys.argv[1]))
while not select.select([sys.stdin], [], [], 0.05)[0]:
    run.send("ping", 1)
"""


def tick_in_a_killed_worker(db: Path, uuid: str) -> None:
    """``run.start()`` in another process, which is SIGKILLed during the attempt."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", TICK_IN_A_WORKER, str(db), uuid], cwd=ROOT, env=env, timeout=120)
    assert result.returncode == -signal.SIGKILL


def test_kill_9_between_an_attempts_failure_and_its_record_loses_no_attempt(tmp_path):
    repository_class = TinyDBRepository.at(tmp_path / "runs.json")
    run = d.KillOnce(repository_class=repository_class)
    tick_in_a_killed_worker(tmp_path / "runs.json", run.uuid)
    assert step_of(run).attempts == 1  # stored with the claim, before the attempt began
    run.start()  # the dead worker's claim is taken over at once
    step = step_of(run)
    assert (step.status, step.attempts) == (Status.FINISHED, 2)
    (lost,) = by(step.history, "retry")
    assert lost["attempt"] == 1 and "never ended" in lost["note"]


def test_workers_killed_in_every_attempt_fail_the_step_after_the_last(tmp_path):
    repository_class = TinyDBRepository.at(tmp_path / "runs.json")
    run = d.KillAlways(repository_class=repository_class)
    tick_in_a_killed_worker(tmp_path / "runs.json", run.uuid)
    tick_in_a_killed_worker(tmp_path / "runs.json", run.uuid)
    outcome = run.start()
    step = step_of(run)
    assert (outcome.step_after, step.status, step.attempts) == (Status.FAILED, Status.FAILED, 2)
    assert step.error["type"] == "LostAttemptError" and "attempt 2 of 2" in step.error["message"]
    run.start()
    assert run.refresh().status == Status.FAILED


def test_a_resumed_step_counts_its_attempts_anew(repository_class, clock):
    run = d.Upload(repository_class=repository_class)
    d.FAILURES[run.uuid] = 99
    run.start()
    runner = orchestrator(repository_class)
    runner.run_until_done(wait=True)
    assert (step_of(run).status, step_of(run).attempts) == (Status.FAILED, 4)
    d.FAILURES[run.uuid] = 1
    run.resume("the server is back")
    runner.run_until_done(wait=True)
    step = step_of(run)
    assert (step.status, step.attempts) == (Status.FINISHED, 2)
    after_resume = step.history[[entry["by"] for entry in step.history].index("hand") :]
    assert [(entry["by"], entry.get("attempt")) for entry in after_resume] == [
        ("hand", None),
        ("retry", 1),
        ("step", None),
    ]


# Times written by hand ---------------------------------------------------------------------


def test_a_due_time_written_by_hand_is_read_as_a_time_or_holds_nothing_back(repository_class, clock):
    """Another offset is compared as the time it is; what is no time at all does not leave the run stuck."""
    from prorch_nb.store import Store

    store = Store(repository_class)
    runs = [d.Timer(repository_class=repository_class, context={"until": at(3600)}) for _ in range(3)]
    for run in runs:
        run.start()
    offset, garbage, later = runs
    with store.unit_of_work():
        store.pipelines.update(offset.uuid, {"due_at": "2026-11-30T09:30:00+00:30"})  # 09:00 UTC: due now
        store.pipelines.update(garbage.uuid, {"due_at": "after lunch"})
        store.steps.update(step_of(garbage).uuid, {"due_at": "after lunch"})
    assert store.next_due() == at(0)  # the offset time, read as 09:00 UTC; "after lunch" is no time
    report = orchestrator(repository_class).execute_pipelines()
    assert {o.pipeline_uuid for o in report.outcomes} == {offset.uuid, garbage.uuid}
    assert not report.errors
    assert step_of(garbage).status == Status.FINISHED  # its wait held nothing back
    assert step_of(later).status == Status.PENDING


def test_a_deadline_that_is_no_time_is_reported_naming_the_step(repository_class, clock):
    from prorch_nb.store import Store

    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    step = step_of(run)
    store = Store(repository_class)
    with store.unit_of_work():
        store.steps.update(step.uuid, {"deadline": "never"})
        store.pipelines.update(run.uuid, {"due_at": None})
    report = orchestrator(repository_class).execute_pipelines()
    (error,) = report.errors
    assert step.uuid in error.message and "deadline 'never'" in error.message


def test_a_signal_sent_before_the_deadline_is_taken_though_the_tick_comes_after(repository_class, clock):
    """A worker that slept past the deadline still runs the step the signal woke (once: it then times out)."""
    finished, waits_again = (d.SignalledApproval(repository_class=repository_class) for _ in range(2))
    for run in (finished, waits_again):
        run.start()
    clock.advance(24 * 3600 - 60)
    finished.send("approval", {"by": "ann"})
    waits_again.send("question", "is it late?")  # wakes the wait, but gives no approval
    clock.advance(120)  # the next pass comes after the deadline
    orchestrator(repository_class).execute_pipelines()
    assert step_of(finished).status == Status.FINISHED and step_of(finished).metadata["approved_by"] == "ann"
    assert step_of(waits_again).status == Status.PENDING  # it ran once more, and waits again
    orchestrator(repository_class).execute_pipelines()
    assert step_of(waits_again).status == Status.FAILED and step_of(waits_again).history[-1]["by"] == "timeout"


def test_a_worker_waiting_on_a_tinydb_file_wakes_when_another_process_commits(tmp_path):
    import threading

    from prorch_nb.store import Store

    repository_class = TinyDBRepository.at(tmp_path / "runs.json")
    run = d.SignalledApproval(repository_class=repository_class)
    store = Store(repository_class)
    assert store.wait_for_change(0.05) is False  # nothing changed
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait_for_change(300)))
    waiter.start()
    writer = subprocess.Popen(
        [sys.executable, "-c", SEND_UNTIL_STOPPED, str(tmp_path / "runs.json"), run.uuid],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
    )
    waiter.join()  # a commit made after the waiter looked wakes it
    writer.communicate(b"stop\n", timeout=120)
    assert woke == [True]


def test_run_until_done_with_wait_stops_on_a_due_run_it_cannot_tick(repository_class, clock):
    """A waiting run whose class this process does not know is due, fails at every pass: no endless loop."""
    from prorch_nb.store import Store

    run = d.Timer(repository_class=repository_class, context={"until": at(60)})
    run.start()
    store = Store(repository_class)
    with store.unit_of_work():
        store.pipelines.update(run.uuid, {"name": "NoSuchPipeline"})
    clock.advance(120)
    report = orchestrator(repository_class).run_until_done(wait=True, max_ticks=50)
    assert report.stopped_because == StopReason.ERRORS and len(report.ticks) == 1
    assert "NoSuchPipeline" in report.errors[0].message


def test_run_until_done_with_wait_wakes_for_a_signal_sent_while_it_sleeps(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    run.start()
    sleeps: list[float] = []
    original = clock.advance

    def advance(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:
            run.send("approval", {"by": "ann"})  # another process, while the orchestrator sleeps
        original(seconds)

    clock.advance = advance
    report = orchestrator(repository_class).run_until_done(wait=True)
    assert report.stopped_because == StopReason.NOTHING_PENDING
    assert step_of(run).status == Status.FINISHED and sum(sleeps) == 180  # 3 looks (a minute each), not the hour


def test_a_wait_nothing_would_end_or_to_no_time_fails_the_step_saying_why(repository_class, clock):
    run = d.BadWaits(repository_class=repository_class)
    with pytest.raises(StepHookError, match="OnContinueMixin"):
        run.start()
    for until in ("after lunch", "9999-12-31T23:59:59+00:00"):
        run = d.JunkWait(repository_class=repository_class, context={"until": until})
        with pytest.raises(StepHookError, match=r"wait\("):
            run.start()
        assert step_of(run).status == Status.FAILED


def test_a_step_record_with_attempts_that_are_no_count_is_refused_naming_it(repository_class, clock):
    from prorch_nb.exceptions.exceptions import InvalidRecordError
    from prorch_nb.store import Store

    run = d.Upload(repository_class=repository_class)
    store = Store(repository_class)
    step = step_of(run)
    with store.unit_of_work():
        store.steps.update(step.uuid, {"attempts": "two"})
    with pytest.raises(InvalidRecordError, match=rf"{step.uuid}.*'attempts' must be a whole number"):
        store.step(step.uuid)
