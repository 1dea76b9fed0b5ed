"""Working with stored runs from outside a pipeline class."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


@contextlib.contextmanager
def batch(repository_class: type[IRepository]) -> Iterator[None]:
    """Let the repository write the changes made inside together (e.g. creating many runs).

    With the TinyDB store, the file is then written about once a second instead of once
    per change; a no-op for repositories without ``batch()``.
    """
    with Store(repository_class).batch():
        yield
