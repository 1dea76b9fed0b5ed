"""The stored form of a step (the seed's ``StepData`` plus additive fields)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prorch_nb.dataclasses.conversion import record_from_dict


@dataclass(slots=True)
class StepData:
    """One step record.

    ``uuid``, ``name``, ``pipeline_uuid``, ``metadata`` and ``status`` are the seed's
    fields. ``position`` orders the steps of a pipeline (``None`` in old records, which
    then keep their storage order). ``error`` holds ``type``, ``message`` and
    ``traceback`` of an exception raised by a hook. ``claimed_by``/``claimed_until``
    mark the worker running the step's hooks; ``on_start_done`` is ``False`` from the
    moment a step is started until its ``on_start`` has returned (``None`` in old records,
    whose ``on_start`` ran when they were started). ``attempts`` counts the times
    ``on_start`` began; ``due_at``, ``waiting_since`` and ``deadline`` schedule the step
    (a retry's next attempt or a wait's end, when that wait began, start plus timeout:
    see :mod:`prorch_nb.schedule`).
    """

    uuid: str
    name: str
    pipeline_uuid: str
    metadata: dict[str, Any] = field(default_factory=dict)
    status: str = "created"
    position: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None
    claimed_by: str | None = None
    claimed_until: str | None = None
    on_start_done: bool | None = None
    attempts: int | None = None
    due_at: str | None = None
    waiting_since: str | None = None
    deadline: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, copy: bool = True) -> StepData:
        """Load a stored step dict; raises ``InvalidRecordError`` naming the record."""
        return record_from_dict(cls, data, required=("uuid", "name", "pipeline_uuid", "status"), copy=copy)
