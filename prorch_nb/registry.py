"""Registered pipeline and step classes, looked up by the names stored in records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prorch_nb.exceptions.exceptions import NotRegisteredError

if TYPE_CHECKING:
    from prorch_nb.pipeline.pipeline import Pipeline
    from prorch_nb.step.step import Step
    from prorch_nb.store import Store

PIPELINES: dict[str, type[Pipeline]] = {}
STEPS: dict[str, type[Step]] = {}


def pipeline_class(name: str, *, record: str = "") -> type[Pipeline]:
    """The pipeline class registered under ``name``; ``record`` names the record asking."""
    return _lookup(PIPELINES, "pipeline", name, record)


def step_class(name: str, *, record: str = "") -> type[Step]:
    """The step class registered under ``name``; ``record`` names the record asking."""
    return _lookup(STEPS, "step", name, record)


def stored_pipeline(store: Store, pipeline_uuid: str) -> Pipeline:
    """The stored run ``pipeline_uuid``, as an instance of the class registered under its name."""
    record = store.pipeline(pipeline_uuid)
    return pipeline_class(record.name, record=f"pipeline record {record.uuid}")._from_record(record, store)


def _lookup(registry: dict, kind: str, name: str, record: str) -> type:
    try:
        return registry[name]
    except KeyError:
        where = f" ({record})" if record else ""
        known = ", ".join(sorted(registry)) or "none"
        raise NotRegisteredError(
            f"{kind} name {name!r}{where} is not registered in this process; "
            f"import the module that defines it with @register_{kind}. Registered {kind}s: {known}"
        ) from None
