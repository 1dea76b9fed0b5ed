"""Working with stored runs from outside a pipeline class."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prorch_nb import registry
from prorch_nb.interfaces.repository import IRepository, Keep
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


def checkpoint(repository_class: type[IRepository], *, keep: Keep = None) -> None:
    """Bring a journalled repository's file up to date now (a no-op for other repositories).

    The TinyDB store folds its journal into the JSON file, so that programs reading the
    file alone (TinyDB, prorch 1.0.1) see every commit. ``keep`` resolves a
    :class:`~prorch_nb.exceptions.exceptions.StoreConflictError`: ``"file"`` keeps the
    other program's versions of the conflicting records, ``"journal"`` prorch_nb's.
    """
    Store(repository_class).checkpoint(keep=keep)
