"""What ``durability="commit"`` costs: the bench_scale workload on the TinyDB store, both levels.

Each configuration runs in a fresh subprocess and temporary folder (``bench_scale.measure``):
create N runs of 3 steps, start each, orchestrate until done. ``"process"`` (the default)
appends each unit of work to the journal; ``"commit"`` also fsyncs it before returning.

Run: ``python benchmarks/bench_durability.py [--pipelines 300] [--repeat 3]``. Prints the
median time per run and per unit of work of each level (a run takes 8 units here).
"""

from __future__ import annotations

import argparse
import statistics

from bench_scale import measure

LEVELS = {"process": "tinydb", "commit": "tinydb-commit"}
UNITS_PER_RUN = 8  # counted: creation, a claim and an end per step, the tick that ends the run


def main() -> None:
    """Measure both levels and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    totals = {
        level: [measure(store, args.pipelines)["total"] for _ in range(args.repeat)] for level, store in LEVELS.items()
    }
    print(f"\n{args.pipelines} runs x 3 steps, median of {args.repeat} (wall seconds)\n")
    print(f"{'durability':<12}{'total s':>10}{'ms/run':>10}{'ms/unit':>10}")
    for level, times in totals.items():
        total = statistics.median(times)
        per_run = 1000 * total / args.pipelines
        print(f"{level:<12}{total:>10.3f}{per_run:>10.3f}{per_run / UNITS_PER_RUN:>10.3f}")


if __name__ == "__main__":
    main()
