"""The SQL repository's tables: runs, steps and the schema's version, under a prefix.

Each record is stored whole as JSON (JSONB on PostgreSQL) beside the columns the engine
looks things up by. ``seq`` orders records by creation; ``version`` counts the writes of
a record, for compare-and-set; ``lease_until`` is a claim's expiry in database time; a
run's ``due_at`` is when it is next due (a timer, a retry), so a pass finds the runs due
now through an index without reading the others. The tables are created, or brought up to date
from an older schema, on first use (:mod:`.sql_migrations`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.constants import Metadata

#: The schema this code writes; a database at a higher version is refused. Version 2 added ``due_at`` to runs.
SCHEMA_VERSION = 2

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
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index(f"{prefix}runs_by_status", "status", "seq"),
        sa.Index(f"{prefix}runs_by_name", "name"),
        sa.Index(f"{prefix}runs_due", "status", "due_at"),
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


def due_at_column(value: Any) -> datetime | None:
    """The ``due_at`` column of a run whose record's ``due_at`` is ``value``: that time in UTC.

    ``None`` (due at every pass) when the record has none, or not a time (SQLite keeps no
    time zone: every time is stored in UTC).
    """
    moment = parse_time(value) if isinstance(value, str) else None
    return None if moment is None else moment.astimezone(timezone.utc)
