"""The HTML the widgets show: pure functions of what was read.

A run's views take its ``(record, steps)`` as read once (:meth:`Store.read_run`); the
dashboard's take a :class:`~prorch_nb.notebook.runs_page.RunsPage`. So the live widgets
and the static snapshots show the same thing, and rendering never touches the store.
"""

from __future__ import annotations

import html
import json
import traceback
from datetime import datetime
from typing import TYPE_CHECKING

import graphviz

from prorch_nb.notebook.diagrams import run_graph
from prorch_nb.notebook.html_parts import badge, cell, count_table, error_box, table
from prorch_nb.notebook.jupyter import fallback_html
from prorch_nb.notebook.runs_page import DueRun, PageRun, RunsPage
from prorch_nb.notebook.text import format_time
from prorch_nb.notebook.waits import (
    RETRY,
    attempt_errors,
    attempt_label,
    due_reason,
    error_line,
    failure_title,
    max_attempts,
    wait_text,
)
from prorch_nb.reprs import run_text
from prorch_nb.styles import WAITING_GLYPH, glyph, step_glyph
from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.constants import Status
from prorch_nb.utils.durations import duration_between, format_duration
from prorch_nb.utils.history import ended_at, ended_entry, started_at
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.report import TickReport

#: Headers of a run's step table.
STEP_HEADERS = ("#", "step", "status", "started", "ended", "duration", "note", "error")
#: Headers of the dashboard's runs table.
RUN_HEADERS = ("status", "pipeline", "run", "steps finished", "created", "ended", "duration")
#: Headers of the dashboard's list of runs due next.
DUE_HEADERS = ("due", "in", "pipeline", "run", "step", "waits for")


def run_label(name: str, uuid: str, status: str) -> str:
    """How a run is named in a list: ``✓ Simple 1a2b3c4d finished``."""
    return f"{glyph(status)} {name} {short_uuid(uuid)} {status}"


def status_line(record: PipelineData, steps: list[StepData], now: datetime) -> str:
    """Name, short uuid and status of a run, the step it is on and what that step waits for; the signals sent to it."""
    current = next(((i, s) for i, s in enumerate(steps) if s.uuid == record.metadata.get("current_step")), None)
    where = "not started"
    if current is not None:
        index, step = current
        where = f"step {index + 1}/{len(steps)} <b>{html.escape(step.name)}</b> {badge(step.status)}"
        waits = wait_text(record, step, now)
        if waits:
            where += f" {html.escape(step_glyph(record, step, now))} {html.escape(waits)}"
    name, uuid = html.escape(record.name), html.escape(short_uuid(record.uuid))
    line = f"<div class='prorch-status-line'><b>{name}</b> <code>{uuid}</code> {badge(record.status)} — {where}</div>"
    return line + signals_line(record)


def signals_line(record: PipelineData) -> str:
    """The last value of each signal sent to the run, and when the last came (``""`` if none came)."""
    if not record.signals:
        return ""
    values = ", ".join(f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in record.signals.items())
    text = f"signals: {values} (last {format_time(record.signaled_at)})"
    return f"<div class='prorch-signals'>{html.escape(text)}</div>"


def step_errors(steps: list[StepData]) -> str:
    """An error box for every step a hook's error, a timeout or lost workers failed, with the stored traceback.

    The error of an attempt another one followed is in the steps table, not in a box.
    """
    return "".join(
        error_box(
            failure_title(step),
            f"{step.error.get('type', 'Exception')}: {step.error.get('message', '')}",
            step.error.get("traceback"),
        )
        for step in steps
        if step.error
    )


def diagram(name: str, record: PipelineData, steps: list[StepData], direction: str, now: datetime) -> str:
    """The run's diagram at ``now`` as inline SVG, or its text and DOT source when ``dot`` is missing."""
    graph = run_graph(record, steps, direction, now=now)
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return fallback_html(run_text(name, record, steps), graph.source)
    return svg[svg.find("<svg") :]


def steps_table(steps: list[StepData]) -> str:
    """The steps of one run, numbered from 1, each with its times, the note it ended with and its error."""
    rows = []
    for index, step in enumerate(steps, start=1):
        start, end = started_at(step.history), ended_entry(step.history) or {}
        rows.append(
            [
                cell(str(index)),
                cell(step.name),
                badge(step.status, "td"),
                cell(format_time(start), nowrap=True),
                cell(format_time(end.get("at")), nowrap=True),
                cell(duration_between(start, end.get("at")), nowrap=True),
                cell(str(end.get("note") or "")),
                _error_cell(step),
            ]
        )
    return table("prorch-steps-table", STEP_HEADERS, rows)


def _error_cell(step: StepData) -> str:
    """The error that failed a step; for a step that retried, each attempt's error first, a line each."""
    attempts = attempt_errors(step)
    if not attempts:
        return cell(str((step.error or {}).get("message", "")))
    ended_by = [error_line(step.error)] if step.error else []
    return cell("\n".join(attempts + ended_by), lines=True)


def summary_table(page: RunsPage) -> str:
    """Runs per pipeline name and status, with a total per name."""
    if not page.counts:
        return "<p class='prorch-empty'>No runs yet.</p>"
    return count_table("prorch-summary-table", page.counts, Status.ALL)


def runs_table(page: RunsPage) -> str:
    """The runs of the page, newest first, and how many more there are."""
    if not page.runs:
        return "<p class='prorch-empty'>No runs match.</p>"
    table_html = table("prorch-runs-table", RUN_HEADERS, [_run_row(run) for run in page.runs])
    rest = f"<p>… and {page.more} more (showing the newest {len(page.runs)}).</p>" if page.more else ""
    return table_html + rest


def due_table(page: RunsPage, now: datetime) -> str:
    """The runs due first of those that wait for a time: when, how soon after ``now``, which step, what for.

    ``""`` when no run waits for a time.
    """
    if not page.due:
        return ""
    rows = [
        [
            cell(format_time(due.due_at), nowrap=True),
            cell(_time_left(due.due_at, now), nowrap=True),
            cell(due.record.name),
            f"<td><code>{html.escape(short_uuid(due.record.uuid))}</code></td>",
            cell(due.step.name if due.step else "-"),
            cell(f"{WAITING_GLYPH} {_waits_for(due)}", nowrap=True),
        ]
        for due in page.due
    ]
    return f"<p class='prorch-due-title'><b>Due next</b></p>{table('prorch-due-table', DUE_HEADERS, rows)}"


def _time_left(due_at: str, now: datetime) -> str:
    """``in 1 min 15 s``, or ``now`` for a run that is due (the next pass ticks it)."""
    moment = parse_time(due_at)
    left = (moment - now).total_seconds() if moment else 0
    return f"in {format_duration(left)}" if left > 0 else "now"


def _waits_for(due: DueRun) -> str:
    """``retry: attempt 2/3``, ``timer`` or ``deadline``: what the run is due for."""
    step = due.step
    reason = due_reason(due.due_at, step) if step else None
    if reason == RETRY and step is not None:
        return f"retry: {attempt_label((step.attempts or 0) + 1, max_attempts(step))}"
    return reason or "-"


def _run_row(run: PageRun) -> list[str]:
    record = run.record
    start, end = started_at(record.history), ended_at(record.history)
    finished = sum(status == Status.FINISHED for status in run.step_statuses)
    return [
        badge(record.status, "td"),
        cell(record.name),
        f"<td><code>{html.escape(short_uuid(record.uuid))}</code></td>",
        cell(f"{finished}/{len(run.step_statuses)}"),
        cell(format_time(record.created_at), nowrap=True),
        cell(format_time(end), nowrap=True),
        cell(duration_between(start, end), nowrap=True),
    ]


def tick_report(report: TickReport) -> str:
    """An orchestrator pass: its text, and an error box (with traceback) per pipeline that raised."""
    errors = "".join(
        error_box(
            f"{error.pipeline_name} {short_uuid(error.pipeline_uuid)}",
            error.message,
            "".join(traceback.format_exception(error.exception)),
        )
        for error in report.errors
    )
    return f"<pre class='prorch-report-text'>{html.escape(str(report))}</pre>{errors}"
