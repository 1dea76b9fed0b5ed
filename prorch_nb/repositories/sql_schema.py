"""The SQL repository's tables: runs, steps and the schema's version, under a prefix.

Each record is stored whole as JSON (JSONB on PostgreSQL) beside the columns the engine
looks things up by. ``seq`` orders records by creation; ``version`` counts the writes of
a record, for compare-and-set; ``lease_until`` is a claim's expiry in database time.
The tables are created on first use, in one transaction; a database whose schema is
newer than this code knows is refused.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.utils.constants import Metadata

#: The schema this code writes; a database at a higher version is refused.
SCHEMA_VERSION = 1

_RECORD = sa.JSON().with_variant(JSONB(), "postgresql")
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Tables(NamedTuple):
    """The tables of one prefix (and PostgreSQL schema), by model."""

    metadata: sa.MetaData
    by_model: dict[str, sa.Table]
    schema_version: sa.Table


def define(prefix: str, schema: str | None) -> Tables:
    """The tables ``<prefix>runs``, ``<prefix>steps`` and ``<prefix>schema``."""
    metadata = sa.MetaData(schema=schema)
    runs = sa.Table(
        f"{prefix}runs",
        metadata,
        *_common_columns(),
        sa.Index(f"{prefix}runs_by_status", "status", "seq"),
        sa.Index(f"{prefix}runs_by_name", "name"),
    )
    steps = sa.Table(
        f"{prefix}steps",
        metadata,
        *_common_columns(),
        sa.Column("pipeline_uuid", sa.String(64), nullable=True),
        sa.Column("position", sa.Integer, nullable=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Index(f"{prefix}steps_by_pipeline", "pipeline_uuid", "position"),
        sa.Index(f"{prefix}steps_by_status", "status"),
    )
    version = sa.Table(f"{prefix}schema", metadata, sa.Column("version", sa.Integer, nullable=False))
    by_model = {Metadata.PIPELINES_MODEL: runs, Metadata.STEP_MODEL: steps}
    return Tables(metadata, by_model, version)


def _common_columns() -> list[sa.Column]:
    return [
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("seq", _SEQ, sa.Identity(), nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("record", _RECORD, nullable=False),
    ]


def create_or_check(connection: sa.Connection, tables: Tables, where: str) -> None:
    """Create the tables if they are missing; refuse a schema newer than :data:`SCHEMA_VERSION`.

    Call inside a transaction. ``where`` names the database in errors (no password).
    """
    table = tables.schema_version
    if not sa.inspect(connection).has_table(table.name, schema=table.schema):
        tables.metadata.create_all(connection)
        connection.execute(table.insert().values(version=SCHEMA_VERSION))
        return
    found = connection.execute(sa.select(sa.func.max(table.c.version))).scalar()
    if found is None or found > SCHEMA_VERSION:
        raise StoreFileError(
            f"{where}: its prorch_nb tables ({table.name}) have schema version {found}, "
            f"newer than this prorch_nb knows ({SCHEMA_VERSION}): upgrade prorch_nb"
        )
