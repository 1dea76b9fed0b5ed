"""A repository in a SQL database: PostgreSQL for workers on many hosts, SQLite on one machine.

``SQLRepository.at("postgresql://user@host/db")`` or ``SQLRepository.at("sqlite:///runs.db")``
returns a repository class, as ``TinyDBRepository.at(path)`` does. It needs SQLAlchemy
(and psycopg 3 for PostgreSQL): ``pip install 'prorch-nb[postgres]'``. Importing this
module needs neither; using it without them raises an error saying what to install.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from prorch_nb.dataclasses.orchestrator import SavedItem
from prorch_nb.display import RichDisplay
from prorch_nb.exceptions.exceptions import RepositoryNotDefinedException
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.utils.constants import Metadata

if TYPE_CHECKING:
    from prorch_nb.repositories.sql_database import SQLDatabase

INSTALL_HINT = "pip install 'prorch-nb[postgres]' (SQLAlchemy 2 and psycopg 3)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


class SQLRepository(RichDisplay, IRepository):
    """Records in the tables ``<prefix>runs`` and ``<prefix>steps`` of a SQL database.

    Make a class for a database with :meth:`at`; several projects share one database
    with different ``prefix`` values (or PostgreSQL ``schema`` values).
    """

    url: ClassVar[str] = ""
    prefix: ClassVar[str] = "prorch_"
    schema: ClassVar[str | None] = None
    returns_copies = True

    def __init__(self, model: str) -> None:
        super().__init__(model)
        if not self.url:
            raise RepositoryNotDefinedException("SQLRepository needs a database: use SQLRepository.at(url)")
        self._database = _database(self.url, self.prefix, self.schema)

    @classmethod
    def at(cls, url: str, *, prefix: str = "prorch_", schema: str | None = None) -> type[SQLRepository]:
        """A repository class bound to the database ``url`` (a SQLAlchemy URL), its tables named ``<prefix>...``."""
        for name, value in (("prefix", prefix), ("schema", schema)):
            if value is not None and not _IDENTIFIER.fullmatch(value):
                raise ValueError(f"{name} must be letters, digits and underscores (at most 41), got {value!r}")
        where = _database(url, prefix, schema).where
        return type(f"{cls.__name__}@{where}", (cls,), {"url": url, "prefix": prefix, "schema": schema})

    @property
    def database(self) -> SQLDatabase:
        """The shared database object of this repository's URL and prefix."""
        return self._database

    def get(self, uuid: str) -> dict[str, Any] | None:
        return self._database.get(self.model, uuid)

    def status_of(self, uuid: str) -> Any:
        return self._database.status_of(self.model, uuid)

    def tally(self) -> dict[tuple[Any, Any], int]:
        return self._database.tally(self.model)

    def newest(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        return self._database.newest(self.model, limit, status)

    def soonest_due(self, limit: int) -> list[tuple[Any, str]]:
        return self._database.soonest_due(self.model, limit)

    def statuses_of(self, uuids: list[str]) -> list[Any]:
        return self._database.statuses_of(self.model, uuids)

    def claim_of(self, uuid: str) -> Any:
        return self._database.claim_of(self.model, uuid)

    def save(self, data: dict[str, Any]) -> SavedItem:
        return SavedItem(identifier=self._database.insert(self.model, data))

    def update(self, uuid: str, data: dict[str, Any]) -> None:
        self._database.update(self.model, uuid, data)

    def search(self, filter: list[Any]) -> list[dict[str, Any]]:
        field, value = filter
        return self._database.search(self.model, field, value)

    def search_uuids(self, filter: list[Any]) -> list[Any]:
        field, value = filter
        return self._database.search_uuids(self.model, field, value)

    def due_uuids(self, now: str) -> list[Any]:
        """The pending records due at ``now``, oldest first: runs found by the database (no record is read)."""
        if self.model != Metadata.PIPELINES_MODEL:  # steps have no due_at column
            return super().due_uuids(now)
        return self._database.due_uuids(now)

    def next_due(self) -> str | None:
        """The earliest ``due_at`` of the pending records: of runs, found by the database (no record is read)."""
        if self.model != Metadata.PIPELINES_MODEL:
            return super().next_due()
        return self._database.next_due()

    def all(self) -> list[dict[str, Any]]:
        return self._database.all(self.model)

    def columns(self, fields: Sequence[str]) -> list[list[Any]]:
        return self._database.columns(self.model, fields)

    def unit_of_work(self) -> AbstractContextManager[None]:
        """One transaction for the changes inside (the same object for both tables)."""
        return self._database.unit_of_work()

    def renew_claim(self, uuid: str, claimant: str, until: str) -> bool:
        """Extend a step's claim if ``claimant`` still holds it, without counting as a change (no new version)."""
        return self._database.renew_claim(uuid, claimant, until)

    def next_pending(self, after: str | None, host: str) -> tuple[str, Any, Any] | None:
        """The next run a worker should tick, passing over runs other workers hold (see ``IRepository``)."""
        return self._database.next_pending(after, host)

    def lock_run(self, uuid: str) -> bool:
        """Inside a unit: lock the run ``uuid`` for it, or ``False`` if another worker's unit holds it."""
        return self._database.lock_run(uuid)

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until a unit commits a change here (PostgreSQL's NOTIFY) or ``timeout`` passes."""
        return self._database.wait_for_change(timeout)

    def now(self) -> datetime:
        """The database's clock (PostgreSQL's; this machine's for SQLite): claims' leases are measured in it."""
        return self._database.now()

    def __repr__(self) -> str:
        return f"<{type(self).__name__.partition('@')[0]} {self.model} in {self._database.where}>"


def _database(url: str, prefix: str, schema: str | None) -> SQLDatabase:
    """The shared database object; an install hint if SQLAlchemy (or the driver) is missing."""
    try:
        from prorch_nb.repositories.sql_database import SQLDatabase
    except ImportError as exc:
        raise ImportError(f"SQLRepository needs SQLAlchemy: {INSTALL_HINT}") from exc
    try:
        return SQLDatabase.at(url, prefix, schema)
    except ImportError as exc:  # the URL's driver
        raise ImportError(
            f"SQLRepository cannot load the driver of this database ({exc.name}): {INSTALL_HINT}"
        ) from exc
