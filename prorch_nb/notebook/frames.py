"""Repository state as typed pandas DataFrames.

Every function takes a *source*: a repository class (``TinyDBRepository.at("database.json")``,
``InMemoryRepository.fresh()``, a user's own ``IRepository`` subclass) or a
:class:`~prorch_nb.store.Store` made from one. Records are read only through the
repository interface: the fields a frame needs of each table with one ``columns(fields)``
call (one query on a SQL database; the bundled stores answer ``pipelines_frame``'s step
counts from their indexes), or from ``all()`` (or one ``search`` per status) for a
repository without it. So a ``database.json`` written by prorch 1.0.1 loads too: its
missing timestamps, histories and positions show as ``NaT`` and ``<NA>``.

Column dtypes are fixed, also for an empty repository (see :data:`PIPELINE_COLUMNS`,
:data:`STEP_COLUMNS`): statuses are an ordered categorical in lifecycle order
(``created < pending < finished < failed < cancelled``), times ``datetime64[us, UTC]``,
durations ``timedelta64[us]``, positions ``Int64`` and text the ``string`` dtype. A step's
``position`` counts from 1, as every view numbers steps (stored records count from 0).

Times come from each record's status history: ``started_at`` is its entry into
``pending``, ``ended_at`` its entry into an ended status (the last: a resumed record has
not ended until it ends again), ``duration`` the time between (``NaT`` until both
happened) and ``by`` who ended it (``engine``, ``step``, ``error``, ``timeout``,
``hand``). What a run waits for comes from its records: ``next_due`` (when a waiting run
or step is due: a timer's end, a retry's next attempt), a step's ``attempts`` and
``deadline``, a run's ``signals``. A record a frame cannot represent (not a dict, a missing uuid, name or
status, an unknown status, an unreadable time, a uuid an earlier record has) is left
out of it and reported: one :class:`MalformedRecordWarning` naming the repository and
each record, or a call of ``on_malformed(records)`` when a function is given one.
:func:`styled` makes any of them readable (statuses in the shared palette, short uuids,
times to the second, durations for people) and escapes their text for HTML.

>>> import prorch_nb as pn
>>> empty = steps_frame(pn.InMemoryRepository.fresh())
>>> len(empty), str(empty["created_at"].dtype), list(empty["status"].cat.categories)
(0, 'datetime64[us, UTC]', ['created', 'pending', 'finished', 'failed', 'cancelled'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prorch_nb.exceptions.exceptions import MalformedRecordWarning, RecordNotFoundError
from prorch_nb.interfaces.repository import IRepository, columns_of
from prorch_nb.notebook.columns import COUNT, STRING, RawRecords
from prorch_nb.notebook.frame_style import styled
from prorch_nb.notebook.reading import OnMalformed, Reading
from prorch_nb.notebook.schemas import (
    JOINED_COLUMNS,
    JOINED_PIPELINE_COLUMNS,
    PIPELINE_COLUMNS,
    STEP_COLUMNS,
    TIMELINE_COLUMNS,
)
from prorch_nb.store import Store
from prorch_nb.utils.constants import Status

__all__ = [
    "JOINED_COLUMNS",
    "PIPELINE_COLUMNS",
    "STEP_COLUMNS",
    "TIMELINE_COLUMNS",
    "MalformedRecordWarning",
    "pipelines_frame",
    "steps_frame",
    "steps_with_pipelines",
    "styled",
    "summary",
    "timeline",
]

#: A repository class, or a store made from one.
Source = type[IRepository] | Store

# The fields the frames read of each table: a record's identity, what orders pipelines,
# what counts steps, and every field a row of a frame shows.
_IDENTITY = ("uuid", "name", "status")
_ORDERED = (*_IDENTITY, "created_at")
_COUNTED = ("uuid", "pipeline_uuid", "name", "status")
_PIPELINE_FIELDS = (*_ORDERED, "metadata", "updated_at", "history", "due_at", "signals")
_STEP_FIELDS = (*_COUNTED, "position", "created_at", "updated_at", "history", "error", "attempts", "due_at", "deadline")


def pipelines_frame(
    source: Source, *, flatten_metadata: bool = False, on_malformed: OnMalformed | None = None
) -> pd.DataFrame:
    """One row per pipeline, oldest first (storage order for records without ``created_at``).

    ``current_step`` is the uuid from the pipeline's metadata; ``next_due`` when the run
    is next due, if it waits; ``signals`` the signals sent to it (JSON text); ``steps``
    counts its steps and ``steps_<status>`` those in each status. ``flatten_metadata=True``
    adds every key of ``metadata``, ``context`` and ``signals`` as ``metadata.<key>`` /
    ``context.<key>`` / ``signals.<name>`` columns (nested dicts flattened with dots,
    dtypes inferred).
    """
    return _reading(source, on_malformed).build(lambda reading: _pipeline_table(reading, flatten_metadata))


def steps_frame(
    source: Source, *, flatten_metadata: bool = False, on_malformed: OnMalformed | None = None
) -> pd.DataFrame:
    """One row per step, by pipeline (oldest first) then position (from 1).

    Steps of prorch 1.0.1, which have no position, keep their storage order; steps whose
    pipeline is missing come last. ``attempts`` counts the times ``on_start`` began,
    ``next_due`` is when a waiting step runs again (a timer's end, a retry's next attempt)
    and ``deadline`` when a step with a timeout fails if still pending.
    ``error_type``/``error_message`` describe the exception that failed a step (a retried
    attempt's is in its history). ``flatten_metadata=True`` adds ``metadata.<key>`` columns.
    """
    return _reading(source, on_malformed).build(
        lambda reading: _step_table(
            reading.records("step", _STEP_FIELDS + (("metadata",) if flatten_metadata else ())),
            _creation_order(reading.records("pipeline", _ORDERED)),
            flatten_metadata,
        )
    )


def steps_with_pipelines(source: Source, *, on_malformed: OnMalformed | None = None) -> pd.DataFrame:
    """:func:`steps_frame` joined with each step's pipeline.

    Adds ``pipeline_name``, ``pipeline_status``, ``pipeline_created_at`` and
    ``pipeline_ended_at`` after ``pipeline_uuid`` (missing for a step whose pipeline is gone).
    """
    return _reading(source, on_malformed).build(_joined)


def summary(source: Source, *, on_malformed: OnMalformed | None = None) -> pd.DataFrame:
    """Pipelines per name (rows, sorted) and status (a column each, in order) plus ``total``.

    >>> import prorch_nb as pn
    >>> list(summary(pn.InMemoryRepository.fresh()).columns)
    ['created', 'pending', 'finished', 'failed', 'cancelled', 'total']
    """
    return _reading(source, on_malformed).build(_summary)


def timeline(
    source: Source, pipeline_uuid: str | None = None, *, on_malformed: OnMalformed | None = None
) -> pd.DataFrame:
    """Started steps (of one pipeline, or all) as ``start``, ``end`` and ``duration``, by start.

    ``start`` is the step's entry into ``pending``, ``end`` into an ended status (``NaT``
    while it runs). Steps never started are left out. An unknown ``pipeline_uuid`` raises
    :class:`~prorch_nb.exceptions.exceptions.RecordNotFoundError`.
    """
    reading = _reading(source, on_malformed)
    if pipeline_uuid is not None and not reading.store.pipelines.get(pipeline_uuid):
        raise RecordNotFoundError(f"no pipeline record with uuid {pipeline_uuid!r}")
    return reading.build(lambda reading: _timeline(reading, pipeline_uuid))


# Building blocks -----------------------------------------------------------------------


def _reading(source: Source, on_malformed: OnMalformed | None) -> Reading:
    return Reading(source if isinstance(source, Store) else Store(source), on_malformed)


def _pipeline_table(reading: Reading, flatten: bool) -> pd.DataFrame:
    pipelines = reading.records("pipeline", _PIPELINE_FIELDS + (("context",) if flatten else ()))
    frame = _pipeline_columns(pipelines)
    counts = _step_counts(reading.records("step", _COUNTED), frame["uuid"])
    frame["steps"] = counts.sum(axis=1)
    for code, status in enumerate(Status.ALL):
        frame[f"steps_{status}"] = counts[:, code]
    if flatten:
        frame = _with_flattened(frame, pipelines, ("metadata", "context", "signals"))
    return _in_creation_order(frame).reset_index(drop=True)


def _summary(reading: Reading) -> pd.DataFrame:
    pipelines = reading.records("pipeline", _IDENTITY)
    identity = pipelines.identity()
    grouped = pd.DataFrame({"name": identity["name"], "status": identity["status"]})
    counts = grouped.groupby(["name", "status"], observed=False).size().unstack("status", fill_value=0)
    counts = counts.reindex(columns=list(Status.ALL), fill_value=0).astype(COUNT)
    counts.columns = pd.Index(Status.ALL, dtype=STRING, name="status")
    counts["total"] = counts.sum(axis=1).astype(COUNT)
    return counts


def _timeline(reading: Reading, pipeline_uuid: str | None) -> pd.DataFrame:
    joined = _joined(reading)
    if pipeline_uuid is not None:
        joined = joined[joined["pipeline_uuid"] == pipeline_uuid]
    started = joined[joined["started_at"].notna()].rename(columns={"started_at": "start", "ended_at": "end"})
    return started.sort_values("start", kind="stable").loc[:, list(TIMELINE_COLUMNS)].reset_index(drop=True)


def _joined(reading: Reading) -> pd.DataFrame:
    """Every step with the columns of its pipeline (``pipeline_<name>``) after ``pipeline_uuid``."""
    pipeline_table = _pipeline_columns(reading.records("pipeline", _PIPELINE_FIELDS))
    steps = _step_table(
        reading.records("step", _STEP_FIELDS), pd.Index(_in_creation_order(pipeline_table)["uuid"]), flatten=False
    )
    by_uuid = pipeline_table.set_index("uuid").loc[:, list(JOINED_PIPELINE_COLUMNS)]
    joined = by_uuid.reindex(pd.Index(steps["pipeline_uuid"])).add_prefix("pipeline_")
    joined.index = steps.index
    at = steps.columns.get_loc("pipeline_uuid") + 1
    return pd.concat([steps.iloc[:, :at], joined, steps.iloc[:, at:]], axis=1)


def _pipeline_columns(pipelines: RawRecords) -> pd.DataFrame:
    """The record columns of every pipeline, in storage order."""
    current = [metadata.get("current_step") for metadata in pipelines.dicts("metadata")]
    columns = pd.DataFrame(
        {
            **pipelines.identity(),
            "current_step": pipelines.optional_strings(current, "'current_step' of 'metadata'"),
            "created_at": pipelines.timestamps("created_at"),
            "updated_at": pipelines.timestamps("updated_at"),
        }
    )
    waits = pd.DataFrame({"next_due": pipelines.timestamps("due_at"), "signals": pipelines.dict_texts("signals")})
    return pd.concat([columns, pipelines.history_marks(), waits], axis=1)


def _in_creation_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("created_at", kind="stable", na_position="first")


def _creation_order(pipelines: RawRecords) -> pd.Index:
    """Pipeline uuids, oldest first, reading only their identity and ``created_at``."""
    frame = pd.DataFrame({"uuid": pipelines.identity()["uuid"], "created_at": pipelines.timestamps("created_at")})
    return pd.Index(_in_creation_order(frame)["uuid"])


def _step_counts(steps: RawRecords, pipeline_uuids: pd.Series) -> np.ndarray:
    """Steps per pipeline (rows, as ``pipeline_uuids``) and status (columns, in order)."""
    identity = steps.identity()
    rows = pd.Index(pipeline_uuids).get_indexer(identity["pipeline_uuid"])
    codes = identity["status"].cat.codes.to_numpy()
    known = rows >= 0
    width = len(Status.ALL)
    flat = np.bincount(rows[known] * width + codes[known], minlength=len(pipeline_uuids) * width)
    return flat.reshape(len(pipeline_uuids), width).astype(COUNT)


def _step_table(steps: RawRecords, pipeline_order: pd.Index, flatten: bool) -> pd.DataFrame:
    """Every step, by its pipeline's place in ``pipeline_order`` (unknown last), then position."""
    identity = steps.identity()
    errors = steps.dicts("error")
    columns = pd.DataFrame(
        {
            "uuid": identity["uuid"],
            "pipeline_uuid": identity["pipeline_uuid"],
            "position": steps.integers("position") + 1,  # counted from 1, as every view shows it
            "name": identity["name"],
            "status": identity["status"],
            "created_at": steps.timestamps("created_at"),
            "updated_at": steps.timestamps("updated_at"),
        }
    )
    marks = steps.history_marks()
    schedule = pd.DataFrame(
        {
            "attempts": steps.integers("attempts"),
            "next_due": steps.timestamps("due_at"),
            "deadline": steps.timestamps("deadline"),
        }
    )
    error_columns = pd.DataFrame(
        {
            f"error_{key}": steps.optional_strings(values, f"{key!r} of 'error'")
            for key, values in zip(("type", "message"), columns_of(errors, ("type", "message")), strict=True)
        }
    )
    frame = pd.concat([columns, marks, schedule, error_columns], axis=1)
    if flatten:
        frame = _with_flattened(frame, steps, ("metadata",))
    rank = pipeline_order.get_indexer(frame["pipeline_uuid"])
    rank[rank < 0] = len(pipeline_order)
    position = frame["position"].fillna(-1).to_numpy(dtype=np.int64)
    order = np.lexsort((np.arange(len(frame)), position, rank))
    return frame.take(order).reset_index(drop=True)


def _with_flattened(frame: pd.DataFrame, records: RawRecords, fields: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` plus a ``<field>.<key>`` column per key found in the dict ``field`` of any record."""
    parts = [frame]
    for field in fields:
        flat = pd.json_normalize(records.dicts(field), sep=".").add_prefix(f"{field}.")
        flat.index = frame.index
        parts.append(flat.convert_dtypes())
    return pd.concat(parts, axis=1)
