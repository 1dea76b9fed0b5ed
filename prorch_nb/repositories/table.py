"""An indexed in-memory table of records, shared by the bundled repositories.

Rows are keyed by a TinyDB-style document id (a decimal string) and found by uuid, and
by value for the indexed fields the engine searches on, so no lookup scans the table.
"""

from __future__ import annotations

from typing import Any

#: Fields with an index: what the engine searches by.
INDEXED_FIELDS = ("status", "pipeline_uuid", "name")


def clone(value: Any) -> Any:
    """Copy JSON-shaped data (dicts, lists, scalars); much faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


class IndexedTable:
    """Records by document id, with indexes by uuid and by :data:`INDEXED_FIELDS`."""

    def __init__(self, rows: dict[str, dict[str, Any]] | None = None) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self._by_uuid: dict[str, str] = {}
        self._index: dict[str, dict[Any, dict[str, None]]] = {name: {} for name in INDEXED_FIELDS}
        self._next_id = 1
        for doc_id, row in (rows or {}).items():
            self._put(str(doc_id), row)

    def get(self, uuid: str) -> dict[str, Any] | None:
        doc_id = self._by_uuid.get(uuid)
        return clone(self.rows[doc_id]) if doc_id is not None else None

    def insert(self, data: dict[str, Any]) -> str:
        """Store a copy of ``data`` under a new document id, which is returned."""
        doc_id = str(self._next_id)
        self._put(doc_id, clone(data))
        return doc_id

    def update(self, uuid: str, data: dict[str, Any]) -> bool:
        """Merge ``data`` into the record ``uuid``; ``False`` if there is none."""
        doc_id = self._by_uuid.get(uuid)
        if doc_id is None:
            return False
        row = self.rows[doc_id]
        self._unindex(doc_id, row)
        row.update(clone(data))
        self._reindex(doc_id, row)
        return True

    def search(self, field: str, value: Any) -> list[dict[str, Any]]:
        """Copies of the records whose ``field`` equals ``value``, in document order."""
        if field == "uuid":
            found = self.get(value)
            return [found] if found else []
        index = self._index.get(field)
        if index is None:
            return [clone(row) for row in self.rows.values() if row.get(field) == value]
        doc_ids = sorted(index.get(_key(value), ()), key=_document_order)
        return [clone(self.rows[doc_id]) for doc_id in doc_ids]

    def all(self) -> list[dict[str, Any]]:
        return [clone(row) for row in self.rows.values()]

    def __len__(self) -> int:
        return len(self.rows)

    def _put(self, doc_id: str, row: dict[str, Any]) -> None:
        self.rows[doc_id] = row
        self._reindex(doc_id, row)
        if doc_id.isdigit():
            self._next_id = max(self._next_id, int(doc_id) + 1)

    def _reindex(self, doc_id: str, row: dict[str, Any]) -> None:
        if isinstance(row.get("uuid"), str):
            self._by_uuid[row["uuid"]] = doc_id
        for name, index in self._index.items():
            if name in row:
                index.setdefault(_key(row[name]), {})[doc_id] = None

    def _unindex(self, doc_id: str, row: dict[str, Any]) -> None:
        for name, index in self._index.items():
            if name in row:
                bucket = index.get(_key(row[name]), {})
                bucket.pop(doc_id, None)


def _key(value: Any) -> Any:
    """A hashable stand-in for a field value (lists and dicts are not indexed by value)."""
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _document_order(doc_id: str) -> tuple[int, str]:
    return (int(doc_id), "") if doc_id.isdigit() else (1 << 62, doc_id)
