"""``prorch-nb status``: every pipeline of a database and, under each, its steps.

A record it cannot show (no uuid or name, a status that is not a string, a step without
its pipeline's uuid, ...) is left out, and named at the end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prorch_nb.cli.opening import Database, open_store, select_run
from prorch_nb.cli.terminal import Cell, Terminal, header, local_time, plain, printable
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.lifecycle import BY_RETRY
from prorch_nb.record_checks import all_records, checked_pipelines, checked_steps, skipped_lines, steps_by_pipeline
from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid

#: Colour of the error or note shown after a failed or cancelled step.
DETAIL_COLOUR = "2"


def status(db: Database, pipeline: str | None, terminal: Terminal) -> list[str]:
    """The lines ``status`` prints for the database ``db`` (one pipeline if ``pipeline`` is a uuid prefix)."""
    store = open_store(db)
    records, skipped = checked_pipelines(all_records(store.pipelines))
    records.sort(key=lambda record: record.created_at or "")
    steps, malformed_steps = checked_steps(all_records(store.steps))
    notes = [printable(line) for line in skipped_lines(str(db), [*skipped, *malformed_steps])]
    shown = plural(len(records), "pipeline")
    if pipeline is not None:
        records = [select_run(records, pipeline, db)]
        shown = f"1 of {shown}"
    if not records:
        return [f"no pipelines in {db}", *notes]
    counts = Counter(record.status for record in records)
    summary = printable(", ".join(f"{count} {name}" for name, count in counts.most_common()))
    table = _table(records, steps_by_pipeline(steps), terminal)
    return [f"{shown} in {db}: {summary}", "", *table, *([""] if notes else []), *notes]


def _table(records: list[PipelineData], steps: dict[str, list[StepData]], terminal: Terminal) -> list[str]:
    """Pipeline rows aligned with each other, each followed by its step rows (aligned across pipelines)."""
    pipeline_rows = [header("PIPELINE", "NAME", "STATUS", "CURRENT STEP", "CREATED", "UPDATED")]
    step_rows: list[list[Cell]] = []
    for record in records:
        mine = steps.get(record.uuid, [])
        names = {step.uuid: step.name for step in mine}
        current = names.get(record.metadata.get("current_step") or "", "-")
        pipeline_rows.append(
            [
                *plain(short_uuid(record.uuid), record.name),
                terminal.mark(record.status),
                *plain(current, local_time(record.created_at), local_time(record.updated_at)),
            ]
        )
        for number, step in enumerate(mine, start=1):
            detail = (_detail(record, step), DETAIL_COLOUR)
            step_rows.append([*plain(f"{number}.", step.name), terminal.mark(step.status), detail])
    pipeline_lines = terminal.table(pipeline_rows)
    step_lines = iter(terminal.table(step_rows, indent=" " * 10))
    lines = pipeline_lines[:1]
    for record, line in zip(records, pipeline_lines[1:], strict=True):
        lines.append(line)
        lines.extend(next(step_lines) for _ in steps.get(record.uuid, []))
    return lines


def _detail(run: PipelineData, step: StepData) -> str:
    """Why a step failed or was cancelled (the hook's exception, else the note of its last change); when one waits."""
    if step.status == Status.PENDING:
        return _schedule(run, step)
    if step.status not in (Status.FAILED, Status.CANCELLED):
        return ""
    if step.error:
        return error_line(step.error)
    text = next((str(entry["note"]) for entry in reversed(step.history) if entry.get("note")), "")
    return text.splitlines()[0] if text else ""


def _schedule(run: PipelineData, step: StepData) -> str:
    """When a pending step runs again (its wait's end, or its next attempt) and when it times out; "" for neither.

    Times that do not read as times (a malformed record) are left out.
    """
    parts = []
    due, since, signaled = parse_time(step.due_at), parse_time(step.waiting_since), parse_time(run.signaled_at)
    if due is not None and since is not None and signaled is not None and signaled >= since:
        parts.append("woken by a signal: due now")
    elif due is not None and step.on_start_done is False:
        attempt = step.attempts + 1 if isinstance(step.attempts, int) else "next"
        parts.append(f"attempt {attempt} at {local_time(step.due_at)}{_last_retry_error(step)}")
    elif due is not None:
        parts.append(f"waiting until {local_time(step.due_at)}")
    if parse_time(step.deadline) is not None:
        parts.append(f"times out at {local_time(step.deadline)}")
    return "; ".join(parts)


def _last_retry_error(step: StepData) -> str:
    """``, after ConnectionError: refused``: the error of the attempt before the next (if the history has it)."""
    retries = [entry for entry in step.history if entry.get("by") == BY_RETRY and isinstance(entry.get("error"), dict)]
    if not retries:
        return ""
    return f", after {error_line(retries[-1]['error'])}"


def error_line(error: dict[str, Any]) -> str:
    """``Type: message`` of a stored error, its message's first line only."""
    return f"{error.get('type', 'error')}: {error.get('message', '')}".splitlines()[0]
