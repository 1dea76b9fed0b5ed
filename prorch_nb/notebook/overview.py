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
from collections.abc import Sequence
from dataclasses import dataclass, field

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.display import (
    LISTED,
    MalformedRecord,
    RichDisplay,
    all_records,
    checked_pipelines,
    checked_steps,
    skipped_lines,
    steps_by_pipeline,
)
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.notebook.timeline import format_time
from prorch_nb.store import Store
from prorch_nb.styles import style_of
from prorch_nb.utils.constants import Status

#: How many of the latest runs an overview lists by default.
LATEST = 10


@dataclass
class Overview(RichDisplay):
    """Counts of runs per pipeline name and status, the latest runs with their steps, the records left out."""

    repository: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    latest: list[tuple[PipelineData, list[StepData]]] = field(default_factory=list)
    skipped: list[MalformedRecord] = field(default_factory=list)

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
        lines = [f"{self.repository}: {self.total} run{'s' if self.total != 1 else ''}"]
        skipped = skipped_lines(self.repository, self.skipped, LISTED)
        if not self.counts:
            return "\n".join([*lines, *skipped])
        width = max(len(name) for name in self.counts)
        lines.append(" ".join([" " * width, *(f"{style_of(s).glyph} {s:>9}" for s in self.statuses), "total"]))
        for name, by_status in self.counts.items():
            cells = (f"{by_status[s]:>11}" for s in self.statuses)
            lines.append(" ".join([f"{name:<{width}}", *cells, f"{sum(by_status.values()):>5}"]))
        lines.append(f"latest {len(self.latest)}:")
        for record, steps in self.latest:
            strip = "".join(style_of(step.status).glyph for step in steps)
            lines.append(
                f"  {style_of(record.status).glyph} {record.status:<9} {record.name} {record.uuid[:8]} "
                f"{strip} {format_time(record.created_at)}"
            )
        return "\n".join([*lines, *skipped])

    def html(self) -> str:
        """The overview as two HTML tables coloured with the status palette."""
        title = f"<b>{html.escape(self.repository)}</b>: {self.total} run{'s' if self.total != 1 else ''}"
        skipped = skipped_html(self.repository, self.skipped)
        if not self.counts:
            return f"<div>{title}{skipped}</div>"
        head = "".join(_badge(status, "th") for status in self.statuses)
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            + "".join(_count_cell(status, by_status[status]) for status in self.statuses)
            + f"<td>{sum(by_status.values())}</td></tr>"
            for name, by_status in self.counts.items()
        )
        counts = f"<table><tr><th>pipeline</th>{head}<th>total</th></tr>{rows}</table>"
        runs = "".join(
            f"<tr>{_badge(record.status, 'td')}<td>{html.escape(record.name)}</td>"
            f"<td><code>{html.escape(record.uuid[:8])}</code></td>"
            f"<td>{''.join(_glyph(step) for step in steps)}</td>"
            f"<td>{html.escape(format_time(record.created_at))}</td>"
            f"<td>{html.escape(format_time(record.updated_at))}</td></tr>"
            for record, steps in self.latest
        )
        latest = (
            f"<table><caption style='text-align:left'>latest {len(self.latest)}</caption>"
            f"<tr><th>status</th><th>pipeline</th><th>uuid</th><th>steps</th><th>created</th><th>updated</th></tr>"
            f"{runs}</table>"
        )
        return f"<div class='prorch-nb-overview'><p>{title}</p>{counts}{latest}{skipped}</div>"


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
    name = getattr(repository_class, "__name__", repr(repository_class))
    return Overview(name, dict(sorted(counts.items())), shown, skipped)


def skipped_html(where: str, malformed: Sequence[MalformedRecord]) -> str:
    """The records a view left out in ``where``, as a note (``""`` when there are none)."""
    lines = skipped_lines(where, malformed, LISTED)
    if not lines:
        return ""
    look = style_of(Status.CANCELLED)
    box = f"background:{look.fill};color:{look.font};border-left:4px solid {look.border};padding:2px 6px;margin:4px 0"
    text = html.escape("\n".join(lines))
    return f"<div class='prorch-nb-skipped' style='{box};white-space:pre-wrap'>{text}</div>"


def _badge(status: str, tag: str) -> str:
    look = style_of(status)
    border = f"3px solid {look.border}" if look.line == "bold" else f"2px {look.line} {look.border}"
    return (
        f"<{tag} style='background:{look.fill};color:{look.font};border:{border};white-space:nowrap'>"
        f"{html.escape(look.glyph)} {html.escape(status)}</{tag}>"
    )


def _count_cell(status: str, count: int) -> str:
    if not count:
        return "<td></td>"
    look = style_of(status)
    return f"<td style='background:{look.fill};color:{look.font};text-align:right'>{count}</td>"


def _glyph(step: StepData) -> str:
    look = style_of(step.status)
    tip = html.escape(f"{step.name}: {step.status}", quote=True)
    colours = f"background:{look.fill};color:{look.font};padding:0 3px"
    return f"<span title='{tip}' style='{colours}'>{html.escape(look.glyph)}</span>"
