"""Time the notebook display of a 50-step run against ``dot -Tsvg`` alone on the same DOT.

Run: ``python benchmarks/bench_diagram.py [repeats]``. Measures (a) the run's full
``_repr_mimebundle_()`` (repository reads, diagram, text repr, dot via graphviz's pipe)
and (b) a bare ``dot -Tsvg`` subprocess on the same source, best of ``repeats`` each, on
an in-memory and a TinyDB repository, and checks the ratio against the 1.5x target.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prorch_nb import (
    InMemoryRepository,
    OnStartMixin,
    Pipeline,
    Step,
    TinyDBRepository,
    register_pipeline,
    register_step,
)

STEPS = 50
TARGET_RATIO = 1.5


@register_step
class Instant(OnStartMixin, Step):
    name = "BenchInstant"

    def on_start(self) -> None:
        self.finish()


@register_pipeline
class FiftyStepPipeline(Pipeline):
    name = "BenchFiftySteps"
    steps = [Instant] * STEPS


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """The fastest of ``repeats`` timed calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(label: str, repository_class: type, repeats: int) -> tuple[str, float, float]:
    run = FiftyStepPipeline(repository_class=repository_class)
    for _ in range(STEPS // 2):  # half the steps finished, the rest not reached yet
        run.start()
    source = run.graph().source.encode()
    assert "image/svg+xml" in run._repr_mimebundle_(), "dot must be installed for this benchmark"
    ours = best_of(repeats, run._repr_mimebundle_)
    dot = best_of(repeats, lambda: subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, check=True))
    return label, ours, dot


def main(repeats: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        rows = [
            measure("InMemoryRepository", InMemoryRepository.fresh(), repeats),
            measure("TinyDBRepository", TinyDBRepository.at(Path(folder) / "bench.json"), repeats),
        ]
    print(f"{STEPS}-step run, best of {repeats}")
    print(f"{'repository':<20} {'_repr_mimebundle_':>18} {'dot -Tsvg alone':>16} {'ratio':>6}")
    worst = 0.0
    for label, ours, dot in rows:
        ratio = ours / dot
        worst = max(worst, ratio)
        print(f"{label:<20} {ours * 1000:>15.1f} ms {dot * 1000:>13.1f} ms {ratio:>6.2f}")
    verdict = "within" if worst <= TARGET_RATIO else "OVER"
    print(f"worst ratio {worst:.2f}: {verdict} the {TARGET_RATIO}x target")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
