"""The command line and durable execution: send, resume, status's due times, a worker that sleeps until runs are due.

Nothing here waits for a time to pass: the worker's loop runs in-process on a fake clock
(its sleeps move the clock), and subprocesses are awaited for what they do, never for how long.
"""

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from prorch_nb import FakeClock, Status, TinyDBRepository, use_clock
from prorch_nb.cli import main
from prorch_nb.cli.terminal import local_time
from prorch_nb.cli.worker import pause
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.store import Store
from prorch_nb.utils.clock import as_datetime, utc_at, utc_now
from tests import durable_pipelines as d
from tests.sql_databases import POSTGRES_URL, postgres_repository
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
START = "2026-11-30T09:00:00+00:00"
MODULE = "tests.durable_pipelines"


def at(seconds: float) -> str:
    """The stored time ``seconds`` after START."""
    return utc_at(as_datetime(START).timestamp() + seconds)


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m prorch_nb ARGS` in the repository's folder, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "prorch_nb", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(autouse=True)
def _clear_flags():
    d.FAILURES.clear()
    d.FIXED.clear()


@pytest.fixture
def clock():
    with use_clock(FakeClock(START)) as fake:
        yield fake


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "runs.json"


def runs_in(db: Path) -> type:
    return TinyDBRepository.at(db)


def failed_run(db: Path) -> d.Resumable:
    """A ``Resumable`` run failed by its first step (``OSError: disk full``)."""
    run = d.Resumable(repository_class=runs_in(db))
    with pytest.raises(StepHookError):
        run.start()
    run.start()
    assert run.refresh().status == Status.FAILED
    return run


# send -----------------------------------------------------------------------------------


def test_send_wakes_a_waiting_step_and_a_worker_finishes_it(db):
    run = d.SignalledApproval(repository_class=runs_in(db))
    run.start()  # waits an hour for an approval

    sent = cli(
        "send", "--db", str(db), run.uuid[:8], "approval", '{"by": "ann", "comment": "ship it"}', "--note", "cli"
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == (
        f'sent approval = {{"by": "ann", "comment": "ship it"}} to SignalledApproval {run.uuid[:8]} (pending); '
        "a step waiting for it wakes at the run's next tick\n"
    )
    record = run.refresh().record
    assert record.signals == {"approval": {"by": "ann", "comment": "ship it"}} and record.due_at is None
    assert {key: record.history[-1][key] for key in ("by", "note", "signal")} == {
        "by": "signal",
        "note": "cli",
        "signal": "approval",
    }

    worker = cli("run", "--db", str(db), "--module", MODULE, "--once")
    assert worker.returncode == 0, worker.stderr
    assert run.refresh().status == Status.FINISHED  # woken now, not in an hour
    step = run.step_records()[0]
    assert step.metadata["approved_by"] == "ann" and step.history[-1]["note"] == "ship it"


def test_send_with_text_sends_the_value_as_a_string(db, capsys):
    run = d.SignalledApproval(repository_class=runs_in(db))
    assert main(["send", "--db", str(db), run.uuid, "comment", "--text", "looks {good}"]) == 0
    assert capsys.readouterr().out.startswith('sent comment = "looks {good}" to SignalledApproval')
    assert run.refresh().record.signals == {"comment": "looks {good}"}


# resume ---------------------------------------------------------------------------------


def test_resume_takes_a_failed_run_back_to_pending_from_its_failed_step(db):
    run = failed_run(db)

    resumed = cli("resume", "--db", str(db), run.uuid[:6], "--note", "disk cleaned up")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == (
        f"resumed Resumable {run.uuid[:8]}, failed: pending again from step Crashes (OSError: disk full), "
        "which runs on_start at the run's next tick\n"
    )
    assert run.refresh().status == Status.PENDING
    crashes = run.step_records()[0]
    assert crashes.status == Status.PENDING and crashes.history[-1]["by"] == "hand"
    assert crashes.history[-1]["note"] == "disk cleaned up"
    d.FIXED.add(run.uuid)
    d.FAILURES[run.uuid] = 0
    run.start()
    run.start()
    run.start()
    assert run.refresh().status == Status.FINISHED


def test_resume_of_a_run_cancelled_between_two_steps(db, capsys):
    run = d.Resumable(repository_class=runs_in(db))
    d.FIXED.add(run.uuid)
    run.start()  # Crashes finishes: the run is between its two steps
    run.cancel("by mistake")

    assert main(["resume", "--db", str(db), run.uuid]) == 0

    out = capsys.readouterr().out
    assert out == f"resumed Resumable {run.uuid[:8]}, cancelled: pending again, its next step starts at its next tick\n"
    assert run.refresh().status == Status.PENDING


# errors ---------------------------------------------------------------------------------


@pytest.fixture
def error_db(db):
    """Runs for the errors: a waiting one, a failed one, one cancelled before it started, a finished one."""
    runs = runs_in(db)
    waiting = d.SignalledApproval(repository_class=runs)
    waiting.start()
    failed = failed_run(db)
    never_started = d.Timer(repository_class=runs)
    never_started.cancel()
    finished = d.Timer(repository_class=runs, context={"until": utc_now()})
    for _ in range(3):
        finished.start()
    assert finished.refresh().status == Status.FINISHED
    return db, {"waiting": waiting, "failed": failed, "never_started": never_started, "finished": finished}


SEND = ["send", "--db", "DB"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*SEND, "ffffffff", "approval", "true"], "no pipeline whose uuid starts with 'ffffffff' in DB"),
        ([*SEND, "", "approval", "true"], "UUID is empty"),
        ([*SEND, "@failed", "approval", "true"], "has failed; it takes no more signals"),
        ([*SEND, "@finished", "approval", "true"], "has finished; it takes no more signals"),
        ([*SEND, "@waiting", "approval", "{by: ann}"], "VALUE '{by: ann}' is not JSON (Expecting property name"),
        ([*SEND, "@waiting", "approval", "NaN"], "VALUE 'NaN' is not JSON (NaN is not a JSON value)"),
        ([*SEND, "@waiting", "approval", ""], "VALUE '' is not JSON (Expecting value"),
        ([*SEND, "@waiting", "", "true"], "NAME is empty"),
        ([*SEND, "@waiting", "note", "--text", "nul \x01 ok, \ud800 not"], "signal['note'] holds a lone surrogate"),
        (["resume", "--db", "DB", "ffffffff"], "no pipeline whose uuid starts with 'ffffffff' in DB"),
        (["resume", "--db", "DB", "@waiting"], "is pending: only a failed or cancelled run can be resumed"),
        (["resume", "--db", "DB", "@finished"], "is finished: only a failed or cancelled run can be resumed"),
        (["resume", "--db", "DB", "@never_started"], "was cancelled before it started: no step to run again"),
        (["resume", "--db", "missing.json", "abc"], "no database at missing.json"),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(error_db, capsys, args, message):
    db, runs = error_db
    before = Store(runs_in(db)).all_pipelines()
    args = [runs[arg[1:]].uuid if arg.startswith("@") else arg.replace("DB", str(db)) for arg in args]

    assert main(args) == 2

    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("prorch-nb: error: ")
    assert message.replace("DB", str(db)) in line
    assert Store(runs_in(db)).all_pipelines() == before


def test_a_prefix_of_several_runs_is_refused_naming_them(db, capsys):
    runs = [d.SignalledApproval(repository_class=runs_in(db)) for _ in range(17)]
    first = [run.uuid[0] for run in runs]
    shared = next(char for char in first if first.count(char) > 1)  # 17 runs, 16 hex digits

    assert main(["send", "--db", str(db), shared, "approval", "true"]) == 2
    assert f"{shared!r} matches {first.count(shared)} pipelines" in capsys.readouterr().err


# status -------------------------------------------------------------------------------------


def test_status_says_when_waiting_steps_are_due_and_when_they_time_out(db, clock, capsys):
    runs = runs_in(db)
    upload = d.Upload(repository_class=runs)
    upload.start()  # attempt 1 raised: attempt 2 is due in 10 s
    approval = d.SignalledApproval(repository_class=runs)
    approval.start()  # waits an hour, times out in a day
    woken = d.SignalledApproval(repository_class=runs)
    woken.start()
    woken.send("approval", {"by": "ann"})
    failed = failed_run(db)

    assert main(["status", "--db", str(db)]) == 0

    lines = capsys.readouterr().out.splitlines()

    def step_line(run) -> str:
        return lines[next(i for i, line in enumerate(lines) if line.startswith(run.uuid[:8])) + 1]

    assert step_line(upload).endswith(
        f"▶ pending  attempt 2 at {local_time(at(10))}, after ConnectionError: upload refused on attempt 1"
    )
    deadline = f"times out at {local_time(at(24 * 3600))}"
    assert step_line(approval).endswith(f"▶ pending  waiting until {local_time(at(3600))}; {deadline}")
    assert step_line(woken).endswith(f"▶ pending  woken by a signal: due now; {deadline}")
    assert step_line(failed).endswith("✗ failed   OSError: disk full")  # as before
    assert lines[lines.index(step_line(failed)) + 1].endswith("· created")


def test_status_leaves_out_times_a_malformed_record_holds(db, clock, capsys):
    run = d.SignalledApproval(repository_class=runs_in(db))
    run.start()
    steps = Store(runs_in(db)).steps
    steps.update(run.record.step_uuids[0], {"due_at": 1234, "deadline": "soon"})

    assert main(["status", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("▶ pending")

    steps.update(run.record.step_uuids[0], {"attempts": "two"})  # no count: the record is left out, named
    assert main(["status", "--db", str(db)]) == 0
    assert "field 'attempts' must be a whole number >= 0, got 'two'" in capsys.readouterr().out


# the worker ----------------------------------------------------------------------------------


class StopsAfter(FakeClock):
    """A fake clock that records each sleep and sends this process SIGTERM once it is ``limit`` seconds on."""

    def __init__(self, limit: float) -> None:
        super().__init__(START)
        self.limit = self.time + limit
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self.sleeps.append(seconds)
        if self.time >= self.limit:
            signal.raise_signal(signal.SIGTERM)  # the worker stops, as at Ctrl-C


def worker_on_a_fake_clock(db: Path, limit: float, monkeypatch) -> StopsAfter:
    """``prorch-nb run --interval 600`` in this process until the fake clock is ``limit`` seconds on."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    with use_clock(StopsAfter(limit)) as clock:
        assert main(["run", "--db", str(db), "--module", MODULE, "--interval", "600"]) == 0
    return clock


def test_the_worker_sleeps_until_the_next_run_is_due_or_its_interval(db, monkeypatch, capsys):
    with use_clock(FakeClock(START)):
        upload = d.Upload(repository_class=runs_in(db))
        upload.start()  # attempt 1 raised: the next is due in 10 s, then 30 s after attempt 2
        timer = d.Timer(repository_class=runs_in(db), context={"until": at(1000)})
        timer.start()

    clock = worker_on_a_fake_clock(db, 1600, monkeypatch)

    assert clock.sleeps == [10, 30, 600, 360, 600]  # attempt 2, attempt 3, the interval, the timer, the interval
    assert [entry["at"] for entry in upload.step_records()[0].history[-3:]] == [at(0), at(10), at(40)]
    assert (upload.refresh().status, timer.refresh().status) == (Status.FINISHED, Status.FINISHED)
    assert timer.step_records()[0].history[-1]["at"] == at(1000)
    out = capsys.readouterr().out
    told = [line.split(" due at ")[1] for line in out.splitlines() if " waiting: " in line]
    assert told == [local_time(at(10)), local_time(at(40)), local_time(at(1000))]
    assert out.splitlines()[-1].endswith(" stopped")


def test_the_worker_does_not_spin_on_a_due_run_it_cannot_tick(db, monkeypatch, capsys):
    with use_clock(FakeClock(START)):
        run = d.Timer(repository_class=runs_in(db), context={"until": at(5)})
        run.start()
    Store(runs_in(db)).pipelines.update(run.uuid, {"name": "NotRegisteredAnywhere"})

    clock = worker_on_a_fake_clock(db, 1805, monkeypatch)

    assert clock.sleeps == [5, 600, 600, 600]  # due at 5 s, but its tick fails: a round every interval
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all("NotRegisteredAnywhere" in line for line in errors)


def test_a_round_sleeps_until_the_first_due_run_at_most_its_interval():
    began, now = as_datetime(at(100)), as_datetime(at(101))
    assert pause(None, began, now, 600) == 600
    assert pause(at(131), began, now, 600) == 30
    assert pause(at(5000), began, now, 600) == 600
    assert pause(at(100.5), began, now, 600) == 0  # came due during the round: a round at once
    assert pause(at(100), began, now, 600) == 600  # due when the round began and due still: it did not move
    assert isinstance(began, datetime)


def test_run_once_says_when_the_first_waiting_run_is_due(db, clock, monkeypatch, capsys):
    d.Timer(repository_class=runs_in(db), context={"until": at(90)}).start()
    monkeypatch.setattr(sys, "path", list(sys.path))

    assert main(["run", "--db", str(db), "--module", MODULE, "--once"]) == 0

    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.endswith(
        f"stopped because a whole pass changed nothing (pending steps are waiting); "
        f"the first waiting run is due at {local_time(at(90))}"
    )


def test_a_worker_on_postgresql_is_woken_by_a_signal_sent_from_the_shell():
    with postgres_repository() as repository:
        run = d.SignalledApproval(repository_class=repository)
        run.start()  # waits an hour
        command = [sys.executable, "-m", "prorch_nb", "run", "--db", POSTGRES_URL, "--prefix", repository.prefix]
        command += ["--module", MODULE, "--interval", "3000"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert "orchestrating" in worker.stdout.readline()
            assert " waiting: the first waiting run is due at " in worker.stdout.readline()  # it sleeps now
            sent = cli(
                "send", "--db", POSTGRES_URL, "--prefix", repository.prefix, run.uuid, "approval", '{"by": "bo"}'
            )
            assert sent.returncode == 0, sent.stderr
            wait_for(lambda: run.refresh().status == Status.FINISHED)  # long before 3000 s
        finally:
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        assert out.rstrip().endswith("stopped")
        assert run.step_records()[0].metadata == {"checks": 1, "approved_by": "bo"}
