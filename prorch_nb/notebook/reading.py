"""Records a frame cannot represent: left out, and reported.

A frame function reads a store once, through a :class:`Reading`: the fields it needs of
each table, with the repository's ``columns`` when it has one (in one query, or from its
indexes), else from every record. Building the frame raises
:class:`~prorch_nb.notebook.columns.MalformedRows` at the first column some records
cannot fill; the reading leaves those records out and builds again. Once the
frame is built, the records left out are reported: to ``on_malformed`` when given, else
as one :class:`MalformedRecordWarning` naming the repository and each record.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from prorch_nb.exceptions.exceptions import MalformedRecordWarning
from prorch_nb.interfaces.repository import implements
from prorch_nb.notebook.columns import MalformedRows, RawRecords, read_steps
from prorch_nb.notebook.text import repository_name
from prorch_nb.record_checks import LISTED, MalformedRecord, all_records, skipped_lines
from prorch_nb.store import Store

T = TypeVar("T")

#: Called with the records a frame left out (a list of one or more).
OnMalformed = Callable[[list[MalformedRecord]], Any]


class Reading:
    """What a frame read of one store, each table's fields read once; the records left out so far."""

    def __init__(self, store: Store, on_malformed: OnMalformed | None = None) -> None:
        self.store = store
        self._on_malformed = on_malformed
        self._records: dict[str, list[Any]] = {}  #: every record of a table, for a repository without columns()
        self._columns: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = {}
        self._left_out: dict[str, set[int]] = {"pipeline": set(), "step": set()}

    def records(self, kind: str, fields: tuple[str, ...]) -> RawRecords:
        """``fields`` (``uuid`` among them) of the ``"pipeline"`` or ``"step"`` records, without those left out."""
        table = self.store.pipelines if kind == "pipeline" else self.store.steps
        left_out = self._left_out[kind]
        if not implements(type(table), "columns"):
            if kind not in self._records:
                self._records[kind] = all_records(table) if kind == "pipeline" else read_steps(table)
            raw = self._records[kind]
            if not left_out:
                return RawRecords.of_records(kind, raw, fields)
            kept = _kept(len(raw), left_out)
            return RawRecords.of_records(kind, [raw[number - 1] for number in kept], fields, kept)
        if (kind, fields) not in self._columns:
            self._columns[kind, fields] = table.columns(fields)
        columns = self._columns[kind, fields]
        if not left_out:
            return RawRecords(kind, dict(zip(fields, columns, strict=True)))
        kept = _kept(len(columns[0]), left_out)
        kept_columns = {
            field: [values[number - 1] for number in kept] for field, values in zip(fields, columns, strict=True)
        }
        return RawRecords(kind, kept_columns, kept)

    def build(self, make: Callable[[Reading], T]) -> T:
        """``make(self)``, again without the records it cannot represent until it can; then report those.

        Call it from the public function the user called: a warning points at their line.
        """
        malformed: list[MalformedRecord] = []
        with _collection_paused():
            while True:
                try:
                    built = make(self)
                    break
                except MalformedRows as bad:
                    numbers = {record.number for record in bad.records} - self._left_out[bad.kind]
                    if not numbers or None in numbers:  # nothing new to leave out: building again would not help
                        raise
                    malformed.extend(bad.records)
                    self._left_out[bad.kind].update(numbers)
        if malformed:
            self._report(sorted(malformed, key=lambda record: (record.kind != "pipeline", record.number or 0)))
        return built

    def _report(self, malformed: list[MalformedRecord]) -> None:
        if self._on_malformed is not None:
            self._on_malformed(malformed)
            return
        where = repository_name(self.store.repository_class)
        message = "\n".join(skipped_lines(where, malformed, limit=LISTED))
        warnings.warn(MalformedRecordWarning(message, where, malformed), stacklevel=4)


def _kept(count: int, left_out: set[int]) -> list[int]:
    """The places (from 1) of ``count`` records but those ``left_out``."""
    return [number for number in range(1, count + 1) if number not in left_out]


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (as it was, after it).

    Reading a store makes hundreds of thousands of small containers (the decoded records,
    which hold no cycles); each collection the allocations set off on the way walks them
    all, which costs a third of a frame's time. Freed by reference counting all the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
