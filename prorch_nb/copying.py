"""Copying runs between repositories: a notebook's TinyDB file to a shared database, and back.

Every record is copied as stored (uuid, status, metadata, context, history, claims), a
run's steps with it in one unit of work, the run last. Copying again is harmless: a
record the target has already is left as it is (reported as ``same`` or, if the two
differ, ``kept``: the target's version may have moved on since the first copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prorch_nb.interfaces.repository import IRepository, repository_method
from prorch_nb.store import Store
from prorch_nb.utils.plurals import plural


@dataclass
class CopyReport:
    """What a copy did, by record: new in the target, already the same there, kept as the target had it."""

    copied: int = 0
    same: int = 0
    kept: list[str] = field(default_factory=list)  #: uuids of records that differ and were left as they were
    skipped: list[str] = field(default_factory=list)  #: records that have no uuid, described

    def __str__(self) -> str:
        parts = [f"{plural(self.copied, 'record')} copied", f"{self.same} already there"]
        if self.kept:
            shown = ", ".join(self.kept[:5]) + (", …" if len(self.kept) > 5 else "")
            parts.append(f"{len(self.kept)} left as the target has them (they differ: {shown})")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped without a uuid")
        return ", ".join(parts)


def copy_runs(source: type[IRepository], target: type[IRepository]) -> CopyReport:
    """Copy every run of ``source`` (with its steps) into ``target``; see the module's docstring."""
    origin, destination = Store(source), Store(target)
    report = CopyReport()
    steps_by_run: dict[Any, list[dict[str, Any]]] = {}
    for step in repository_method(origin.steps, "all")():
        steps_by_run.setdefault(step.get("pipeline_uuid"), []).append(step)
    for run in repository_method(origin.pipelines, "all")():
        with destination.unit_of_work():
            for step in steps_by_run.pop(run.get("uuid"), []):
                _copy(step, destination.steps, report, "step")
            _copy(run, destination.pipelines, report, "pipeline")
    for steps in steps_by_run.values():  # steps whose run is missing: copied all the same
        for step in steps:
            _copy(step, destination.steps, report, "step")
    return report


def _copy(record: dict[str, Any], table: IRepository, report: CopyReport, kind: str) -> None:
    uuid = record.get("uuid")
    if not isinstance(uuid, str):
        report.skipped.append(f"a {kind} record without a uuid: {record!r:.80}")
        return
    found = table.get(uuid)
    if found is None:
        table.save(record)
        report.copied += 1
    elif found == record:
        report.same += 1
    else:
        report.kept.append(uuid)
