"""How prorch_nb scales: 1,000 and 10,000 pipelines x 3 steps, TinyDB file and in memory.

Each configuration runs in a fresh subprocess and temporary folder: create N runs (in a
``Store(R).batch()``, keeping only their uuids), start each once (loaded by uuid, in a
batch too), then ``Orchestrator.run_until_done()``; every run must end ``finished``.
Timing runs report ``ru_maxrss``; one extra run per configuration under ``tracemalloc``
reports the peak of traced allocations (its times are not used: tracing slows Python).

Run: ``python benchmarks/bench_scale.py [--sizes 1000 10000] [--repeat 3]``. Prints medians
and the checks time(10,000) <= 11 x time(1,000) and TinyDB within 3x of in-memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench_vs_prorch import define_workload, load_api

REPO_ROOT = Path(__file__).resolve().parents[1]
STORES = ("tinydb", "memory")
#: The TinyDB configurations a worker can run (``bench_durability.py`` uses the second).
DURABILITY_OF = {"tinydb": "process", "tinydb-commit": "commit"}
PHASES = ("create", "start", "run", "total")
SCALE_LIMIT = 11.0
STORE_LIMIT = 3.0


# Worker side (runs in the subprocess) ----------------------------------------------------


def run_workload(store_name: str, count: int, trace: bool) -> dict[str, float | int | str]:
    """Create, start and run ``count`` three-step pipelines; phase times and memory."""
    from prorch_nb import InMemoryRepository, Orchestrator, OrchestratorConfig, Status, TinyDBRepository
    from prorch_nb.store import Store

    ThreeSteps = define_workload(load_api("prorch_nb"))  # the workload of bench_vs_prorch.py

    if store_name in DURABILITY_OF:
        repository: type = TinyDBRepository.at(Path.cwd() / "database.json", durability=DURABILITY_OF[store_name])
    else:
        repository = InMemoryRepository.fresh()
    if trace:
        tracemalloc.start()
    times: dict[str, float | int | str] = {}
    begin = time.perf_counter()
    with Store(repository).batch():
        uuids = [ThreeSteps(repository_class=repository).uuid for _ in range(count)]
    times["create"] = time.perf_counter() - begin
    mark = time.perf_counter()
    with Store(repository).batch():
        for uuid in uuids:
            ThreeSteps(repository_class=repository, pipeline_uuid=uuid).start()
    times["start"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report = Orchestrator(OrchestratorConfig(repository_class=repository)).run_until_done()
    times["run"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - begin
    if trace:
        times["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    store = Store(repository)
    times["passes"] = len(report.ticks)
    times["finished"] = len(store.pipelines_with_status(Status.FINISHED))
    times["unfinished"] = len(store.all_pipelines()) - int(times["finished"])
    times["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    times["file_bytes"] = os.path.getsize("database.json") if store_name in DURABILITY_OF else 0
    return times


# Driver side --------------------------------------------------------------------------


def measure(store_name: str, count: int, trace: bool = False) -> dict[str, float | int | str]:
    """One configuration in a fresh subprocess and temporary folder."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, __file__, "--worker", store_name, "--sizes", str(count)]
    if trace:
        command.append("--trace")
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{store_name}-") as folder:
        result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{store_name} x {count} failed:\n{result.stdout}\n{result.stderr}")
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome["finished"] != count or outcome["unfinished"]:
        raise SystemExit(f"{store_name} x {count}: not every run finished: {outcome}")
    return outcome


def megabytes(value: float) -> str:
    """Bytes as MiB with one decimal."""
    return f"{value / 2**20:.1f}"


def main() -> None:
    """Parse arguments; run as a worker or drive every configuration and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=[*STORES, *DURABILITY_OF], help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_workload(args.worker, args.sizes[0], args.trace)))
        return

    configurations = [(store, size) for size in args.sizes for store in STORES]
    runs: dict[tuple[str, int], list[dict]] = {key: [] for key in configurations}
    for repetition in range(args.repeat):
        for key in configurations:
            runs[key].append(measure(*key))
            print(
                f"  repetition {repetition + 1}: {key[0]:>6} x {key[1]:>6}: {runs[key][-1]['total']:.3f} s",
                file=sys.stderr,
            )
    traced = {key: measure(*key, trace=True)["traced_peak"] for key in configurations}

    medians = {
        key: {name: statistics.median(r[name] for r in runs[key]) for name in (*PHASES, "maxrss")} for key in runs
    }
    print(
        f"\nmedian of {args.repeat} runs (wall seconds); memory: tracemalloc peak of one traced run, ru_maxrss median\n"
    )
    header = f"{'store':<8}{'pipelines':>10}" + "".join(f"{phase:>10}" for phase in PHASES)
    print(header + f"{'ms/pipeline':>13}{'passes':>8}{'traced MiB':>12}{'maxrss MiB':>12}{'file MiB':>10}")
    for store, size in configurations:
        row = medians[(store, size)]
        first = runs[(store, size)][0]
        print(
            f"{store:<8}{size:>10,}"
            + "".join(f"{row[phase]:>10.3f}" for phase in PHASES)
            + f"{1000 * row['total'] / size:>13.3f}{first['passes']:>8}"
            + f"{megabytes(traced[(store, size)]):>12}{megabytes(row['maxrss']):>12}"
            + f"{megabytes(first['file_bytes']):>10}"
        )
    print()
    small, large = min(args.sizes), max(args.sizes)
    factor = large / small * SCALE_LIMIT / 10
    for store in STORES:
        ratio = medians[(store, large)]["total"] / medians[(store, small)]["total"]
        verdict = "PASS" if ratio <= factor else "MISS"
        print(f"check {store}: time({large:,}) / time({small:,}) = {ratio:.2f} (limit {factor:g}) {verdict}")
    for size in args.sizes:
        ratio = medians[("tinydb", size)]["total"] / medians[("memory", size)]["total"]
        verdict = "PASS" if ratio <= STORE_LIMIT else "MISS"
        print(f"check {size:,} pipelines: tinydb / memory = {ratio:.2f} (limit {STORE_LIMIT:g}) {verdict}")


if __name__ == "__main__":
    main()
