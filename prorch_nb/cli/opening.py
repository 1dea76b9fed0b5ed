"""The database file a command works on, and the error every command reports with."""

from __future__ import annotations

from pathlib import Path

from prorch_nb.interfaces.repository import Keep
from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.store import Store


class CliError(Exception):
    """A problem with the command line's input: printed as one line, exit status 2."""


def open_store(path: Path, *, missing: str = "") -> Store:
    """The store of the existing database ``path``; ``missing`` is a hint for when there is none."""
    store = _existing(path, missing)
    store.pipelines.all()  # a corrupt file raises StoreFileError now, before any work (records are checked later)
    return store


def checkpoint(path: Path, keep: Keep) -> str:
    """Fold the journal of the existing database ``path`` into it; what was done, in one line."""
    folded = _existing(path, "").pipelines.checkpoint(keep=keep)  # no read first: it would refuse a conflict
    return f"{path}: {'journal folded in' if folded else 'no journal: the file is up to date'}"


def _existing(path: Path, missing: str) -> Store:
    if not path.exists():
        raise CliError(f"no database at {path}{missing}")
    return Store(TinyDBRepository.at(path))
