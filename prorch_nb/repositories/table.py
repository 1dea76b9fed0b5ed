"""An indexed in-memory table of records, shared by the bundled repositories.

Rows are kept as compact JSON text, keyed by a TinyDB-style document id, so a table of
tens of thousands of records holds few Python objects (cheap for the garbage collector),
every read returns fresh objects, and the file is written by joining the texts. Rows are
found by uuid, and by value for the fields the engine searches on: no lookup scans.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

#: Fields with an index: what the engine searches by.
INDEXED_FIELDS = ("status", "pipeline_uuid", "name")

#: One encoder for every row: ``json.dumps`` with non-default separators builds a new
#: encoder on each call. Same output as ``json.dumps(value, separators=(",", ":"))``.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def to_text(record: dict[str, Any]) -> str:
    """Compact JSON of one record."""
    return _encode(record)


class IndexedTable:
    """Records by document id, with indexes by uuid and by :data:`INDEXED_FIELDS`."""

    def __init__(self, rows: dict[str, dict[str, Any]] | None = None) -> None:
        self.rows: dict[str, str] = {}
        self._by_uuid: dict[str, str] = {}
        self._index: dict[str, dict[Any, dict[str, None]]] = {name: {} for name in INDEXED_FIELDS}
        self._next_id = 1
        for doc_id, row in (rows or {}).items():
            self._put(str(doc_id), row)

    def get(self, uuid: str) -> dict[str, Any] | None:
        doc_id = self._by_uuid.get(uuid)
        return json.loads(self.rows[doc_id]) if doc_id is not None else None

    def insert(self, data: dict[str, Any]) -> str:
        """Store ``data`` under a new document id, which is returned."""
        doc_id = str(self._next_id)
        self._put(doc_id, data)
        return doc_id

    def update(self, uuid: str, data: dict[str, Any]) -> str | None:
        """Merge ``data`` into the record ``uuid``; its document id, or ``None`` if absent."""
        doc_id = self._by_uuid.get(uuid)
        if doc_id is None:
            return None
        row = json.loads(self.rows[doc_id])
        self._unindex(doc_id, row)
        row.update(data)
        self._put(doc_id, row)
        return doc_id

    def search(self, field: str, value: Any) -> list[dict[str, Any]]:
        """The records whose ``field`` equals ``value``, in document order."""
        if field == "uuid":
            found = self.get(value)
            return [found] if found else []
        index = self._index.get(field)
        if index is None:
            return [row for row in self.all() if row.get(field) == value]
        doc_ids = sorted(index.get(_key(value), ()), key=_document_order)
        return _parse_many(self.rows[doc_id] for doc_id in doc_ids)

    def all(self) -> list[dict[str, Any]]:
        """Every record, in document order of insertion."""
        return _parse_many(self.rows.values())

    def doc_id_of(self, uuid: str) -> str | None:
        """The document id of the record ``uuid``, or ``None``."""
        return self._by_uuid.get(uuid)

    def text_of(self, doc_id: str) -> str | None:
        """The stored text of a document (``None`` if absent), for undoing a change."""
        return self.rows.get(doc_id)

    def restore(self, doc_id: str, text: str | None) -> None:
        """Put back a document's earlier text, or remove it when ``text`` is ``None``."""
        self.replace(doc_id, None if text is None else json.loads(text))

    def replace(self, doc_id: str, row: dict[str, Any] | None) -> None:
        """Set a document to ``row`` (as read from a journal) in its place, or remove it when ``None``."""
        current = self.rows.get(doc_id)
        if current is not None:
            old = json.loads(current)
            self._unindex(doc_id, old)
            if self._by_uuid.get(old.get("uuid")) == doc_id:
                del self._by_uuid[old["uuid"]]
            if row is None:
                del self.rows[doc_id]
        if row is not None:
            self._put(doc_id, row)

    def json_chunks(self, rows_per_chunk: int = 1000) -> Iterator[str]:
        """The table as TinyDB lays it out, ``{"<doc_id>": record, ...}``, in pieces.

        Pieces of ``rows_per_chunk`` rows, so a large file is written without building it whole.
        """
        yield "{"
        rows = iter(self.rows.items())
        separator = ""
        while chunk := list(itertools.islice(rows, rows_per_chunk)):
            yield separator + ",".join(f"{_encode(doc_id)}:{text}" for doc_id, text in chunk)
            separator = ","
        yield "}"

    def __len__(self) -> int:
        return len(self.rows)

    def _put(self, doc_id: str, row: dict[str, Any]) -> None:
        self.rows[doc_id] = to_text(row)
        if isinstance(row.get("uuid"), str):
            self._by_uuid[row["uuid"]] = doc_id
        for name, index in self._index.items():
            if name in row:
                index.setdefault(_key(row[name]), {})[doc_id] = None
        if doc_id.isdigit():
            self._next_id = max(self._next_id, int(doc_id) + 1)

    def _unindex(self, doc_id: str, row: dict[str, Any]) -> None:
        for name, index in self._index.items():
            if name in row:
                index.get(_key(row[name]), {}).pop(doc_id, None)


def _parse_many(texts: Any) -> list[dict[str, Any]]:
    return json.loads("[" + ",".join(texts) + "]")


def _key(value: Any) -> Any:
    """A hashable stand-in for a field value (lists and dicts are not indexed by value)."""
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _document_order(doc_id: str) -> tuple[int, str]:
    return (int(doc_id), "") if doc_id.isdigit() else (1 << 62, doc_id)
