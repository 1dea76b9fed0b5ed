"""A pass over runs that wait costs a small fraction of a pass that ticks them.

Run from the repository root: ``python benchmarks/bench_timers.py [--runs 10000] [--stores memory tinydb]``.

``--runs`` runs of one step that waits an hour at a time (``self.wait(seconds=3600)``)
are started; then, on a fake clock, one orchestrator pass while every run waits (each is
skipped without being read: the store's index of due times) against one pass an hour
later, when every run is due and ticks (``on_continue`` waits another hour). Target: the
waiting pass costs at most 5% of the ticking one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prorch_nb import (  # noqa: E402
    FakeClock,
    InMemoryRepository,
    OnContinueMixin,
    OnStartMixin,
    Orchestrator,
    OrchestratorConfig,
    Pipeline,
    Step,
    TinyDBRepository,
    register_pipeline,
    register_step,
    use_clock,
)
from prorch_nb.store import Store  # noqa: E402

TARGET = 0.05
HOUR = 3600


@register_step
class Hourly(OnStartMixin, OnContinueMixin, Step):
    name = "Hourly"

    def on_start(self) -> None:
        self.wait(seconds=HOUR)

    def on_continue(self) -> None:
        self.wait(seconds=HOUR)


@register_pipeline
class Waits(Pipeline):
    name = "Waits"
    steps = [Hourly]


def timed_pass(orchestrator: Orchestrator) -> tuple[float, int]:
    """Seconds of one ``execute_pipelines()`` and the number of runs it ticked."""
    begin = time.perf_counter()
    report = orchestrator.execute_pipelines()
    return time.perf_counter() - begin, len(report.outcomes)


def measure(store: str, runs: int, repeat: int, folder: Path) -> tuple[float, float]:
    """Median seconds of a waiting pass and of a ticking pass over ``runs`` waiting runs."""
    repository = InMemoryRepository.fresh() if store == "memory" else TinyDBRepository.at(folder / f"{store}.json")
    with use_clock(FakeClock("2026-11-30T00:00:00+00:00")) as clock, Store(repository).batch():
        for _ in range(runs):
            Waits(repository_class=repository).start()
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=repository))
    waiting, ticking = [], []
    with use_clock(clock):
        for _ in range(repeat):
            seconds, ticked = timed_pass(orchestrator)
            assert ticked == 0, f"{ticked} runs ticked while all wait"
            waiting.append(seconds)
            clock.advance(HOUR)
            seconds, ticked = timed_pass(orchestrator)
            assert ticked == runs, f"{ticked} of {runs} runs ticked once due"
            ticking.append(seconds)
    return statistics.median(waiting), statistics.median(ticking)


def main() -> int:
    """Measure every store; print the table; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stores", nargs="+", choices=("memory", "tinydb"), default=["memory", "tinydb"])
    args = parser.parse_args()
    print(f"{args.runs:,} runs that wait an hour at a time; median of {args.repeat} passes (wall seconds)\n")
    print(f"{'store':<8} {'waiting pass':>13} {'ticking pass':>13} {'share':>8}")
    missed = []
    with tempfile.TemporaryDirectory(prefix="bench-timers-") as folder:
        for store in args.stores:
            waiting, ticking = measure(store, args.runs, args.repeat, Path(folder))
            share = waiting / ticking
            print(f"{store:<8} {waiting:>13.4f} {ticking:>13.3f} {share:>7.1%}", flush=True)
            if share > TARGET:
                missed.append(f"{store} {share:.1%}")
    print("\n" + (f"targets missed: {'; '.join(missed)}" if missed else f"every waiting pass within {TARGET:.0%}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
