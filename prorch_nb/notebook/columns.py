"""Typed pandas columns from the raw record dicts of one table, checked on the way in.

Every frame is built here from the dicts a repository returns, a column at a time,
never through per-row record objects. Reading a column the frames cannot represent raises
:class:`MalformedRows`, describing every record with that problem (for the reader to
leave them out and build the frame again).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from types import NoneType
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from prorch_nb.interfaces.repository import implements
from prorch_nb.record_checks import MalformedRecord, all_records, invalid
from prorch_nb.utils.constants import Status

#: Dtypes shared by every frame.
STRING = pd.StringDtype()
STATUS = pd.CategoricalDtype(Status.ALL, ordered=True)
TIMESTAMP = pd.DatetimeTZDtype(unit="us", tz="UTC")
DURATION = np.dtype("timedelta64[us]")
POSITION = pd.Int64Dtype()
COUNT = np.dtype("int64")


def read_steps(table: Any) -> list[Any]:
    """Every raw step record, steps without a ``position`` in storage order per pipeline.

    The default ``all()`` groups records by status, which loses the order of prorch 1.0.1
    steps (they have no position); their pipelines' steps are read again with one
    ``search`` per pipeline, which returns them in storage order.
    """
    records = all_records(table)
    if implements(type(table), "all"):
        return records
    unordered = dict.fromkeys(
        uuid for record in records if (uuid := _pipeline_of(record)) and record.get("position") is None
    )
    if not unordered:
        return records
    kept = [record for record in records if _pipeline_of(record) not in unordered]
    return kept + [record for uuid in unordered for record in table.search(["pipeline_uuid", uuid]) or []]


def _pipeline_of(record: Any) -> str | None:
    uuid = record.get("pipeline_uuid") if isinstance(record, Mapping) else None
    return uuid if isinstance(uuid, str) else None


class MalformedRows(Exception):
    """Records of one table that a column of a frame cannot represent."""

    def __init__(self, kind: str, records: list[MalformedRecord]) -> None:
        super().__init__("; ".join(map(str, records)))
        self.kind = kind
        self.records = records


class RawRecords:
    """The raw records of one table (``kind`` is ``"pipeline"`` or ``"step"``).

    ``numbers`` are the records' places in the table as read, from 1 (default: their
    places in ``records``), used to name them.
    """

    def __init__(self, kind: str, records: Sequence[Any], numbers: Sequence[int] | None = None) -> None:
        self.kind = kind
        self.records = list(records)
        self.numbers = list(numbers) if numbers is not None else None
        self._check(self.records, _is_mapping, "a record must be a dict", fast=(dict,))

    def __len__(self) -> int:
        return len(self.records)

    def values(self, field: str) -> list[Any]:
        """The raw values of ``field`` (``None`` where a record lacks it)."""
        return [record.get(field) for record in self.records]

    def identity(self) -> dict[str, pd.Series]:
        """What every frame needs of a record: ``uuid`` (unique), ``pipeline_uuid`` (steps), ``name``, ``status``.

        So a record lacking one of them is left out of every frame that reads its table.
        """
        uuids = self.strings("uuid")
        self.check_unique(uuids)
        parents = {"pipeline_uuid": self.strings("pipeline_uuid")} if self.kind == "step" else {}
        return {"uuid": uuids, **parents, "name": self.strings("name"), "status": self.statuses()}

    def strings(self, field: str) -> pd.Series:
        """``field``, which every record must have as a string, as a string column."""
        values = self.values(field)
        self._check(values, lambda value: isinstance(value, str), f"{field!r} must be a string", fast=(str,))
        return pd.Series(values, dtype=STRING)

    def optional_strings(self, values: list[Any], what: str) -> pd.Series:
        """``values`` (one per record, read from its fields) as a string column; ``None`` is missing."""
        self._check(values, _is_optional_string, f"{what} must be a string or missing", fast=(str, NoneType))
        return pd.Series(values, dtype=STRING)

    def statuses(self) -> pd.Series:
        """``status`` as the ordered status categorical; a missing or unknown status raises."""
        values = self.values("status")
        self._check(values, _is_status, f"'status' must be one of {', '.join(Status.ALL)}")
        return pd.Series(values, dtype=STATUS)

    def integers(self, field: str) -> pd.Series:
        """``field`` as a nullable ``Int64`` column (``<NA>`` where a record lacks it)."""
        values = self.values(field)
        self._check(values, _is_optional_integer, f"{field!r} must be an integer or missing", fast=(int, NoneType))
        return pd.Series(values, dtype=POSITION)

    def timestamps(self, field: str) -> pd.Series:
        """``field`` (ISO-8601 strings) as UTC timestamps; NaT where a record lacks it."""
        return self._parse_times(self.values(field), None, repr(field))

    def dicts(self, field: str) -> list[dict[str, Any]]:
        """``field`` of every record as a dict (``{}`` where it is missing)."""
        values = self.values(field)
        self._check(values, _is_optional_mapping, f"{field!r} must be a dict or missing", fast=(dict, NoneType))
        return [value or {} for value in values]

    def history_marks(self) -> pd.DataFrame:
        """``started_at``, ``ended_at``, ``duration`` and ``by`` (who ended it), from the history.

        Started is the first entry into ``pending``; ended the first into an ended status.
        """
        histories = [value or [] for value in self.values("history")]
        self._check(histories, lambda value: isinstance(value, list), "'history' must be a list", fast=(list,))
        rows = np.repeat(np.arange(len(histories)), [len(history) for history in histories])
        entries = list(itertools.chain.from_iterable(histories))
        self._check(entries, _is_mapping, "'history' entries must be dicts", rows, fast=(dict,))
        history = pd.DataFrame(
            {
                "row": rows,
                "status": [entry.get("status") for entry in entries],
                "at": self._parse_times([entry.get("at") for entry in entries], rows, "history 'at'"),
                "by": [entry.get("by") for entry in entries],
            }
        )
        started = _first(history, history["status"] == Status.PENDING, len(self))
        ended = _first(history, history["status"].isin(list(Status.ENDED)), len(self))
        return pd.DataFrame(
            {
                "started_at": started["at"].astype(TIMESTAMP),
                "ended_at": ended["at"].astype(TIMESTAMP),
                "duration": (ended["at"] - started["at"]).astype(DURATION),
                "by": ended["by"].astype(STRING),
            }
        )

    def check_unique(self, uuids: pd.Series) -> None:
        """Raise for each record whose uuid an earlier one has (joins and step order rely on unique ones)."""
        duplicated = np.flatnonzero(uuids.duplicated(keep="first").to_numpy())
        if len(duplicated):
            first: dict[str, int] = {}
            for row, uuid in enumerate(uuids):
                first.setdefault(uuid, row)
            self._raise(
                [
                    (row, f"'uuid' must be unique; record #{self._number(first[uuids.iloc[row]])} has it too")
                    for row in duplicated
                ]
            )

    def _parse_times(self, values: list[Any], rows: np.ndarray | None, what: str) -> pd.Series:
        """Parse ISO-8601 ``values``; ``rows`` maps each value to its record (default: one each)."""
        self._check(values, _is_optional_string, f"{what} must be a time string or missing", rows, fast=(str, NoneType))
        texts = np.array(values, dtype=object)
        parsed = pd.Series(pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce"), dtype=TIMESTAMP)
        unreadable = np.flatnonzero(parsed.isna().to_numpy() & pd.notna(texts))
        if len(unreadable):
            problem = f"{what} must be an ISO-8601 time"
            self._raise([(self._row(index, rows), invalid(problem, values[index])) for index in unreadable])
        return parsed

    def _check(
        self,
        values: Sequence[Any],
        is_valid: Callable[[Any], bool],
        problem: str,
        rows: np.ndarray | None = None,
        *,
        fast: tuple[type, ...] = (),
    ) -> None:
        """Raise naming every record with a value failing ``is_valid``.

        Values whose exact type is in ``fast`` are known to be valid, so the common case
        is one pass in C. ``rows`` maps each value to its record (default: one each).
        """
        if fast and set(map(type, values)).issubset(fast):
            return
        bad = [index for index, value in enumerate(values) if not is_valid(value)]
        if bad:
            self._raise([(self._row(index, rows), invalid(problem, values[index])) for index in bad])

    def _raise(self, problems: Sequence[tuple[int, str]]) -> NoReturn:
        """Raise :class:`MalformedRows` for ``(row, problem)`` pairs (the first problem of each row)."""
        first: dict[int, str] = {}
        for row, problem in problems:
            first.setdefault(row, problem)
        described = [
            MalformedRecord.of(self.kind, self._number(row), self.records[row], problem)
            for row, problem in first.items()
        ]
        raise MalformedRows(self.kind, described)

    def _number(self, row: int) -> int:
        return self.numbers[row] if self.numbers is not None else row + 1

    @staticmethod
    def _row(index: int, rows: np.ndarray | None) -> int:
        return index if rows is None else int(rows[index])


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_optional_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_optional_integer(value: Any) -> bool:
    return value is None or (isinstance(value, (int, np.integer)) and not isinstance(value, bool))


def _is_optional_mapping(value: Any) -> bool:
    return value is None or isinstance(value, Mapping)


def _is_status(value: Any) -> bool:
    return isinstance(value, str) and value in Status.ALL


def _first(history: pd.DataFrame, mask: pd.Series, length: int) -> pd.DataFrame:
    """The first history entry per record among ``mask``, one row per record (NaT/NA if none)."""
    return history[mask].drop_duplicates("row").set_index("row").reindex(range(length))
