"""The schema of a database's prorch_nb tables: created if missing, brought up to date if older, refused if newer.

A database made by an older prorch_nb is migrated in place the first time this code opens
it, inside the transaction that checks its version: no other process opens it meanwhile
(:meth:`~prorch_nb.repositories.sql_database.SQLDatabase.ensure_ready` takes PostgreSQL's
advisory lock, or SQLite's write lock), and a migration that fails leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.sql_schema import SCHEMA_VERSION, Tables, due_at_column
from prorch_nb.utils.constants import Metadata


def create_or_check(connection: sa.Connection, tables: Tables, where: str) -> None:
    """Create the tables if they are missing, migrate an older schema; refuse a newer (or unknown) one.

    Call inside a transaction no other process runs at once. ``where`` names the database
    in errors (no password).
    """
    table = tables.schema_version
    if not sa.inspect(connection).has_table(table.name, schema=table.schema):
        tables.metadata.create_all(connection)
        connection.execute(table.insert().values(version=SCHEMA_VERSION))
        return
    found = connection.execute(sa.select(sa.func.max(table.c.version))).scalar()
    if found is None:
        raise StoreFileError(
            f"{where}: its prorch_nb table {table.name} holds no schema version (a creation that was cut short?): "
            "drop the tables of this prefix to start over, or restore the row"
        )
    if found > SCHEMA_VERSION:
        raise StoreFileError(
            f"{where}: its prorch_nb tables ({table.name}) have schema version {found}, "
            f"newer than this prorch_nb knows ({SCHEMA_VERSION}): upgrade prorch_nb"
        )
    if found < 1:
        raise StoreFileError(
            f"{where}: its prorch_nb tables ({table.name}) have schema version {found}, which no prorch_nb writes"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](connection, tables)
    if found < SCHEMA_VERSION:
        connection.execute(table.update().values(version=SCHEMA_VERSION))


def add_due_at(connection: sa.Connection, tables: Tables) -> None:
    """Version 2: the runs' ``due_at`` column, filled from each record's ``due_at``, and its index."""
    runs = tables.by_model[Metadata.PIPELINES_MODEL]
    dialect, names = connection.dialect, connection.dialect.identifier_preparer
    column = f"{names.quote('due_at')} {dialect.type_compiler_instance.process(runs.c.due_at.type)}"
    connection.execute(sa.text(f"ALTER TABLE {names.format_table(runs)} ADD COLUMN {column}"))
    stored = runs.c.record["due_at"]
    if dialect.name == "postgresql":
        is_text = sa.func.jsonb_typeof(stored) == "string"
    else:
        is_text = sa.func.json_type(runs.c.record, "$.due_at") == "text"
    found = connection.execute(sa.select(runs.c.uuid, stored.as_string()).where(is_text)).all()
    times = [{"run": uuid, "due": due} for uuid, text in found if (due := due_at_column(text)) is not None]
    if times:
        filled = runs.update().where(runs.c.uuid == sa.bindparam("run")).values(due_at=sa.bindparam("due"))
        connection.execute(filled, times)
    for index in runs.indexes:
        if "due_at" in index.columns:
            index.create(connection)


#: The migration that brings a database to each version from the one before.
MIGRATIONS: dict[int, Callable[[sa.Connection, Tables], None]] = {2: add_due_at}
