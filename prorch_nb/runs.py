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
    run = registry.stored_pipeline(Store(repository_class), pipeline_uuid)
    run._store = None  # each later operation makes its own store
    return run


@contextlib.contextmanager
def batch(repository_class: type[IRepository]) -> Iterator[None]:
    """Group many units of work (e.g. creating many runs) for repositories that care.

    The TinyDB store commits every unit to its journal anyway and, if the journal is due
    for folding into the file, folds it when the batch ends, not in the middle; a no-op
    for repositories without ``batch()``.
    """
    with Store(repository_class).batch():
        yield
