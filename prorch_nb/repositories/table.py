"""An indexed in-memory table of records, shared by the bundled repositories.

Rows are kept as compact JSON text, keyed by a TinyDB-style document id, so a table of
tens of thousands of records holds few Python objects (cheap for the garbage collector),
every read returns fresh objects, and the file is written by joining the texts. Rows are
found by uuid, and by value for the fields the engine searches on: no lookup scans.
"""

from __future__ import annotations

import heapq
import itertools
import json
import operator
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from prorch_nb.interfaces.repository import columns_of, is_due
from prorch_nb.utils.clock import stored_time

#: Fields with an index: what the engine searches by.
INDEXED_FIELDS = ("status", "pipeline_uuid", "name")

#: One encoder for every row: ``json.dumps`` with non-default separators builds a new
#: encoder on each call. Same output as ``json.dumps(value, separators=(",", ":"))``.
compact_json = json.JSONEncoder(separators=(",", ":")).encode
#: Reads the JSON value at the start of a text. Rows are this module's own compact JSON,
#: so the checks ``json.loads`` adds (whitespace, trailing data) are not needed.
_decode = json.JSONDecoder().raw_decode

# What the table knows of a row without its text, its *facts*, is a plain tuple read by
# these positions: (uuid, keys, claim, due, *the values of INDEXED_FIELDS). A plain tuple of strings
# and other plain values, which the garbage collector stops tracking the first time it
# sees it (it keeps tracking a NamedTuple: a large table would cost every collection).
#: Position of the row's uuid in its facts.
UUID = 0
#: Position of the row's keys, in order: one tuple shared by the rows of one layout.
KEYS = 1
#: Position of the row's ``claimed_by`` (``None`` if it has none).
CLAIM = 2
#: Position of the row's ``due_at`` (``None`` if it has none): when a waiting run is due.
DUE = 3
#: Position of the first indexed value; the others follow in the order of INDEXED_FIELDS.
FIRST_INDEXED = 4
#: Position of the row's status.
STATUS = FIRST_INDEXED + INDEXED_FIELDS.index("status")


def quoted(doc_id: str) -> str:
    """A document id as a JSON string (ids are digits, which need no escaping)."""
    return f'"{doc_id}"' if doc_id.isdigit() else compact_json(doc_id)


class IndexedTable:
    """Records by document id, with indexes by uuid and by :data:`INDEXED_FIELDS`.

    Beside each row's text the table keeps its facts (its uuid, its keys in order and its
    indexed values: see :data:`UUID`), so an update, a removal or a status read never
    parses a stored row.
    """

    def __init__(self, rows: dict[str, dict[str, Any]] | None = None) -> None:
        self.rows: dict[str, str] = {}
        self._by_uuid: dict[str, str] = {}
        self._indexes: tuple[dict[Any, dict[str, None]], ...] = tuple({} for _ in INDEXED_FIELDS)
        self._facts: dict[str, tuple[Any, ...]] = {}  #: doc id -> the row's facts
        self._layouts: dict[tuple[str, ...], tuple[str, ...]] = {}  # one shared tuple of keys per layout
        self._tally: Counter[tuple[Any, Any]] = Counter()  #: (name, status) -> rows
        self._timed: dict[str, None] = {}  #: doc ids of the rows whose ``due_at`` is a time
        self._next_id = 1
        for doc_id, row in (rows or {}).items():
            self.replace(str(doc_id), row)

    def get(self, uuid: str) -> dict[str, Any] | None:
        doc_id = self._by_uuid.get(uuid)
        return _parse(self.rows[doc_id]) if doc_id is not None else None

    def status_of(self, uuid: str) -> Any:
        """The ``status`` field of the record ``uuid`` (``None`` if absent), from the index."""
        doc_id = self._by_uuid.get(uuid)
        status = None if doc_id is None else self._facts[doc_id][STATUS]
        return None if status is _ABSENT else status

    def claim_of(self, uuid: str) -> Any:
        """The ``claimed_by`` field of the record ``uuid`` (``None`` if absent), from its facts."""
        doc_id = self._by_uuid.get(uuid)
        return None if doc_id is None else self._facts[doc_id][CLAIM]

    def tally(self) -> dict[tuple[Any, Any], int]:
        """How many rows there are of each ``(name, status)`` (kept up to date as rows change)."""
        return {
            (None if name is _ABSENT else name, None if status is _ABSENT else status): count
            for (name, status), count in self._tally.items()
            if count
        }

    def newest(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        """The ``limit`` rows inserted last (of ``status`` only, if given), newest first; only those are parsed."""
        facts, found = self._facts, []
        for doc_id in reversed(self.rows):
            if len(found) == limit:
                break
            if status is None or facts[doc_id][STATUS] == status:
                found.append(self.rows[doc_id])
        return _parse_many(found)

    def insert(self, data: dict[str, Any]) -> str:
        """Store ``data`` under a new document id, which is returned."""
        doc_id = str(self._next_id)
        self._next_id += 1
        self._set(doc_id, data, self._keys_of(data))
        return doc_id

    def update(self, uuid: str, data: dict[str, Any]) -> str | None:
        """Merge ``data`` into the record ``uuid``; its document id, or ``None`` if absent."""
        doc_id = self._by_uuid.get(uuid)
        if doc_id is None:
            return None
        keys = self._facts[doc_id][KEYS]
        if tuple(data) == keys:
            self._set(doc_id, data, keys)  # the same fields: nothing to merge
        else:
            row = _parse(self.rows[doc_id])
            row.update(data)
            self._set(doc_id, row, self._keys_of(row))
        return doc_id

    def search(self, field: str, value: Any) -> list[dict[str, Any]]:
        """The records whose ``field`` equals ``value``, in document order."""
        return _parse_many(self.rows[doc_id] for doc_id in self._matching(field, value))

    def search_uuids(self, field: str, value: Any) -> list[Any]:
        """The uuids of the records whose ``field`` equals ``value``, in document order (no row parsed)."""
        facts = self._facts
        return [facts[doc_id][UUID] for doc_id in self._matching(field, value)]

    def due_uuids(self, now: str) -> list[Any]:
        """The uuids of the ``pending`` records due at ``now`` (no ``due_at``, or not after it), in document order.

        Read from the status index and the rows' facts: no row is parsed.
        """
        facts = self._facts
        return [
            facts[doc_id][UUID] for doc_id in self._matching("status", "pending") if is_due(facts[doc_id][DUE], now)
        ]

    def next_due(self) -> str | None:
        """The earliest ``due_at`` of the ``pending`` records (``None`` if none waits)."""
        return min((due for _, due in self._waiting()), default=None)

    def soonest_due(self, limit: int) -> list[tuple[Any, str]]:
        """``(uuid, due_at)`` of the ``limit`` ``pending`` records with the earliest ``due_at``.

        Read from the rows that have a ``due_at`` (kept as rows change): no row is parsed, no other row is looked at.
        """
        return heapq.nsmallest(limit, self._waiting(), key=operator.itemgetter(1))

    def _waiting(self) -> Iterator[tuple[Any, str]]:
        """``(uuid, due_at)`` of the pending rows whose ``due_at`` is a time, from the rows that have one."""
        for fact in map(self._facts.__getitem__, self._timed):
            if fact[STATUS] == "pending" and (due := stored_time(fact[DUE])) is not None:
                yield fact[UUID], due

    def all(self) -> list[dict[str, Any]]:
        """Every record, in document order of insertion."""
        return _parse_many(self.rows.values())

    def columns(self, fields: Sequence[str]) -> list[list[Any]]:
        """The values of ``fields`` of every record, one list per field, in document order.

        When every field is among the rows' facts (uuid, claim, indexed fields) no row is
        parsed, but those whose value is indexed by its repr (a list, a dict).
        """
        places = [_FACT_AT.get(field) for field in fields]
        if None in places:
            return columns_of(self.all(), fields)
        texts = list(self.rows.values())
        facts = list(map(self._facts.__getitem__, self.rows))
        columns = []
        for field, place in zip(fields, places, strict=True):
            values = [fact[place] for fact in facts]
            if not {object, _Repr}.isdisjoint(map(type, values)):  # _ABSENT, or a value indexed by its repr
                values = [_fact_value(value, field, text) for value, text in zip(values, texts, strict=True)]
            columns.append(values)
        return columns

    def as_dicts(self) -> dict[str, dict[str, Any]]:
        """Every record by document id, as TinyDB's layout has them."""
        return dict(zip(self.rows, self.all(), strict=True))

    def doc_id_of(self, uuid: str) -> str | None:
        """The document id of the record ``uuid``, or ``None``."""
        return self._by_uuid.get(uuid)

    def uuid_at(self, doc_id: str) -> Any:
        """The uuid of the document ``doc_id`` (which must exist)."""
        return self._facts[doc_id][UUID]

    def text_by_uuid(self, uuid: str) -> str | None:
        """The stored text of the record ``uuid``, or ``None``."""
        doc_id = self._by_uuid.get(uuid)
        return None if doc_id is None else self.rows[doc_id]

    def put(self, uuid: str, row: dict[str, Any]) -> None:
        """Set the record ``uuid`` to ``row`` in its place, or insert it under a new document id."""
        doc_id = self._by_uuid.get(uuid)
        if doc_id is None:
            self.insert(row)
        else:
            self._set(doc_id, row, self._keys_of(row))

    def text_of(self, doc_id: str) -> str | None:
        """The stored text of a document (``None`` if absent), for undoing a change."""
        return self.rows.get(doc_id)

    def restore(self, doc_id: str, text: str | None) -> None:
        """Put back a document's earlier text, or remove it when ``text`` is ``None``."""
        self.replace(doc_id, None if text is None else _parse(text))

    def replace(self, doc_id: str, row: dict[str, Any] | None) -> None:
        """Set a document to ``row`` (as read from the file) in its place, or remove it when ``None``."""
        if row is None:
            if doc_id in self.rows:
                self._remove(doc_id)
        else:
            self._set(doc_id, row, self._keys_of(row))
            if doc_id.isdigit():
                self._next_id = max(self._next_id, int(doc_id) + 1)

    def json_chunks(self, rows_per_chunk: int = 1000) -> Iterator[str]:
        """The table as TinyDB lays it out, ``{"<doc_id>": record, ...}``, in pieces.

        Pieces of ``rows_per_chunk`` rows, so a large file is written without building it whole.
        """
        yield "{"
        rows = iter(self.rows.items())
        separator = ""
        while chunk := list(itertools.islice(rows, rows_per_chunk)):
            yield separator + ",".join([f"{quoted(doc_id)}:{text}" for doc_id, text in chunk])
            separator = ","
        yield "}"

    def __len__(self) -> int:
        return len(self.rows)

    def _matching(self, field: str, value: Any) -> list[str]:
        """Document ids of the records whose ``field`` equals ``value``, in document order."""
        if field == "uuid":
            doc_id = self._by_uuid.get(value)
            return [] if doc_id is None else [doc_id]
        if field not in INDEXED_FIELDS:
            return [doc_id for doc_id, text in self.rows.items() if _parse(text).get(field) == value]
        doc_ids = self._indexes[INDEXED_FIELDS.index(field)].get(_key(value), {})
        try:
            return sorted(doc_ids, key=int)  # TinyDB's ids are numbers
        except ValueError:
            return sorted(doc_ids, key=_document_order)

    def _keys_of(self, row: dict[str, Any]) -> tuple[str, ...]:
        """The keys of ``row`` in order, as the one tuple shared by the rows of that layout."""
        keys = tuple(row)
        return self._layouts.setdefault(keys, keys)

    def _set(self, doc_id: str, row: dict[str, Any], keys: tuple[str, ...]) -> None:
        """Store ``row`` (only its text is kept) with its ``keys`` under ``doc_id``; indexes follow what changed."""
        self.rows[doc_id] = compact_json(row)
        uuid = row.get("uuid")
        indexed = tuple([_key(row.get(name, _ABSENT)) for name in INDEXED_FIELDS])
        before = self._facts.get(doc_id)
        self._facts[doc_id] = (uuid, keys, row.get("claimed_by"), row.get("due_at"), *indexed)
        old_indexed = _NOTHING_INDEXED
        if before is not None:
            old_indexed = before[FIRST_INDEXED:]
            if before[UUID] != uuid:
                self._forget_uuid(before[UUID], doc_id)
        if isinstance(uuid, str):
            self._by_uuid[uuid] = doc_id
        if type(row.get("due_at")) is str:
            self._timed[doc_id] = None
        else:
            self._timed.pop(doc_id, None)
        if indexed == old_indexed:
            return
        self._tally[indexed[_NAME], indexed[_STATUS_AT]] += 1
        if before is not None:
            self._tally[old_indexed[_NAME], old_indexed[_STATUS_AT]] -= 1
        for index, new, old in zip(self._indexes, indexed, old_indexed, strict=True):
            if new is not old and new != old:
                if old is not _ABSENT:
                    index[old].pop(doc_id, None)
                if new is not _ABSENT:
                    index.setdefault(new, {})[doc_id] = None

    def _remove(self, doc_id: str) -> None:
        """Take a document out, with its index entries."""
        del self.rows[doc_id]
        facts = self._facts.pop(doc_id)
        self._timed.pop(doc_id, None)
        self._forget_uuid(facts[UUID], doc_id)
        self._tally[facts[FIRST_INDEXED + _NAME], facts[STATUS]] -= 1
        for index, old in zip(self._indexes, facts[FIRST_INDEXED:], strict=True):
            if old is not _ABSENT:
                index[old].pop(doc_id, None)

    def _forget_uuid(self, uuid: Any, doc_id: str) -> None:
        if isinstance(uuid, str) and self._by_uuid.get(uuid) == doc_id:
            del self._by_uuid[uuid]


#: Stands for an indexed field a row does not have.
_ABSENT = object()
#: Where a row's name and status sit among its indexed values.
_NAME, _STATUS_AT = INDEXED_FIELDS.index("name"), INDEXED_FIELDS.index("status")
#: The indexed values of a row that is not there yet.
_NOTHING_INDEXED = (_ABSENT,) * len(INDEXED_FIELDS)
#: Where each field a row's facts hold sits in them.
_FACT_AT = {
    "uuid": UUID,
    "claimed_by": CLAIM,
    "due_at": DUE,
    **{name: FIRST_INDEXED + n for n, name in enumerate(INDEXED_FIELDS)},
}


class _Repr(str):
    """The repr of an indexed value that is not a JSON scalar (a list, a dict), which indexes it."""

    __slots__ = ()


def _fact_value(value: Any, field: str, text: str) -> Any:
    """The field's value in a row, from its fact ``value`` (the row's ``text`` is parsed only when needed)."""
    if value is _ABSENT:
        return None
    return _parse(text).get(field) if type(value) is _Repr else value


def _parse(text: str) -> Any:
    return _decode(text)[0]


def _parse_many(texts: Any) -> list[dict[str, Any]]:
    return _parse("[" + ",".join(texts) + "]")


def _key(value: Any) -> Any:
    """A hashable stand-in for a field value (lists and dicts are indexed by their repr)."""
    if type(value) is str or value is _ABSENT or isinstance(value, (int, float, bool, type(None))):
        return value
    return _Repr(repr(value))


def _document_order(doc_id: str) -> tuple[int, str]:
    return (int(doc_id), "") if doc_id.isdigit() else (1 << 62, doc_id)
