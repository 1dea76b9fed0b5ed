"""Some fields of every record of a SQL table in one query (what the frames read).

On PostgreSQL a field with a text column of its own (``uuid``, ``name``, ``status``, ...)
is read from that column, and the others from each row's JSONB record as one JSON array
per row, all decoded at once. A column holds the string its field had when the record was
written; a row whose field there is not a string (a number, a list: a malformed record)
or differs from its column is flagged, and the read falls back on the records themselves.
SQLite parses a record's text at each JSON function, so there every field comes from one
``json_extract`` per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

#: Record fields that have a text column of the same name (where the table has it).
TEXT_COLUMNS = ("uuid", "name", "status", "created_at", "pipeline_uuid", "claimed_by")


class ColumnsQuery:
    """The query for ``fields`` of every row of ``table`` in order of creation, and the decoding of its rows."""

    def __init__(self, table: sa.Table, dialect: str, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self._record = table.c.record
        self._postgresql = dialect == "postgresql"
        columns = TEXT_COLUMNS if self._postgresql else ()
        self.native = [field for field in fields if field in columns and field in table.c]
        self.in_json = [field for field in fields if field not in self.native]
        exact = sa.and_(sa.true(), *(self._exact(table.c[field], field) for field in self.native))
        flagged = sa.case((exact, 0), else_=1)
        values = [table.c[field] for field in self.native]
        self.select = sa.select(*values, flagged, *self._json_array()).order_by(table.c.seq)

    @staticmethod
    def can_read(fields: Sequence[str]) -> bool:
        """Whether this query can read ``fields`` (SQLite's JSON paths quote a field's name)."""
        return not any('"' in field for field in fields)

    def decoded(self, rows: Sequence[Sequence[Any]]) -> list[list[Any]] | None:
        """The columns of ``fields`` from the query's rows; ``None`` if a row was flagged."""
        if not rows:
            return [[] for _ in self.fields]
        columns = list(zip(*rows, strict=True))
        width = len(self.native)
        if any(columns[width]):
            return None
        found = dict(zip(self.native, columns[:width], strict=True))
        if self.in_json:
            arrays = json.loads("[" + ",".join(columns[width + 1]) + "]")
            in_json = list(zip(*arrays, strict=True))[: len(self.in_json)]  # SQLite's may repeat its one field
            found.update(zip(self.in_json, in_json, strict=True))
        return [list(found[field]) for field in self.fields]

    def _exact(self, column: sa.Column, field: str) -> sa.ColumnElement[bool]:
        """Whether the record's ``field`` is the column's string, or missing or null where the column is null."""
        key = sa.literal(field, sa.Text)
        return sa.case(
            {"string": column == self._record.op("->>")(key), "null": column.is_(None)},
            value=sa.func.coalesce(sa.func.jsonb_typeof(self._record.op("->")(key)), "null"),
            else_=sa.false(),
        )

    def _json_array(self) -> list[sa.ColumnElement[Any]]:
        """One JSON array text per row of the fields read from the record (none if there are none)."""
        if not self.in_json:
            return []
        if self._postgresql:
            values = [self._record.op("->")(sa.literal(field, sa.Text)) for field in self.in_json]
            return [sa.cast(sa.func.jsonb_build_array(*values), sa.Text)]
        # json_extract returns a JSON array for two paths or more, a bare value for one: one is given twice.
        paths = [sa.literal(f'$."{field}"', sa.Text) for field in self.in_json]
        twice = paths if len(paths) == 1 else []
        return [sa.type_coerce(sa.func.json_extract(self._record, *paths, *twice), sa.Text)]
