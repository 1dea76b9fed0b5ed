"""What a dashboard reads on each refresh: counts from the store's indexes, and the page of runs it shows.

It never reads every record: the uuids per status (and per pipeline name) come from the
repository's ``search_uuids`` (an index lookup in the bundled stores), and only the runs
on the page, the newest ``limit`` of those the filter lets through, are read. Records on
the page the views cannot show are left out and described.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.interfaces.repository import repository_method
from prorch_nb.record_checks import MalformedRecord, checked_pipelines, checked_steps, invalid
from prorch_nb.store import Store
from prorch_nb.utils.constants import Status

#: The row of the counts for runs of names no registered pipeline has.
OTHER = "(other pipelines)"


@dataclass(frozen=True)
class PageRun:
    """A run on the page: its record and the statuses of its steps, in order."""

    record: PipelineData
    step_statuses: list[str]


@dataclass(frozen=True)
class RunsPage:
    """Counts of every run, and the runs of one page, newest first."""

    counts: dict[str, Counter[str]]  #: pipeline name -> status -> runs
    runs: list[PageRun]  #: the page, newest first
    kept: list[PageRun]  #: runs asked for that the page does not show (a chosen run)
    more: int  #: runs the filter lets through that the page does not show
    skipped: list[MalformedRecord] = field(default_factory=list)

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
    ``keep`` names runs to read as well, off the page.
    """
    search_uuids = repository_method(store.pipelines, "search_uuids")
    uuids = {each: search_uuids(["status", each]) for each in Status.ALL}
    skipped: list[MalformedRecord] = []
    raw = _newest([uuids[status]] if status else list(uuids.values()), limit, store, skipped)
    records, malformed = checked_pipelines(raw, numbered=False)
    runs = [_with_steps(record, store, skipped) for record in records]
    shown = {run.record.uuid for run in runs}
    wanted = [store.pipelines.get(uuid) for uuid in dict.fromkeys(keep) if uuid and uuid not in shown]
    kept_records, _ = checked_pipelines([data for data in wanted if data], numbered=False)
    kept = [_with_steps(record, store, []) for record in kept_records]
    counts = _counts(search_uuids, uuids, sorted({*names, *(run.record.name for run in runs)}))
    more = sum(len(uuids[each]) for each in ([status] if status else Status.ALL)) - len(raw)
    return RunsPage(counts, runs, kept, more, [*malformed, *skipped])


def _newest(lists: list[list[Any]], limit: int, store: Store, skipped: list[MalformedRecord]) -> list[dict[str, Any]]:
    """The newest ``limit`` records of several lists of uuids, each in storage order: a merge from their ends.

    Reads one record per list ahead, so about ``limit + len(lists)`` records in all.
    """
    ends = [len(uuids) for uuids in lists]
    ahead: dict[int, dict[str, Any]] = {}
    newest: list[dict[str, Any]] = []
    while len(newest) < limit:
        for at, uuids in enumerate(lists):
            while at not in ahead and ends[at]:
                ends[at] -= 1
                data = _get(store, uuids[ends[at]], skipped)
                if data is not None:
                    ahead[at] = data
        if not ahead:
            break
        at = max(ahead, key=lambda at: _created_at(ahead[at]))
        newest.append(ahead.pop(at))
    return newest


def _get(store: Store, uuid: Any, skipped: list[MalformedRecord]) -> dict[str, Any] | None:
    """The raw record ``uuid``; ``None`` (described in ``skipped`` if it has no uuid) when there is none."""
    if not isinstance(uuid, str):
        skipped.append(MalformedRecord.of("pipeline", None, {}, invalid("'uuid' must be a string", uuid)))
        return None
    return store.pipelines.get(uuid)


def _created_at(data: Any) -> str:
    created = data.get("created_at") if isinstance(data, dict) else None
    return created if isinstance(created, str) else ""


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


def _counts(
    search_uuids: Callable[[list[str]], list[Any]], uuids: dict[str, list[Any]], names: list[str]
) -> dict[str, Counter[str]]:
    """Runs per name in ``names`` and status, from the indexes; the runs of other names under :data:`OTHER`."""
    by_status = {status: set(found) for status, found in uuids.items()}
    counts: dict[str, Counter[str]] = {}
    for name in names:
        named = set(search_uuids(["name", name]))
        counted = Counter({status: len(named & found) for status, found in by_status.items()})
        if counted.total():
            counts[name] = counted
    other = Counter({status: len(found) for status, found in by_status.items()})
    other.subtract(sum(counts.values(), Counter()))
    if +other:
        counts[OTHER] = +other
    return counts
