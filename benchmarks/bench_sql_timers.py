"""One orchestrator pass over runs that wait, against one over as many runs that are due, on PostgreSQL and SQLite.

Run from the repository root: ``python -m benchmarks.bench_sql_timers [--runs 10000] [--stores postgresql sqlite]``
(PostgreSQL from ``PRORCH_NB_TEST_POSTGRES``, default the local server's ``test`` database).

Under a fake clock, ``--runs`` one-step runs are started and their step waits an hour
(``wait(until=...)``). Then one pass while they all wait: it takes none (ticks none, holds
none) and reads none, in as many SQL statements whatever the number of runs (target: at
most ``WAITING_STATEMENTS``); and, the clock an hour on, one pass that ticks every run
(each step finishes). Each store gets tables of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prorch_nb import FakeClock, Orchestrator, OrchestratorConfig, Status, use_clock  # noqa: E402
from prorch_nb.report import TickReport  # noqa: E402
from prorch_nb.repositories.sql_repository import SQLRepository  # noqa: E402
from prorch_nb.store import Store  # noqa: E402
from prorch_nb.utils.clock import as_datetime, utc_at  # noqa: E402
from tests.durable_pipelines import Timer  # noqa: E402

POSTGRES_URL = os.environ.get("PRORCH_NB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("postgresql", "sqlite")
START = as_datetime("2999-06-01T09:00:00+00:00").timestamp()
WAIT_SECONDS = 3600
#: Statements a pass over runs that all wait may take (finding none due, and when the next is).
WAITING_STATEMENTS = 5
CHUNK = 1000  #: runs created and started per transaction


def timed_pass(repository: type[SQLRepository]) -> tuple[TickReport, float, int]:
    """One ``execute_pipelines`` pass: its report, wall seconds and SQL statements."""
    engine = repository("PIPELINE").database.engine
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        began = time.perf_counter()
        report = Orchestrator(OrchestratorConfig(repository_class=repository)).execute_pipelines()
        return report, time.perf_counter() - began, statements[0]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def waiting_runs(repository: type[SQLRepository], runs: int) -> float:
    """Create and start ``runs`` runs whose step waits WAIT_SECONDS; the wall seconds it took."""
    store, until = Store(repository), utc_at(START + WAIT_SECONDS)
    began = time.perf_counter()
    for first in range(0, runs, CHUNK):
        with store.unit_of_work():
            for _ in range(min(CHUNK, runs - first)):
                Timer(repository_class=repository, context={"until": until}).start()
    return time.perf_counter() - began


def measure(url: str, runs: int) -> dict[str, Any]:
    """Both passes over ``runs`` runs on fresh tables of ``url``."""
    repository = SQLRepository.at(url, prefix=f"bench{uuid.uuid4().hex[:8]}_")
    try:
        with use_clock(FakeClock(START)) as clock:
            setup = waiting_runs(repository, runs)
            waiting, waiting_seconds, waiting_statements = timed_pass(repository)
            clock.advance(WAIT_SECONDS)
            due, due_seconds, due_statements = timed_pass(repository)
        finished = sum(outcome.step_after == Status.FINISHED for outcome in due.outcomes)
        return {
            "setup": setup,
            "waiting": (len(waiting.outcomes) + len(waiting.held), waiting_seconds, waiting_statements),
            "due": (len(due.outcomes), due_seconds, due_statements),
            "finished": finished,
        }
    finally:
        repository("PIPELINE").database.drop()


@contextmanager
def url_of(store: str) -> Iterator[str]:
    """The URL to measure ``store`` at: the test server, or a SQLite file in a folder of its own."""
    if store == "postgresql":
        yield POSTGRES_URL
        return
    with tempfile.TemporaryDirectory(prefix="prorch-bench-timers-") as folder:
        yield f"sqlite:///{folder}/runs.db"


def main(argv: list[str] | None = None) -> int:
    """Measure, print a line per store; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sql_timers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    args = parser.parse_args(argv)
    missed = []
    print(f"{args.runs:,} one-step runs waiting {WAIT_SECONDS} s (fake clock), then due\n")
    print(f"{'store':<11}{'setup s':>9}  {'waiting pass':>32}  {'due pass':>36}  {'due / waiting':>13}")
    for store in args.stores:
        with url_of(store) as url:
            found = measure(url, args.runs)
        (idle_ticks, idle_s, idle_sql), (ticks, due_s, due_sql) = found["waiting"], found["due"]
        print(
            f"{store:<11}{found['setup']:>9.1f}  "
            f"{idle_s * 1000:>8.1f} ms {idle_sql:>3} SQL {idle_ticks:>5} taken  "
            f"{due_s:>8.2f} s {due_sql:>7} SQL {ticks:>6} ticked  {due_s / idle_s:>12.0f}x",
            flush=True,
        )
        if idle_ticks or idle_sql > WAITING_STATEMENTS:
            missed.append(f"{store}: the waiting pass ticked {idle_ticks} runs in {idle_sql} statements")
        if ticks != args.runs or found["finished"] != args.runs:
            missed.append(f"{store}: the due pass ticked {ticks} runs, {found['finished']} steps finished")
    print("\n" + ("targets missed: " + "; ".join(missed) if missed else "every target met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
