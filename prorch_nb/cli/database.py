"""The database file a command works on, and the error every command reports with."""

from __future__ import annotations

from pathlib import Path

from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.store import Store


class CliError(Exception):
    """A problem with the command line's input: printed as one line, exit status 2."""


def open_store(path: Path, *, missing: str = "") -> Store:
    """The store of the existing database ``path``; ``missing`` is a hint for when there is none."""
    if not path.exists():
        raise CliError(f"no database at {path}{missing}")
    store = Store(TinyDBRepository.at(path))
    store.all_pipelines()  # a corrupt file raises StoreFileError now, before any work
    return store
