"""Time the frame functions on an in-memory repository of 10,000 pipelines x 3 steps.

Run from the repository root: ``python -m benchmarks.bench_frames [pipelines]``. Prints
the best of 3 runs of each function and checks pipelines_frame + steps_frame against the
1 s target.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from prorch_nb import InMemoryRepository, Metadata, Status
from prorch_nb.notebook import frames

STEPS = ("Extract", "Transform", "Load")
TARGET_SECONDS = 1.0
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


def fill(repository_class: type[InMemoryRepository], count: int) -> None:
    """Save ``count`` pipeline records and three step records each, shaped like the engine's."""
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


def main(count: int = 10_000) -> None:
    repository_class = InMemoryRepository.fresh()
    began = time.perf_counter()
    fill(repository_class, count)
    print(f"filled {count} pipelines x {len(STEPS)} steps in {time.perf_counter() - began:.2f} s\n")
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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
