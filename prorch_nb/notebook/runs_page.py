"""What a dashboard reads on each refresh: counts from the store's indexes, a page of runs, the runs due next.

It never reads every record: the counts per pipeline name and status come from the
repository's ``tally`` (kept by the bundled stores' tables, or counted by the database),
only the runs on the page, the newest ``limit`` of those the filter lets through, are
read (``newest``), and of the runs that wait for a time only the :data:`DUE_NEXT` due
first, with their open step (``soonest_due``). Records the views cannot show are left out
and described.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.interfaces.repository import repository_method
from prorch_nb.record_checks import MalformedRecord, checked_pipelines, checked_steps
from prorch_nb.store import Store
from prorch_nb.utils.constants import Status

#: The row of the counts for runs of names no registered pipeline has.
OTHER = "(other pipelines)"
#: How many of the runs that wait for a time a dashboard lists (those due first).
DUE_NEXT = 5


@dataclass(frozen=True)
class PageRun:
    """A run on the page: its record and the statuses of its steps, in order."""

    record: PipelineData
    step_statuses: list[str]


@dataclass(frozen=True)
class DueRun:
    """A run that waits for a time: when it is due, its record and its open step (``None`` if it could not be read)."""

    due_at: str
    record: PipelineData
    step: StepData | None


@dataclass(frozen=True)
class RunsPage:
    """Counts of every run, and the runs of one page, newest first."""

    counts: dict[str, Counter[str]]  #: pipeline name -> status -> runs
    runs: list[PageRun]  #: the page, newest first
    kept: list[PageRun]  #: runs asked for that the page does not show (a chosen run)
    more: int  #: runs the filter lets through that the page does not show
    skipped: list[MalformedRecord] = field(default_factory=list)
    due: list[DueRun] = field(default_factory=list)  #: the runs due first of those that wait for a time

    @property
    def by_status(self) -> Counter[str]:
        """Runs per status."""
        return sum(self.counts.values(), Counter())

    @property
    def total(self) -> int:
        """How many runs the repository holds (with a status views know)."""
        return self.by_status.total()


def read_page(
    store: Store, limit: int, status: str | None = None, *, names: Iterable[str] = (), keep: Iterable[str] = ()
) -> RunsPage:
    """The counts of ``store``'s runs per name (``names`` and those on the page) and status, and a page.

    The page holds the newest ``limit`` runs in ``status`` (every status if ``None``);
    ``keep`` names runs to read as well, off the page. The :data:`DUE_NEXT` runs due first
    come with it, whatever the filter.
    """
    tally = repository_method(store.pipelines, "tally")()
    raw = repository_method(store.pipelines, "newest")(limit, status)
    records, malformed = checked_pipelines(raw, numbered=False)
    skipped: list[MalformedRecord] = []
    runs = [_with_steps(record, store, skipped) for record in records]
    shown = {run.record.uuid for run in runs}
    wanted = [store.pipelines.get(uuid) for uuid in dict.fromkeys(keep) if uuid and uuid not in shown]
    kept_records, _ = checked_pipelines([data for data in wanted if data], numbered=False)
    kept = [_with_steps(record, store, []) for record in kept_records]
    counts = _counts(tally, sorted({*names, *(run.record.name for run in runs)}))
    listed = sum(
        count for (_, each), count in tally.items() if each == status or (status is None and each in Status.ALL)
    )
    due = _due_next(store, skipped)
    return RunsPage(counts, runs, kept, max(listed - len(raw), 0), [*malformed, *skipped], due)


def _due_next(store: Store, skipped: list[MalformedRecord]) -> list[DueRun]:
    """The runs that wait for a time and are due first, each with its open step."""
    found = []
    for uuid, due_at in store.soonest_due(DUE_NEXT):
        raw = store.pipelines.get(uuid)
        records, malformed = checked_pipelines([raw] if raw else [], numbered=False)
        skipped.extend(malformed)
        found.extend(DueRun(due_at, record, _open_step(store, record, skipped)) for record in records)
    return found


def _open_step(store: Store, record: PipelineData, skipped: list[MalformedRecord]) -> StepData | None:
    """The step the run is on (``current_step`` of its metadata), if it can be read."""
    current = record.metadata.get("current_step")
    raw = store.steps.get(current) if isinstance(current, str) else None
    steps, malformed = checked_steps([raw] if raw else [], numbered=False)
    skipped.extend(malformed)
    return steps[0] if steps else None


def _with_steps(record: PipelineData, store: Store, skipped: list[MalformedRecord]) -> PageRun:
    """``record`` with its steps' statuses: from the index for a run that lists its steps, else read."""
    if record.step_uuids:
        status_of = repository_method(store.steps, "status_of")
        statuses = [status_of(uuid) for uuid in record.step_uuids]
        if all(isinstance(status, str) for status in statuses):
            return PageRun(record, statuses)
    steps, malformed = checked_steps(store.steps.search(["pipeline_uuid", record.uuid]) or [], numbered=False)
    skipped.extend(malformed)
    steps.sort(key=lambda step: -1 if step.position is None else step.position)
    return PageRun(record, [step.status for step in steps])


def _counts(tally: dict[tuple[Any, Any], int], names: list[str]) -> dict[str, Counter[str]]:
    """Runs per name in ``names`` and status, from the repository's tally; other names' runs under :data:`OTHER`."""
    counts: dict[str, Counter[str]] = {}
    for name in names:
        counted = Counter({status: tally.get((name, status), 0) for status in Status.ALL})
        if counted.total():
            counts[name] = counted
    other = Counter()
    for (_, status), count in tally.items():
        if status in Status.ALL:
            other[status] += count
    other.subtract(sum(counts.values(), Counter()))
    if +other:
        counts[OTHER] = +other
    return counts
