"""An overview of every run in a repository: counts per pipeline and status, latest runs.

Built from :class:`~prorch_nb.store.Store` reads only; never draws a diagram per run.
Records it cannot show are left out and listed under it.

>>> import prorch_nb as pn
>>> from prorch_nb.examples.backup import BackupAutomationPipeline
>>> repository = pn.InMemoryRepository.fresh()
>>> run = BackupAutomationPipeline(repository_class=repository)
>>> print(overview(repository).text().splitlines()[0])
InMemoryRepository: 1 run
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.notebook.html_parts import badge, cell, count_table, glyph_strip, skipped_note, table
from prorch_nb.notebook.jupyter import View, mimebundle
from prorch_nb.notebook.text import format_time, repository_name
from prorch_nb.record_checks import (
    LISTED,
    MalformedRecord,
    all_records,
    checked_pipelines,
    checked_steps,
    skipped_lines,
    steps_by_pipeline,
)
from prorch_nb.store import Store
from prorch_nb.styles import glyph
from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid

#: How many of the latest runs an overview lists by default.
LATEST = 10


@dataclass
class Overview:
    """Counts of runs per pipeline name and status, the latest runs with their steps, the records left out."""

    repository: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    latest: list[tuple[PipelineData, list[StepData]]] = field(default_factory=list)
    skipped: list[MalformedRecord] = field(default_factory=list)

    _repr_mimebundle_ = mimebundle

    @property
    def total(self) -> int:
        """How many runs the repository holds."""
        return sum(sum(by_status.values()) for by_status in self.counts.values())

    @property
    def statuses(self) -> list[str]:
        """The statuses of the count table: all five, then any unknown ones found."""
        found = {status for by_status in self.counts.values() for status in by_status}
        return [*Status.ALL, *sorted(found - set(Status.ALL))]

    def text(self) -> str:
        """The overview as plain text."""
        lines = [f"{self.repository}: {plural(self.total, 'run')}"]
        skipped = skipped_lines(self.repository, self.skipped, LISTED)
        if not self.counts:
            return "\n".join([*lines, *skipped])
        width = max(len(name) for name in self.counts)
        lines.append(" ".join([" " * width, *(f"{glyph(s)} {s:>9}" for s in self.statuses), "total"]))
        for name, by_status in self.counts.items():
            cells = (f"{by_status[s]:>11}" for s in self.statuses)
            lines.append(" ".join([f"{name:<{width}}", *cells, f"{sum(by_status.values()):>5}"]))
        lines.append(f"latest {len(self.latest)}:")
        for record, steps in self.latest:
            strip = "".join(glyph(step.status) for step in steps)
            lines.append(
                f"  {glyph(record.status)} {record.status:<9} {record.name} {short_uuid(record.uuid)} "
                f"{strip} {format_time(record.created_at)}"
            )
        return "\n".join([*lines, *skipped])

    def html(self) -> str:
        """The overview as two HTML tables coloured with the status palette."""
        title = f"<b>{html.escape(self.repository)}</b>: {plural(self.total, 'run')}"
        skipped = skipped_note(self.repository, self.skipped)
        if not self.counts:
            return f"<div>{title}{skipped}</div>"
        counts = count_table("prorch-nb-counts", self.counts, self.statuses)
        runs = [
            [
                badge(record.status, "td"),
                cell(record.name),
                f"<td><code>{html.escape(short_uuid(record.uuid))}</code></td>",
                f"<td>{glyph_strip([(step.name, step.status) for step in steps])}</td>",
                cell(format_time(record.created_at), nowrap=True),
                cell(format_time(record.updated_at), nowrap=True),
            ]
            for record, steps in self.latest
        ]
        headers = ["status", "pipeline", "run", "steps", "created", "updated"]
        latest = f"<p>latest {len(self.latest)}</p>{table('prorch-nb-latest', headers, runs)}"
        return f"<div class='prorch-nb-overview'><p>{title}</p>{counts}{latest}{skipped}</div>"

    def _notebook_view(self) -> View:
        return View(self.text(), html=self.html())


def overview(repository_class: type[IRepository], latest: int = LATEST) -> Overview:
    """Read the overview of every run stored in ``repository_class``; lists the ``latest`` newest.

    Pipeline records it cannot show, and step records of the latest runs, are left out
    and listed in :attr:`Overview.skipped`.
    """
    store = Store(repository_class)
    records, skipped = checked_pipelines(all_records(store.pipelines))
    records.sort(key=lambda record: record.created_at or "")
    counts: dict[str, Counter[str]] = {}
    for record in records:
        counts.setdefault(record.name, Counter())[record.status] += 1
    shown = []
    for record in records[::-1][: max(latest, 0)]:
        steps, malformed = checked_steps(store.steps.search(["pipeline_uuid", record.uuid]) or [], numbered=False)
        shown.append((record, steps_by_pipeline(steps).get(record.uuid, [])))
        skipped.extend(malformed)
    return Overview(repository_name(repository_class), dict(sorted(counts.items())), shown, skipped)
