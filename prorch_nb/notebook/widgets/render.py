"""The HTML the widgets show, built from what the repository holds now.

Pure functions: each reads the repository (or takes what was read) and returns a string,
so the live widgets and the static snapshots show the same thing. Colours and glyphs
come from :mod:`prorch_nb.styles` only.
"""

from __future__ import annotations

import html
import traceback
from typing import TYPE_CHECKING

import graphviz
import pandas as pd

from prorch_nb.display import MalformedRecord, pipeline_repr, repository_name
from prorch_nb.notebook.frame_style import ESCAPE
from prorch_nb.notebook.frames import pipelines_frame, steps_frame, styled, summary
from prorch_nb.notebook.jupyter import fallback_html
from prorch_nb.notebook.overview import skipped_html
from prorch_nb.notebook.timeline import format_duration
from prorch_nb.styles import style_of
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.interfaces.repository import IRepository
    from prorch_nb.pipeline.pipeline import Pipeline
    from prorch_nb.report import TickReport

#: Columns of a run's step table: frame column -> header.
STEP_COLUMNS = {
    "position": "#",
    "name": "step",
    "status": "status",
    "started_at": "started",
    "ended_at": "ended",
    "duration": "duration",
    "error_message": "error",
}
#: Columns of the runs table: frame column -> header.
RUN_COLUMNS = {
    "name": "pipeline",
    "uuid": "run",
    "status": "status",
    "steps": "steps",
    "steps_finished": "finished",
    "created_at": "created",
    "ended_at": "ended",
    "duration": "duration",
}


def chip(status: str) -> str:
    """A status as a small coloured label with its glyph."""
    look = style_of(status)
    return (
        f"<span class='prorch-chip' style='background:{look.fill};color:{look.font};"
        f"border:1px solid {look.border};padding:0 4px;border-radius:3px;white-space:nowrap'>"
        f"{html.escape(look.glyph)} {html.escape(status)}</span>"
    )


def run_label(name: str, uuid: str, status: str) -> str:
    """How a run is named in a list: ``✓ Simple 1a2b3c4d finished``."""
    return f"{style_of(status).glyph} {name} {uuid[:8]} {status}"


def status_line(record: PipelineData, steps: list[StepData]) -> str:
    """Name, short uuid and status of a run, and the step it is on."""
    current = next(((i, s) for i, s in enumerate(steps) if s.uuid == record.metadata.get("current_step")), None)
    where = "not started"
    if current is not None:
        index, step = current
        where = f"step {index + 1}/{len(steps)} <b>{html.escape(step.name)}</b> {chip(step.status)}"
    name, uuid = html.escape(record.name), html.escape(record.uuid[:8])
    return f"<div class='prorch-status-line'><b>{name}</b> <code>{uuid}</code> {chip(record.status)} · {where}</div>"


def error_box(title: str, message: str, details: str | None) -> str:
    """A red box: ``title`` and ``message``, and ``details`` (a traceback) folded in ``<details>``."""
    look = style_of(Status.FAILED)
    folded = (
        f"<details><summary>Traceback</summary><pre style='white-space:pre-wrap;margin:0'>{html.escape(details)}</pre>"
        "</details>"
        if details
        else ""
    )
    return (
        f"<div class='prorch-error' style='background:{look.fill};color:{look.font};border:1px solid {look.border};"
        f"border-left:4px solid {look.border};padding:4px 8px;margin:4px 0'>"
        f"<b>{html.escape(title)}</b>: {html.escape(message)}{folded}</div>"
    )


def step_errors(steps: list[StepData]) -> str:
    """An error box for every step whose hook raised, with the stored traceback."""
    return "".join(
        error_box(
            f"{step.name} failed in {step.error.get('hook', 'a hook')}",
            f"{step.error.get('type', 'Exception')}: {step.error.get('message', '')}",
            step.error.get("traceback"),
        )
        for step in steps
        if step.error
    )


def diagram(run: Pipeline, direction: str) -> str:
    """The run's diagram as inline SVG, or its text and DOT source when ``dot`` is missing."""
    graph = run.graph(direction)
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return fallback_html(pipeline_repr(run), graph.source)
    return svg[svg.find("<svg") :]


def steps_table(repository_class: type[IRepository], pipeline_uuid: str, skipped: Skipped) -> str:
    """The steps of one run as a table coloured by status (records left out go to ``skipped``)."""
    frame = steps_frame(repository_class, on_malformed=skipped)
    mine = frame.loc[frame["pipeline_uuid"] == pipeline_uuid, list(STEP_COLUMNS)]
    numbered = mine.assign(position=mine["position"] + 1)  # counted from 1, as in the diagram
    return _table(numbered.rename(columns=STEP_COLUMNS), "prorch-steps-table")


def summary_table(repository_class: type[IRepository], skipped: Skipped) -> str:
    """Runs per pipeline name and status (records left out go to ``skipped``)."""
    counts = summary(repository_class, on_malformed=skipped)
    if counts.empty:
        return "<p class='prorch-empty'>No runs yet.</p>"
    return styled(counts).set_table_attributes("class='prorch-summary-table'").to_html()


def runs(repository_class: type[IRepository], skipped: Skipped) -> pd.DataFrame:
    """Every run, newest first (:func:`~prorch_nb.notebook.frames.pipelines_frame` reversed)."""
    return pipelines_frame(repository_class, on_malformed=skipped).iloc[::-1]


def runs_table(shown: pd.DataFrame, more: int) -> str:
    """``shown`` runs as a table, and how many more there are."""
    if shown.empty and not more:
        return "<p class='prorch-empty'>No runs match.</p>"
    table = _table(shown.loc[:, list(RUN_COLUMNS)].rename(columns=RUN_COLUMNS), "prorch-runs-table")
    rest = f"<p>… and {more} more (showing the newest {len(shown)}).</p>" if more else ""
    return table + rest


def tick_report(report: TickReport) -> str:
    """An orchestrator pass: its text, and an error box (with traceback) per pipeline that raised."""
    errors = "".join(
        error_box(
            f"{e.pipeline_name} {e.pipeline_uuid[:8]}", e.message, "".join(traceback.format_exception(e.exception))
        )
        for e in report.errors
    )
    return f"<pre class='prorch-report-text'>{html.escape(str(report))}</pre>{errors}"


class Skipped:
    """The records the frames of one reading of a repository left out, each once: an ``on_malformed`` callback."""

    def __init__(self, repository_class: type[IRepository]) -> None:
        self.repository = repository_name(repository_class)
        self._records: dict[tuple[str, int | None, str | None], MalformedRecord] = {}

    def __call__(self, records: list[MalformedRecord]) -> None:
        for record in records:
            self._records.setdefault((record.kind, record.number, record.uuid), record)

    def html(self) -> str:
        """A note listing them (``""`` if there are none)."""
        return skipped_html(self.repository, list(self._records.values()))


def _table(frame: pd.DataFrame, css: str) -> str:
    """``frame`` styled by status, without its index, times and durations made short."""
    times = [column for column in ("started", "ended", "created") if column in frame]
    plain = [column for column in frame if column not in {"status", "run", "duration", *times}]
    styler: Styler = styled(frame).hide(axis="index").set_table_attributes(f"class='{css}'")
    styler = styler.format(na_rep="", subset=plain, escape=ESCAPE).format(_time, subset=times, na_rep="—")
    styler = styler.format(_duration, subset=["duration"], na_rep="—")
    if "run" in frame:
        styler = styler.format(lambda uuid: html.escape(uuid[:8]), subset=["run"])
    return styler.to_html()


def _time(moment: pd.Timestamp) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _duration(span: pd.Timedelta) -> str:
    return format_duration(span.total_seconds())
