"""Records a frame cannot represent: left out, and reported.

A frame function reads a store once, through a :class:`Reading`. Building the frame
raises :class:`~prorch_nb.notebook.columns.MalformedRows` at the first column some
records cannot fill; the reading leaves those records out and builds again. Once the
frame is built, the records left out are reported: to ``on_malformed`` when given, else
as one :class:`MalformedRecordWarning` naming the repository and each record.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from prorch_nb.exceptions.exceptions import MalformedRecordWarning
from prorch_nb.notebook.columns import MalformedRows, RawRecords, read_steps
from prorch_nb.notebook.text import repository_name
from prorch_nb.record_checks import LISTED, MalformedRecord, all_records, skipped_lines
from prorch_nb.store import Store

T = TypeVar("T")

#: Called with the records a frame left out (a list of one or more).
OnMalformed = Callable[[list[MalformedRecord]], Any]


class Reading:
    """The raw records of one store, each table read once; the records left out so far."""

    def __init__(self, store: Store, on_malformed: OnMalformed | None = None) -> None:
        self.store = store
        self._on_malformed = on_malformed
        self._raw: dict[str, list[Any]] = {}
        self._left_out: dict[str, set[int]] = {"pipeline": set(), "step": set()}

    def records(self, kind: str) -> RawRecords:
        """The ``"pipeline"`` or ``"step"`` records, without those left out."""
        if kind not in self._raw:
            self._raw[kind] = all_records(self.store.pipelines) if kind == "pipeline" else read_steps(self.store.steps)
        raw, left_out = self._raw[kind], self._left_out[kind]
        if not left_out:
            return RawRecords(kind, raw)
        kept = [number for number in range(1, len(raw) + 1) if number not in left_out]
        return RawRecords(kind, [raw[number - 1] for number in kept], kept)

    def build(self, make: Callable[[Reading], T]) -> T:
        """``make(self)``, again without the records it cannot represent until it can; then report those.

        Call it from the public function the user called: a warning points at their line.
        """
        malformed: list[MalformedRecord] = []
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
