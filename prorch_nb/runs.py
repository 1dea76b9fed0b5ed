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
    """Group many units of work (e.g. creating many runs) for repositories that care.

    The TinyDB store commits every unit to its journal anyway and folds the journal
    into the file when the batch ends; a no-op for repositories without ``batch()``.
    """
    with Store(repository_class).batch():
        yield
