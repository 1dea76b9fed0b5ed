"""Loading stored runs without knowing their class in advance."""

from __future__ import annotations

from prorch_nb import registry
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.store import Store


def load_pipeline(pipeline_uuid: str, repository_class: type[IRepository]) -> Pipeline:
    """The stored run ``pipeline_uuid``, as an instance of its registered class."""
    store = Store(repository_class)
    record = store.pipeline(pipeline_uuid)
    cls = registry.pipeline_class(record.name, record=f"pipeline record {pipeline_uuid}")
    return cls._from_record(record, store)
