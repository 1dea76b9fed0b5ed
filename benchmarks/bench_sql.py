"""Workers on PostgreSQL, on SQLite and on the TinyDB file, in the same run.

Run from the repository root: ``python -m benchmarks.bench_sql [--runs 1000] [--scale 10000]``
(PostgreSQL from ``PRORCH_NB_TEST_POSTGRES``, default the local server's ``test`` database).

1. Throughput: for each store and 1, 2 and 4 worker processes, ``--runs`` started
   FaultFlow runs (4 steps, 3 ``on_start`` hooks of 1-5 ms) ticked until none is pending,
   as ``bench_workers.py`` does: steps per second, duplicate starts (target 0), and 4
   workers against 1 (target on PostgreSQL: at least 2.5x).
2. Scale: one worker, ``--runs`` and ``--scale`` runs: time(scale) / time(runs) (target
   at most 11 for 10x the runs).

Each measurement gets tables (or a file) of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_workers import COLUMNS, run_once  # noqa: E402
from prorch_nb.repositories.sql_repository import SQLRepository  # noqa: E402
from tests.faults.workload import PREFIX_ENV  # noqa: E402

POSTGRES_URL = os.environ.get("PRORCH_NB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("postgresql", "sqlite", "tinydb")
SPEEDUP_TARGET = 2.5
SCALE_LIMIT = 11.0


def measure(store: str, workers: int, runs: int, hook_seconds: str) -> list[str]:
    """One row of ``bench_workers``' table, on fresh storage of ``store``."""
    with tempfile.TemporaryDirectory(prefix="prorch-bench-sql-") as folder:
        journal = Path(folder) / "hooks.log"
        if store == "tinydb":
            return run_once(workers, runs, hook_seconds, Path(folder) / "runs.json", journal)
        url = POSTGRES_URL if store == "postgresql" else f"sqlite:///{folder}/runs.db"
        prefix = f"bench{uuid.uuid4().hex[:8]}_"
        os.environ[PREFIX_ENV] = prefix
        try:
            return run_once(workers, runs, hook_seconds, url, journal)
        finally:
            SQLRepository.at(url, prefix=prefix)("PIPELINE").database.drop()


def main(argv: list[str] | None = None) -> int:
    """Measure, print both tables; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sql", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--hook-seconds", default="0.001:0.005")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    parser.add_argument("--no-scale", action="store_true", help="measure the throughput only")
    args = parser.parse_args(argv)
    missed = []
    print(f"{args.runs} runs x 4 steps, on_start hooks of {args.hook_seconds} s\n")
    print(f"{'store':<11}" + "  ".join(f"{name:>{width}}" for name, width in COLUMNS))
    throughput: dict[tuple[str, int], float] = {}
    for store in args.stores:
        for workers in args.workers:
            cells = measure(store, workers, args.runs, args.hook_seconds)
            throughput[store, workers] = float(cells[2])
            print(f"{store:<11}" + "  ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True)), flush=True)
            if cells[4] != "0" or cells[3] != f"{args.runs}/{args.runs}":
                missed.append(f"{store} x {workers}: duplicates {cells[4]}, finished {cells[3]}")
    most = max(args.workers)
    print()
    for store in args.stores:
        speedup = throughput[store, most] / throughput[store, min(args.workers)]
        target = f" (target >= {SPEEDUP_TARGET})" if store == "postgresql" else ""
        print(f"{store}: {most} workers / 1 = {speedup:.2f}x{target}")
        if store == "postgresql" and speedup < SPEEDUP_TARGET:
            missed.append(f"postgresql speed-up {speedup:.2f}")
    if args.no_scale:
        return 1 if missed else 0
    print(f"\none worker, {args.runs:,} and {args.scale:,} runs (wall seconds)\n")
    for store in args.stores:
        small = float(measure(store, 1, args.runs, args.hook_seconds)[1])
        large = float(measure(store, 1, args.scale, args.hook_seconds)[1])
        limit = SCALE_LIMIT * args.scale / args.runs / 10
        print(f"{store:<11} {small:>8.2f} {large:>9.2f}  ratio {large / small:.2f} (limit {limit:g})", flush=True)
        if large / small > limit:
            missed.append(f"{store} scale {large / small:.2f}")
    print("\n" + ("targets missed: " + "; ".join(missed) if missed else "every target met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
