"""A repository that keeps records in memory: for tests, notebooks and throwaway runs."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from prorch_nb.dataclasses.orchestrator import SavedItem
from prorch_nb.display import RichDisplay
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.repositories.table import IndexedTable


class InMemoryRepository(RichDisplay, IRepository):
    """Records in indexed tables held by the class, shared by all its instances.

    The engine makes one instance per table, so storage must live on the class;
    :meth:`fresh` makes a class with empty storage of its own.
    """

    returns_copies = True
    _tables: ClassVar[dict[str, IndexedTable]] = {}
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, model: str) -> None:
        super().__init__(model)
        with self._lock:
            self._table = self._tables.setdefault(model, IndexedTable())

    @classmethod
    def fresh(cls, name: str = "InMemoryRepository") -> type[InMemoryRepository]:
        """A new repository class with empty storage of its own."""
        return type(name, (cls,), {"_tables": {}, "_lock": threading.RLock()})

    def get(self, uuid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._table.get(uuid)

    def status_of(self, uuid: str) -> Any:
        with self._lock:
            return self._table.status_of(uuid)

    def tally(self) -> dict[tuple[Any, Any], int]:
        with self._lock:
            return self._table.tally()

    def newest(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._table.newest(limit, status)

    def claim_of(self, uuid: str) -> Any:
        with self._lock:
            return self._table.claim_of(uuid)

    def save(self, data: dict[str, Any]) -> SavedItem:
        with self._lock:
            return SavedItem(identifier=int(self._table.insert(data)))

    def update(self, uuid: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._table.update(uuid, data)

    def search(self, filter: list[Any]) -> list[dict[str, Any]]:
        field, value = filter
        with self._lock:
            return self._table.search(field, value)

    def search_uuids(self, filter: list[Any]) -> list[Any]:
        field, value = filter
        with self._lock:
            return self._table.search_uuids(field, value)

    def due_uuids(self, now: str) -> list[Any]:
        with self._lock:
            return self._table.due_uuids(now)

    def next_due(self) -> str | None:
        with self._lock:
            return self._table.next_due()

    def soonest_due(self, limit: int) -> list[tuple[Any, str]]:
        with self._lock:
            return self._table.soonest_due(limit)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._table.all()

    def columns(self, fields: Sequence[str]) -> list[list[Any]]:
        with self._lock:
            return self._table.columns(fields)

    def unit_of_work(self) -> AbstractContextManager[bool]:
        """Hold the storage's lock, so other threads see the group of changes at once."""
        return self._lock
