"""A unit of work on the SQL repository: one transaction per thread, entered once however nested."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from prorch_nb.repositories.sql_database import SQLDatabase


class UnitState:
    """This thread's open unit: its connection and transaction, and the versions of what it read."""

    __slots__ = ("connection", "depth", "now", "transaction", "versions", "written")

    def __init__(self) -> None:
        self.connection: sa.Connection | None = None
        self.transaction: sa.RootTransaction | None = None
        self.depth = 0
        #: (model, uuid) -> the record's version as last read or written in this unit
        self.versions: dict[tuple[str, str], int] = {}
        self.written = False
        self.now: datetime | None = None  #: the database's time when the transaction began, once asked

    def read(self, model: str, uuid: str, version: int) -> None:
        """Remember a version read inside the unit (a later write compares with it)."""
        if self.depth:
            self.versions[model, uuid] = version

    def version_read(self, model: str, uuid: str) -> int | None:
        """The version this unit last saw of the record, if it read it."""
        return self.versions.get((model, uuid)) if self.depth else None

    def wrote(self, model: str, uuid: str, version: int) -> None:
        """Remember a record this unit wrote, at its new version."""
        if self.depth:
            self.versions[model, uuid] = version
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
