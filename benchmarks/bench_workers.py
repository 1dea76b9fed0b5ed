"""1, 2 and 4 worker processes on one TinyDB file: throughput, duplicate starts, corrupt files.

Run from the repository root: ``python -m benchmarks.bench_workers [--runs 300]``. For
each worker count, a fresh file gets ``--runs`` started FaultFlow runs (4 steps, 3 of
them with an on_start pausing ``--hook-seconds``; see ``tests/faults/workload.py``), then
that many ``python -m tests.faults.driver orchestrate`` processes start together and
tick until no run is pending. Meanwhile this process parses the file over and over.

Prints one row per worker count: wall time (spawn to last exit), finished steps per
second, on_start runs that overlapped another run of the same step (target 0), on_start
runs repeated at all (0 expected: nothing crashes), runs whose step found the context
without what the previous step put there, corrupt file checks (target 0), and how the
on_start runs were shared between the workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prorch_nb import Status  # noqa: E402
from tests.faults.workload import (  # noqa: E402
    HOOK_SECONDS_ENV,
    JOURNAL_ENV,
    analyse_journal,
    check_file,
    create_runs,
    read_journal,
    read_runs,
    skipped_on_start,
)

COLUMNS = (
    ("workers", 7),
    ("wall s", 7),
    ("steps/s", 8),
    ("finished", 9),
    ("dup starts", 10),
    ("re-runs", 7),
    ("skipped", 7),
    ("ctx lost", 8),
    ("corrupt/checks", 14),
    ("on_start share", 20),
)


def run_once(workers: int, runs: int, hook_seconds: str, db: Path | str, journal: Path) -> list[str]:
    """One measurement on ``db`` (a TinyDB file or a database URL, empty); returns the row's cells."""
    create_runs(db, runs)
    env = {**os.environ, "PYTHONPATH": str(ROOT), JOURNAL_ENV: str(journal), HOOK_SECONDS_ENV: hook_seconds}
    command = [sys.executable, "-m", "tests.faults.driver", "orchestrate", "--db", os.fspath(db)]
    started = time.monotonic()
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    checks = corrupt = 0
    while any(proc.poll() is None for proc in procs):
        checks += 1
        corrupt += check_file(db) is not None
        time.sleep(0.01)
    wall = time.monotonic() - started
    errors = [proc.stderr.read() for proc in procs if proc.returncode != 0]
    checks += 1
    corrupt += check_file(db) is not None
    state = read_runs(db)
    report = analyse_journal(read_journal(journal))
    finished_steps = sum(step.status == Status.FINISHED for run in state.values() for step in run.steps)
    finished_runs = sum(run.status == Status.FINISHED for run in state.values())
    share = Counter(entry.pid for entry in read_journal(journal) if entry.event == "begin")
    if errors:
        print(f"{workers} workers: {len(errors)} exited with errors: {errors}", file=sys.stderr)
    return [
        str(workers),
        f"{wall:.2f}",
        f"{finished_steps / wall:.0f}",
        f"{finished_runs}/{runs}",
        str(len(report.concurrent_duplicates)),
        str(len(report.reruns)),
        str(len(skipped_on_start(state, report))),
        str(len(report.context_missing)),
        f"{corrupt}/{checks}",
        " ".join(str(count) for _, count in share.most_common()) or "-",
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure each worker count, print the table; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--hook-seconds", default="0.001:0.005", help="on_start pause: S, or A:B for A to B at random")
    args = parser.parse_args(argv)
    print(f"{args.runs} runs x 4 steps (3 on_start hooks of {args.hook_seconds} s) per measurement")
    print("  ".join(f"{name:>{width}}" for name, width in COLUMNS))
    failed = False
    for workers in args.workers:
        with tempfile.TemporaryDirectory(prefix="prorch-bench-workers-") as folder:
            cells = run_once(workers, args.runs, args.hook_seconds, Path(folder) / "runs.json", Path(folder) / "j.log")
        print("  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)), flush=True)
        missed = cells[3] != f"{args.runs}/{args.runs}" or cells[4] != "0" or cells[6] != "0"
        failed |= missed or not cells[8].startswith("0/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
