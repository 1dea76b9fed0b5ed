"""How the notebook views scale: a run panel and a dashboard refreshed over 10 and 10,000 runs.

For each store (the TinyDB file and in memory) and each size, the repository gets that
many runs of a 12-step pipeline, created, started and ticked once more (so the runs are
pending, one step finished); the last run gets 6 more ticks, so its diagram is mixed. Then:

- a ``PipelinePanel`` on the last run is refreshed: the median of ``--repeat`` refreshes,
  and the median of ``dot -Tsvg`` alone on the same DOT, whose difference is the panel's
  own cost (reading, rendering, the DOT text);
- a ``Dashboard`` with a page of ``--limit`` runs (10: the whole of the small repository,
  so both sizes show the same number of rows) is refreshed with no run chosen, then with
  the last run chosen (its panel refreshes too).

Run: ``python benchmarks/bench_views.py [--sizes 10 10000] [--repeat 30] [--limit 10]``.
Prints the medians and checks: 10,000 runs within 1.5x of 10 for the panel and both
dashboard refreshes; the panel's own cost under 50 ms.
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


def median_ms(repeats: int, action: Callable[[], object]) -> float:
    """The median of ``repeats`` timed calls (after one untimed), in milliseconds."""
    action()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure(repository: type, count: int, repeats: int, limit: int) -> dict[str, float]:
    uuid = fill(repository, count)
    run = TwelveSteps(repository_class=repository, pipeline_uuid=uuid)
    panel = PipelinePanel(run)
    source = run.graph().source.encode()
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)), limit=limit)
    figures = {
        "panel": median_ms(repeats, panel.refresh),
        "dot": median_ms(repeats, lambda: subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True)),
        "dashboard": median_ms(repeats, board.refresh),
    }
    board.select(uuid)
    figures["dashboard+panel"] = median_ms(repeats, board.refresh)
    figures["panel-dot"] = figures["panel"] - figures["dot"]
    for widget in (panel, board):
        widget.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10, 10_000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--limit", type=int, default=10)
    options = parser.parse_args()
    small, large = options.sizes
    failures = []
    print(f"{STEPS}-step runs; medians of {options.repeat} refreshes, in ms; dashboard page of {options.limit}")
    header = f"{'store':<8} {'runs':>7} {'panel':>7} {'dot':>6} {'panel-dot':>9} {'dashboard':>9} {'+panel':>7}"
    print(header)
    with tempfile.TemporaryDirectory() as folder:
        for store in ("tinydb", "memory"):
            rows = {}
            for size in (small, large):
                if store == "tinydb":
                    repository: type = TinyDBRepository.at(Path(folder) / f"views-{size}.json")
                else:
                    repository = InMemoryRepository.fresh()
                rows[size] = measure(repository, size, options.repeat, options.limit)
                f = rows[size]
                print(
                    f"{store:<8} {size:>7,} {f['panel']:>7.1f} {f['dot']:>6.1f} {f['panel-dot']:>9.1f} "
                    f"{f['dashboard']:>9.1f} {f['dashboard+panel']:>7.1f}"
                )
            for what in ("panel", "dashboard", "dashboard+panel"):
                ratio = rows[large][what] / rows[small][what]
                verdict = "within" if ratio <= SCALE_LIMIT else "OVER"
                print(f"  {store} {what}: {large:,} / {small:,} runs = {ratio:.2f}x, {verdict} {SCALE_LIMIT}x")
                if ratio > SCALE_LIMIT:
                    failures.append(f"{store} {what}")
            own = max(rows[size]["panel-dot"] for size in (small, large))
            print(f"  {store} panel without dot: {own:.1f} ms, {'within' if own < PANEL_LIMIT_MS else 'OVER'} 50 ms")
            if own >= PANEL_LIMIT_MS:
                failures.append(f"{store} panel without dot")
    print("all targets met" if not failures else f"OVER: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
