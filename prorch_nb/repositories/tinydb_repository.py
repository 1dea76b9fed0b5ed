"""The default repository: a TinyDB JSON file, indexed, atomic and safe across processes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from prorch_nb.dataclasses.orchestrator import SavedItem
from prorch_nb.display import RichDisplay
from prorch_nb.interfaces.repository import IRepository, Keep
from prorch_nb.repositories.database import Database, Durability
from prorch_nb.utils.constants import Metadata


class TinyDBRepository(RichDisplay, IRepository):
    """Records in a TinyDB file (``database.json`` in the working folder by default).

    Tables are named by ``Metadata.TABLE_NAMES``, so a file written by prorch 1.0.1 or by
    the seed's own TinyDBRepository example is read as is, and TinyDB can open ours.
    Choose another file without subclassing: ``TinyDBRepository.at("runs/backup.json")``;
    ``durability="commit"`` there fsyncs every commit (see :mod:`~prorch_nb.repositories.database`).
    """

    path: ClassVar[str | os.PathLike[str]] = "database.json"
    durability: ClassVar[Durability] = "process"
    returns_copies = True

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self._database = Database.at(self.path, self.durability)
        self._name = Metadata.TABLE_NAMES[model]

    @classmethod
    def at(cls, path: str | os.PathLike[str], durability: Durability = "process") -> type[TinyDBRepository]:
        """A repository class bound to the file ``path``, committing with ``durability``."""
        Database.at(path, durability)  # checks the durability now, not at the first use
        absolute = os.path.abspath(os.fspath(path))
        return type(f"{cls.__name__}@{absolute}", (cls,), {"path": absolute, "durability": durability})

    @property
    def database(self) -> Database:
        """The shared database object of this repository's file."""
        return self._database

    def get(self, uuid: str) -> dict[str, Any] | None:
        return self._database.get(self._name, uuid)

    def status_of(self, uuid: str) -> Any:
        return self._database.status_of(self._name, uuid)

    def tally(self) -> dict[tuple[Any, Any], int]:
        return self._database.tally(self._name)

    def newest(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        return self._database.newest(self._name, limit, status)

    def claim_of(self, uuid: str) -> Any:
        return self._database.claim_of(self._name, uuid)

    def save(self, data: dict[str, Any]) -> SavedItem:
        return SavedItem(identifier=int(self._database.insert(self._name, data)))

    def update(self, uuid: str, data: dict[str, Any]) -> None:
        self._database.update(self._name, uuid, data)

    def search(self, filter: list[Any]) -> list[dict[str, Any]]:
        field, value = filter
        return self._database.search(self._name, field, value)

    def search_uuids(self, filter: list[Any]) -> list[Any]:
        field, value = filter
        return self._database.search_uuids(self._name, field, value)

    def due_uuids(self, now: str) -> list[Any]:
        return self._database.due_uuids(self._name, now)

    def next_due(self) -> str | None:
        return self._database.next_due(self._name)

    def soonest_due(self, limit: int) -> list[tuple[Any, str]]:
        return self._database.soonest_due(self._name, limit)

    def all(self) -> list[dict[str, Any]]:
        return self._database.all(self._name)

    def columns(self, fields: Sequence[str]) -> list[list[Any]]:
        return self._database.columns(self._name, fields)

    def unit_of_work(self) -> AbstractContextManager[None]:
        """Make the changes inside atomic: one write of the file, under its lock."""
        return self._database.unit_of_work()

    def batch(self) -> AbstractContextManager[None]:
        """Fold the journal into the file when the outermost batch ends, if it is due (see ``Database``)."""
        return self._database.batch()

    def checkpoint(self, keep: Keep = None) -> bool:
        """Fold the journal into the file now, so that other programs reading it see every commit."""
        return self._database.checkpoint(keep=keep)

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until another process commits to the file or ``timeout`` passes (a worker between rounds)."""
        return self._database.wait_for_change(timeout)

    def checkpoint_soon(self) -> None:
        """Fold the journal in the background shortly, off the caller's path (after a click)."""
        self._database.checkpoint_soon()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name} in {self._database.path}>"
