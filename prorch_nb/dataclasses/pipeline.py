"""The stored form of a pipeline (the seed's ``PipelineData`` plus additive fields)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prorch_nb.dataclasses.conversion import record_from_dict


@dataclass(slots=True)
class PipelineData:
    """One pipeline record.

    ``uuid``, ``name``, ``metadata`` and ``status`` are the seed's fields; the rest are
    additive and default to empty for records written by prorch 1.0.1. ``step_uuids``
    lists the run's steps in order, so a tick reads only the step it works on.
    ``due_at`` is when the run is next due (``None``: at every pass), ``signals`` the last
    value sent under each name and ``signaled_at`` when the last one came.
    """

    uuid: str
    name: str
    metadata: dict[str, Any] = field(default_factory=lambda: {"current_step": None})
    status: str = "created"
    context: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    step_uuids: list[str] = field(default_factory=list)
    due_at: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    signaled_at: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, copy: bool = True) -> PipelineData:
        """Load a stored pipeline dict; raises ``InvalidRecordError`` naming the record."""
        return record_from_dict(cls, data, required=("uuid", "name", "status"), copy=copy)
