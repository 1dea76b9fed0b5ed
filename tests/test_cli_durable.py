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
from prorch_nb.utils.clock import as_datetime, utc_at
from tests import durable_pipelines as d

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
