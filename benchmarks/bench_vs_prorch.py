"""prorch_nb against prorch 1.0.1 on one workload, each in its own subprocess and folder.

Workload: N pipelines of 3 steps (``on_start`` does nothing, ``on_continue`` finishes the
step, no printing); create the N runs, ``start()`` each once, then orchestrator passes
until no pipeline is pending; every run must end ``finished``.

* prorch 1.0.1 stores in the seed README's TinyDBRepository example (``database.json``
  in the working folder), as its users would.
* prorch_nb stores in its default store, ``prorch_nb.TinyDBRepository.at(path)``; the
  ``batched`` row also wraps creation and starting in ``Store(R).batch()``.

Run: ``python benchmarks/bench_vs_prorch.py [--pipelines 300] [--repeat 3]``. Prints the
median wall time of each phase and the ratio prorch / prorch_nb (target >= 100x).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 100.0
PHASES = ("create", "start", "orchestrate", "total")
#: (label, import root, batch creation and starting)
CONFIGURATIONS = (
    ("prorch 1.0.1", "prorch", False),
    ("prorch_nb", "prorch_nb", False),
    ("prorch_nb batched", "prorch_nb", True),
)


# Worker side (runs in the subprocess) ----------------------------------------------------


def load_api(root: str) -> SimpleNamespace:
    """The names the workload needs, from the seed's module paths under ``root``."""

    def name(module: str, attribute: str) -> Any:
        return getattr(importlib.import_module(f"{root}.{module}"), attribute)

    return SimpleNamespace(
        Pipeline=name("pipeline.pipeline", "Pipeline"),
        Step=name("step.step", "Step"),
        OnStartMixin=name("mixins.on_start", "OnStartMixin"),
        OnContinueMixin=name("mixins.on_continue", "OnContinueMixin"),
        register_pipeline=name("decorators.decorators", "register_pipeline"),
        register_step=name("decorators.decorators", "register_step"),
        Orchestrator=name("orchestrator.orchestrator", "Orchestrator"),
        OrchestratorConfig=name("dataclasses.orchestrator", "OrchestratorConfig"),
        SavedItem=name("dataclasses.orchestrator", "SavedItem"),
        IRepository=name("interfaces.repository", "IRepository"),
        Metadata=name("utils.constants", "Metadata"),
    )


def seed_repository(api: SimpleNamespace) -> type:
    """The seed README's TinyDBRepository example, written against ``api``'s interface."""
    from tinydb import TinyDB, where

    class TinyDBRepository(api.IRepository):
        def __init__(self, model: str) -> None:
            super().__init__(model)
            self._db = TinyDB("database.json")
            self._table = self._db.table(api.Metadata.TABLE_NAMES[model])

        def get(self, uuid: str) -> dict:
            return self._table.get(where("uuid") == uuid)

        def save(self, data: dict) -> Any:
            return api.SavedItem(identifier=self._table.insert(data))

        def update(self, uuid: str, data: dict) -> None:
            self._table.update(data, where("uuid") == uuid)

        def search(self, filter: list) -> list:
            field, value = filter
            return self._table.search(where(field) == value)

    return TinyDBRepository


def define_workload(api: SimpleNamespace) -> type:
    """A three-step pipeline whose steps finish in ``on_continue``."""

    @api.register_step
    class Work(api.OnStartMixin, api.OnContinueMixin, api.Step):
        name = "Work"

        def on_start(self) -> None:
            pass

        def on_continue(self) -> None:
            self.finish()

    @api.register_pipeline
    class ThreeSteps(api.Pipeline):
        name = "ThreeSteps"
        steps = [Work, Work, Work]

    return ThreeSteps


def run_workload(root: str, count: int, batched: bool) -> dict[str, float | int]:
    """Create, start and orchestrate ``count`` runs in the working folder; phase times."""
    api = load_api(root)
    pipeline_class = define_workload(api)
    if root == "prorch":
        repository = seed_repository(api)
        grouped: Any = contextlib.nullcontext
    else:
        from prorch_nb import TinyDBRepository
        from prorch_nb.store import Store

        repository = TinyDBRepository.at(Path.cwd() / "database.json")
        grouped = Store(repository).batch if batched else contextlib.nullcontext
    times: dict[str, float | int] = {}
    begin = time.perf_counter()
    with grouped():
        runs = [pipeline_class(repository_class=repository) for _ in range(count)]
    times["create"] = time.perf_counter() - begin
    mark = time.perf_counter()
    with grouped():
        for run in runs:
            run.start()
    times["start"] = time.perf_counter() - mark
    mark = time.perf_counter()
    orchestrator = api.Orchestrator(config=api.OrchestratorConfig(repository_class=repository))
    passes = 0
    while count_with_status(repository, api, "pending") and passes < 10:
        orchestrator.execute_pipelines()
        passes += 1
    times["orchestrate"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - begin
    times["passes"] = passes
    times["finished"] = count_with_status(repository, api, "finished")
    return times


def count_with_status(repository: type, api: SimpleNamespace, status: str) -> int:
    """Stored pipelines with ``status``, read by a new repository instance.

    A new instance each time: a TinyDB object caches query results, and the seed's
    example opens one per repository instance, blind to writes made by the others.
    """
    return len(repository(api.Metadata.PIPELINES_MODEL).search(["status", status]))


# Driver side --------------------------------------------------------------------------


def measure(root: str, count: int, batched: bool) -> dict[str, float | int]:
    """Run the workload in a fresh subprocess and a fresh temporary folder."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix=f"bench-{root}-") as folder:
        command = [sys.executable, __file__, "--worker", root, "--pipelines", str(count)]
        if batched:
            command.append("--batched")
        result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{root} worker failed:\n{result.stdout}\n{result.stderr}")
    times = json.loads(result.stdout.strip().splitlines()[-1])
    if times["finished"] != count:
        raise SystemExit(f"{root}: only {times['finished']} of {count} runs finished: {times}")
    return times


def main() -> None:
    """Parse arguments; run as a worker or drive all configurations and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=("prorch", "prorch_nb"), help=argparse.SUPPRESS)
    parser.add_argument("--batched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_workload(args.worker, args.pipelines, args.batched)))
        return

    runs: dict[str, list[dict[str, float | int]]] = {label: [] for label, _, _ in CONFIGURATIONS}
    for repetition in range(args.repeat):
        for label, root, batched in CONFIGURATIONS:
            runs[label].append(measure(root, args.pipelines, batched))
            print(f"  repetition {repetition + 1}: {label:<18} {runs[label][-1]['total']:8.3f} s", file=sys.stderr)

    medians = {label: {phase: statistics.median(r[phase] for r in runs[label]) for phase in PHASES} for label in runs}
    reference = medians["prorch 1.0.1"]["total"]
    print(f"\n{args.pipelines} pipelines x 3 steps, median of {args.repeat} runs (wall seconds)\n")
    print(f"{'store':<20}" + "".join(f"{phase:>13}" for phase in PHASES) + f"{'passes':>8}{'prorch / this':>15}")
    for label, _, _ in CONFIGURATIONS:
        row = medians[label]
        passes = runs[label][0]["passes"]
        ratio = reference / row["total"]
        print(f"{label:<20}" + "".join(f"{row[phase]:>13.3f}" for phase in PHASES) + f"{passes:>8}{ratio:>14.1f}x")
    for label, _, _ in CONFIGURATIONS[1:]:
        ratio = reference / medians[label]["total"]
        verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
        print(f"check {label}: prorch / prorch_nb = {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x) {verdict}")


if __name__ == "__main__":
    main()
