"""Time the frame functions on a repository of 10,000 pipelines x 3 steps.

Run from the repository root: ``python -m benchmarks.bench_frames [--pipelines N] [--store
memory|postgresql|sqlite]`` (PostgreSQL from ``PRORCH_NB_TEST_POSTGRES``, on tables of its
own, dropped at the end). Prints the best of 3 runs of each function and checks
pipelines_frame + steps_frame against the 1 s target.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from prorch_nb import InMemoryRepository, Metadata, SQLRepository, Status
from prorch_nb.notebook import frames
from prorch_nb.store import Store

STEPS = ("Extract", "Transform", "Load")
TARGET_SECONDS = 1.0
POSTGRES_URL = os.environ.get("PRORCH_NB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Each pipeline's status and its steps' statuses, cycled over the pipelines.
PROGRESS = (
    ("finished", ("finished", "finished", "finished")),
    ("pending", ("finished", "pending", "created")),
    ("failed", ("finished", "failed", "created")),
    ("cancelled", ("cancelled", "created", "created")),
    ("created", ("created", "created", "created")),
)


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def history(status: str, t0: float) -> list[dict[str, str]]:
    """The history of a record now in ``status``: created, then pending, then ended."""
    lived = {"created": ["created"], "pending": ["created", "pending"]}.get(status, ["created", "pending", status])
    return [{"status": entry, "at": at(t0 + i), "by": "engine"} for i, entry in enumerate(lived)]


def fill(repository_class: type, count: int) -> None:
    """Save ``count`` pipeline records and three step records each, shaped like the engine's (one unit)."""
    with Store(repository_class).unit_of_work():
        _fill(repository_class, count)


def _fill(repository_class: type, count: int) -> None:
    pipelines = repository_class(Metadata.PIPELINES_MODEL)
    steps = repository_class(Metadata.STEP_MODEL)
    for n in range(count):
        t0 = n * 10.0
        pipeline_uuid = str(uuid.uuid4())
        status, step_statuses = PROGRESS[n % len(PROGRESS)]
        step_uuids = [str(uuid.uuid4()) for _ in STEPS]
        error = {"hook": "on_start", "type": "OSError", "message": "disk full", "traceback": "", "at": at(t0)}
        for position, (name, step_status) in enumerate(zip(STEPS, step_statuses, strict=True)):
            steps.save(
                {
                    "uuid": step_uuids[position],
                    "name": name,
                    "pipeline_uuid": pipeline_uuid,
                    "metadata": {"rows": n * 3 + position},
                    "status": step_status,
                    "position": position,
                    "created_at": at(t0),
                    "updated_at": at(t0 + position + 2),
                    "history": history(step_status, t0 + position),
                    "error": error if step_status == Status.FAILED else None,
                    "claimed_by": None,
                    "claimed_until": None,
                    "on_start_done": step_status != Status.CREATED,
                }
            )
        started = [
            step for step, step_status in zip(step_uuids, step_statuses, strict=True) if step_status != "created"
        ]
        pipelines.save(
            {
                "uuid": pipeline_uuid,
                "name": f"Pipeline{n % 4}",
                "metadata": {"current_step": started[-1] if started else None},
                "status": status,
                "context": {"batch": n},
                "created_at": at(t0),
                "updated_at": at(t0 + 5),
                "history": history(status, t0),
            }
        )


def best_of_3(function: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return min(times)


def repository(store: str, folder: str) -> type:
    """A repository class on fresh storage of the kind ``store``."""
    if store == "memory":
        return InMemoryRepository.fresh()
    url = f"sqlite:///{folder}/frames.db" if store == "sqlite" else POSTGRES_URL
    return SQLRepository.at(url, prefix=f"frames{uuid.uuid4().hex[:8]}_")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_frames", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", type=int, default=10_000)
    parser.add_argument("--store", choices=["memory", "postgresql", "sqlite"], default="memory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prorch-bench-frames-") as folder:
        repository_class = repository(args.store, folder)
        try:
            measure(repository_class, args.pipelines, args.store)
        finally:
            if args.store != "memory":
                repository_class(Metadata.PIPELINES_MODEL).database.drop()


def measure(repository_class: type, count: int, store: str) -> None:
    """Fill the repository, time each frame function, print the table."""
    began = time.perf_counter()
    fill(repository_class, count)
    print(f"{store}: filled {count} pipelines x {len(STEPS)} steps in {time.perf_counter() - began:.2f} s\n")
    timings = {
        "pipelines_frame": best_of_3(lambda: frames.pipelines_frame(repository_class)),
        "steps_frame": best_of_3(lambda: frames.steps_frame(repository_class)),
        "steps_with_pipelines": best_of_3(lambda: frames.steps_with_pipelines(repository_class)),
        "summary": best_of_3(lambda: frames.summary(repository_class)),
        "timeline": best_of_3(lambda: frames.timeline(repository_class)),
        "pipelines_frame(flatten_metadata=True)": best_of_3(
            lambda: frames.pipelines_frame(repository_class, flatten_metadata=True)
        ),
    }
    width = max(map(len, timings))
    print(f"{'function':<{width}}  best of 3")
    for name, seconds in timings.items():
        print(f"{name:<{width}}  {seconds:8.3f} s")
    total = timings["pipelines_frame"] + timings["steps_frame"]
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(f"\npipelines_frame + steps_frame: {total:.3f} s, {verdict} the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()
