"""How the notebook views scale: a run panel and a dashboard refreshed over 10 and 10,000 runs.

For each store (the TinyDB file and in memory) and each size, the repository gets that
many runs of a 12-step pipeline, created, started and ticked once more (so the runs are
pending, one step finished); the last run gets 6 more ticks, so its diagram is mixed. Then:

- a ``PipelinePanel`` on the last run is refreshed: the median of ``--repeat`` refreshes,
  wall-clock and in this process's CPU time, which leaves out the ``dot`` subprocess (the
  panel's own cost: reading, rendering, the DOT text); ``dot -Tsvg`` alone on the same
  DOT is timed too;
- a ``Dashboard`` with a page of ``--limit`` runs (10: the whole of the small repository,
  so both sizes show the same number of rows) is refreshed with no run chosen, then with
  the last run chosen (its panel refreshes too).

Run: ``python benchmarks/bench_views.py [--sizes 10 10000] [--repeat 30] [--limit 10]``.
Prints the medians and checks: 10,000 runs within 1.5x of 10 (wall-clock) for the panel
and both dashboard refreshes; the panel's own cost (CPU) under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_diagram import Instant

from prorch_nb import (
    InMemoryRepository,
    Orchestrator,
    OrchestratorConfig,
    Pipeline,
    TinyDBRepository,
    register_pipeline,
)
from prorch_nb.notebook import Dashboard, PipelinePanel
from prorch_nb.store import Store

SCALE_LIMIT = 1.5
PANEL_LIMIT_MS = 50.0
STEPS = 12


@register_pipeline
class TwelveSteps(Pipeline):
    name = "BenchViewsTwelveSteps"
    steps = [Instant] * STEPS  # a step that finishes in on_start


def fill(repository: type, count: int) -> str:
    """``count`` pending runs, one step finished; the last one 7 steps on. Returns its uuid."""
    with Store(repository).batch():
        uuids = [TwelveSteps(repository_class=repository).uuid for _ in range(count)]
        for uuid in uuids:
            TwelveSteps(repository_class=repository, pipeline_uuid=uuid).start()
        last = TwelveSteps(repository_class=repository, pipeline_uuid=uuids[-1])
        for _ in range(6):
            last.start()
    Store(repository).checkpoint()
    return uuids[-1]


def medians_ms(repeats: int, action: Callable[[], object]) -> tuple[float, float]:
    """Median wall-clock and CPU time of ``repeats`` calls (after one untimed), in ms.

    The CPU time is this process's own: it leaves out the ``dot`` subprocess, and time
    other programs on a busy machine take from us.
    """
    action()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def measure(repository: type, count: int, repeats: int, limit: int) -> dict[str, tuple[float, float]]:
    """``(wall, cpu)`` medians of each refresh, and of ``dot`` alone on the run's DOT."""
    uuid = fill(repository, count)
    run = TwelveSteps(repository_class=repository, pipeline_uuid=uuid)
    panel = PipelinePanel(run)
    source = run.graph().source.encode()
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)), limit=limit)
    figures = {
        "panel": medians_ms(repeats, panel.refresh),
        "dot": medians_ms(repeats, lambda: subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True)),
        "dashboard": medians_ms(repeats, board.refresh),
    }
    board.select(uuid)
    figures["dashboard+panel"] = medians_ms(repeats, board.refresh)
    for widget in (panel, board):
        widget.close()
    return figures


def verdicts(store: str, rows: dict[int, dict[str, tuple[float, float]]], small: int, large: int) -> list[str]:
    """Print the ratios and checks of one store; the targets missed."""
    missed = []
    for what in ("panel", "dashboard", "dashboard+panel"):
        wall, cpu = (rows[large][what][at] / rows[small][what][at] for at in (0, 1))
        verdict = "within" if wall <= SCALE_LIMIT else "OVER"
        print(f"  {store} {what}: {large:,} / {small:,} runs = {wall:.2f}x ({cpu:.2f}x CPU), {verdict} {SCALE_LIMIT}x")
        if wall > SCALE_LIMIT:
            missed.append(f"{store} {what}")
    own = max(rows[size]["panel"][1] for size in (small, large))
    verdict = "within" if own < PANEL_LIMIT_MS else "OVER"
    print(f"  {store} panel without dot (CPU): {own:.1f} ms, {verdict} {PANEL_LIMIT_MS:.0f} ms")
    return missed if own < PANEL_LIMIT_MS else [*missed, f"{store} panel without dot"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10, 10_000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--limit", type=int, default=10)
    options = parser.parse_args()
    small, large = options.sizes
    missed = []
    print(f"{STEPS}-step runs; medians of {options.repeat} refreshes, wall-clock / CPU of this process, in ms")
    print(f"{'store':<8} {'runs':>7} {'panel':>13} {'dot alone':>10} {'dashboard':>13} {'dashboard+panel':>16}")
    with tempfile.TemporaryDirectory() as folder:
        for store in ("tinydb", "memory"):
            rows = {}
            for size in (small, large):
                if store == "tinydb":
                    repository: type = TinyDBRepository.at(Path(folder) / f"views-{size}.json")
                else:
                    repository = InMemoryRepository.fresh()
                rows[size] = f = measure(repository, size, options.repeat, options.limit)
                cells = [f"{f[what][0]:6.1f} /{f[what][1]:5.1f}" for what in ("panel", "dashboard", "dashboard+panel")]
                print(f"{store:<8} {size:>7,} {cells[0]:>13} {f['dot'][0]:>10.1f} {cells[1]:>13} {cells[2]:>16}")
            missed += verdicts(store, rows, small, large)
    print("all targets met" if not missed else f"OVER: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
