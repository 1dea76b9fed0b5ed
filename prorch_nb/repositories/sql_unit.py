"""A unit of work on the SQL repository: one transaction per thread, entered once however nested."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

if TYPE_CHECKING:
    from prorch_nb.repositories.sql_database import SQLDatabase


class Seen(NamedTuple):
    """A record as the open unit last read or wrote it: what later reads and writes of it need."""

    version: int
    status: Any
    claimed_by: Any


class UnitState:
    """This thread's open unit: its connection and transaction, and what it has seen of records.

    A write compares with the version the unit saw (compare-and-set), so the unit's own
    reads of a record's status or claim are answered from what it saw: if the record
    changed since, the write is refused anyway.
    """

    __slots__ = ("connection", "depth", "locked", "now", "seen", "transaction", "written")

    def __init__(self) -> None:
        self.connection: sa.Connection | None = None
        self.transaction: sa.RootTransaction | None = None
        self.depth = 0
        self.seen: dict[tuple[str, str], Seen] = {}  #: (model, uuid) -> as last read or written in this unit
        self.locked: dict[str, dict[str, Any]] = {}  #: run uuid -> its record, read with its row's lock
        self.written = False
        self.now: datetime | None = None  #: the database's time when the transaction began, once asked

    def saw(self, model: str, uuid: str, version: int, status: Any, claimed_by: Any = None) -> None:
        """Remember a record read inside the unit (a later write compares with its version)."""
        if self.depth:
            self.seen[model, uuid] = Seen(version, status, claimed_by)

    def seen_of(self, model: str, uuid: str) -> Seen | None:
        """What this unit last saw of the record, if it saw it."""
        return self.seen.get((model, uuid)) if self.depth else None

    def wrote(self, model: str, uuid: str, version: int, data: dict[str, Any]) -> None:
        """Remember a record this unit wrote (``data``: the fields written), at its new version."""
        if self.depth:
            before = self.seen.get((model, uuid))
            status = data.get("status", before.status if before else None)
            claimed_by = data.get("claimed_by", before.claimed_by if before else None)
            self.seen[model, uuid] = Seen(version, status, claimed_by)
            self.locked.pop(uuid, None)  # the record as locked is outdated now: read it again
            self.written = True


class SQLUnit:
    """The context manager of ``SQLDatabase.unit_of_work`` (the same object every time)."""

    __slots__ = ("database",)

    def __init__(self, database: SQLDatabase) -> None:
        self.database = database

    def __enter__(self) -> None:
        database = self.database
        state = database.state
        if state.depth == 0:
            with database.translated_errors():
                connection = database.engine.connect().execution_options(prorch_immediate=True)
                try:
                    state.transaction = connection.begin()
                except BaseException:
                    connection.close()
                    raise
            state.connection = connection
        state.depth += 1

    def __exit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        database = self.database
        state = database.state
        state.depth -= 1
        if state.depth:
            return
        connection, transaction = state.connection, state.transaction
        written = state.written
        state.__init__()  # type: ignore[misc]  # the unit is over, whatever happens below
        assert connection is not None and transaction is not None
        try:
            with database.translated_errors():
                if exc_type is not None:
                    transaction.rollback()
                    return
                if written and database.dialect == "postgresql":
                    connection.execute(sa.select(sa.func.pg_notify(database.channel, "")))
                transaction.commit()
        finally:
            connection.close()
