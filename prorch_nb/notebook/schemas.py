"""The columns and dtypes of every frame, fixed also for an empty repository.

>>> list(TIMELINE_COLUMNS)[-3:]
['start', 'end', 'duration']
"""

from __future__ import annotations

from typing import Any

from prorch_nb.notebook.columns import COUNT, DURATION, INTEGER, POSITION, STATUS, STRING, TIMESTAMP
from prorch_nb.utils.constants import Status

_HISTORY_COLUMNS = {"started_at": TIMESTAMP, "ended_at": TIMESTAMP, "duration": DURATION, "by": STRING}

#: Columns and dtypes of :func:`~prorch_nb.notebook.frames.pipelines_frame` (``steps_<status>`` count its steps;
#: ``signals`` is the last value sent under each name, as JSON text).
PIPELINE_COLUMNS: dict[str, Any] = {
    "uuid": STRING,
    "name": STRING,
    "status": STATUS,
    "current_step": STRING,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    **_HISTORY_COLUMNS,
    "next_due": TIMESTAMP,
    "signals": STRING,
    "steps": COUNT,
    **{f"steps_{status}": COUNT for status in Status.ALL},
}

#: Columns and dtypes of :func:`~prorch_nb.notebook.frames.steps_frame`.
STEP_COLUMNS: dict[str, Any] = {
    "uuid": STRING,
    "pipeline_uuid": STRING,
    "position": POSITION,
    "name": STRING,
    "status": STATUS,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    **_HISTORY_COLUMNS,
    "attempts": INTEGER,
    "next_due": TIMESTAMP,
    "deadline": TIMESTAMP,
    "error_type": STRING,
    "error_message": STRING,
}

#: Pipeline columns ``steps_with_pipelines`` adds after ``pipeline_uuid``, as ``pipeline_<name>``.
JOINED_PIPELINE_COLUMNS = ("name", "status", "created_at", "ended_at")

#: Columns and dtypes of :func:`~prorch_nb.notebook.frames.steps_with_pipelines`.
JOINED_COLUMNS: dict[str, Any] = {
    "uuid": STRING,
    "pipeline_uuid": STRING,
    **{f"pipeline_{column}": PIPELINE_COLUMNS[column] for column in JOINED_PIPELINE_COLUMNS},
    **{column: dtype for column, dtype in STEP_COLUMNS.items() if column not in ("uuid", "pipeline_uuid")},
}

#: Columns and dtypes of :func:`~prorch_nb.notebook.frames.timeline`.
TIMELINE_COLUMNS: dict[str, Any] = {
    "pipeline_uuid": STRING,
    "pipeline_name": STRING,
    "uuid": STRING,
    "position": POSITION,
    "name": STRING,
    "status": STATUS,
    "start": TIMESTAMP,
    "end": TIMESTAMP,
    "duration": DURATION,
}
