"""Typed pandas columns from the raw fields of one table's records, checked on the way in.

Every frame is built here from the fields a repository returns (a list per field), a
column at a time, never through per-row record objects. Reading a column the frames cannot represent raises
:class:`MalformedRows`, describing every record with that problem (for the reader to
leave them out and build the frame again).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from types import NoneType
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from prorch_nb.interfaces.repository import columns_of, implements
from prorch_nb.record_checks import MalformedRecord, all_records, invalid
from prorch_nb.utils.constants import Status

#: Dtypes shared by every frame.
STRING = pd.StringDtype()
STATUS = pd.CategoricalDtype(Status.ALL, ordered=True)
TIMESTAMP = pd.DatetimeTZDtype(unit="us", tz="UTC")
DURATION = np.dtype("timedelta64[us]")
#: Whole numbers a record may lack (a step's position, its attempts).
INTEGER = pd.Int64Dtype()
POSITION = INTEGER
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
    """Some fields of the records of one table (``kind`` is ``"pipeline"`` or ``"step"``), a list per field.

    ``columns`` maps each field read, ``uuid`` among them, to its values (``None`` where a
    record lacks it). ``numbers`` are the records' places in the table as read, from 1
    (default: their places in the columns), used to name them.
    """

    def __init__(self, kind: str, columns: dict[str, list[Any]], numbers: Sequence[int] | None = None) -> None:
        self.kind = kind
        self.columns = columns
        self.numbers = list(numbers) if numbers is not None else None

    @classmethod
    def of_records(
        cls, kind: str, records: Sequence[Any], fields: Sequence[str], numbers: Sequence[int] | None = None
    ) -> RawRecords:
        """The ``fields`` of raw ``records``, each of which must be a dict."""
        raw = cls(kind, dict(zip(fields, columns_of(records, fields), strict=True)), numbers)
        raw._check(records, _is_mapping, "a record must be a dict", fast=(dict,))
        return raw

    def __len__(self) -> int:
        return len(self.columns["uuid"])

    def values(self, field: str) -> list[Any]:
        """The raw values of ``field`` (``None`` where a record lacks it)."""
        return self.columns[field]

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
        problem = f"'status' must be one of {', '.join(Status.ALL)}"
        self._check(values, _is_status, problem, fast=(str,))  # an unknown string is found by its code
        codes = _status_codes(values)
        unknown = np.flatnonzero(codes < 0)
        if len(unknown):
            self._raise([(row, invalid(problem, values[row])) for row in unknown])
        return pd.Series(pd.Categorical.from_codes(codes, dtype=STATUS))

    def integers(self, field: str) -> pd.Series:
        """``field`` as a nullable ``Int64`` column (``<NA>`` where a record lacks it)."""
        values = self.values(field)
        self._check(values, _is_optional_integer, f"{field!r} must be an integer or missing", fast=(int, NoneType))
        return pd.Series(values, dtype=POSITION)

    def timestamps(self, field: str) -> pd.Series:
        """``field`` (ISO-8601 strings) as UTC timestamps; NaT where a record lacks it."""
        return pd.Series(self._parse_times(self.values(field), None, repr(field)), dtype=TIMESTAMP)

    def dicts(self, field: str) -> list[dict[str, Any]]:
        """``field`` of every record as a dict (``{}`` where it is missing)."""
        values = self.values(field)
        self._check(values, _is_optional_mapping, f"{field!r} must be a dict or missing", fast=(dict, NoneType))
        return [value or {} for value in values]

    def dict_texts(self, field: str) -> pd.Series:
        """``field`` (a dict) of every record as JSON text, a string column; ``<NA>`` where it is missing or empty."""
        texts = [json.dumps(value, ensure_ascii=False) if value else None for value in self.dicts(field)]
        return pd.Series(texts, dtype=STRING)

    def history_marks(self) -> pd.DataFrame:
        """``started_at``, ``ended_at``, ``duration`` and ``by`` (who ended it), from the history.

        Started is the first entry into ``pending``; ended the last entry, if it is into an
        ended status (a resumed record has not ended again yet: see :mod:`prorch_nb.utils.history`).
        """
        histories = [value or [] for value in self.values("history")]
        self._check(histories, lambda value: isinstance(value, list), "'history' must be a list", fast=(list,))
        rows = np.repeat(np.arange(len(histories)), [len(history) for history in histories])
        entries = list(itertools.chain.from_iterable(histories))
        self._check(entries, _is_mapping, "'history' entries must be dicts", rows, fast=(dict,))
        at_values, statuses = columns_of(entries, ("at", "status"))
        at = self._parse_times(at_values, rows, "history 'at'").as_unit("us").asi8
        codes = _status_codes(statuses)
        started = _first(rows, codes == _PENDING, len(self))
        ended = _last_if(rows, np.isin(codes, _ENDED), len(self))
        started_at, ended_at = _at(at, started), _at(at, ended)
        by = [entries[entry].get("by") if entry >= 0 else None for entry in ended.tolist()]
        return pd.DataFrame(
            {
                "started_at": _utc(started_at),
                "ended_at": _utc(ended_at),
                "duration": (ended_at - started_at).astype(DURATION),
                "by": pd.Series(by, dtype=object).astype(STRING),
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

    def _parse_times(self, values: list[Any], rows: np.ndarray | None, what: str) -> pd.DatetimeIndex:
        """Parse ISO-8601 ``values`` as UTC; ``rows`` maps each value to its record (default: one each)."""
        self._check(values, _is_optional_string, f"{what} must be a time string or missing", rows, fast=(str, NoneType))
        texts = np.array(values, dtype=object)
        parsed = pd.DatetimeIndex(pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce", cache=False))
        unreadable = np.flatnonzero(parsed.isna() & pd.notna(texts))
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
        uuids = self.columns["uuid"]
        described = [
            MalformedRecord.of(self.kind, self._number(row), {"uuid": uuids[row]}, problem)
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


_CODES = {status: code for code, status in enumerate(Status.ALL)}
_PENDING = _CODES[Status.PENDING]
_ENDED = [_CODES[status] for status in Status.ENDED]


def _first(rows: np.ndarray, chosen: np.ndarray, length: int) -> np.ndarray:
    """For each of ``length`` records, the index of its first entry among ``chosen`` ones (-1 if none).

    ``rows`` maps each entry to its record, in order.
    """
    entries = np.flatnonzero(chosen)
    records = rows[entries]
    firsts = np.ones(len(records), dtype=bool)
    firsts[1:] = records[1:] != records[:-1]
    found = np.full(length, -1, dtype=np.int64)
    found[records[firsts]] = entries[firsts]
    return found


def _last_if(rows: np.ndarray, chosen: np.ndarray, length: int) -> np.ndarray:
    """For each of ``length`` records, the index of its last entry if that one is ``chosen`` (-1 otherwise).

    ``rows`` maps each entry to its record, in order.
    """
    lasts = np.ones(len(rows), dtype=bool)
    lasts[:-1] = rows[:-1] != rows[1:]
    entries = np.flatnonzero(lasts & chosen)
    found = np.full(length, -1, dtype=np.int64)
    found[rows[entries]] = entries
    return found


def _status_codes(values: list[Any]) -> np.ndarray:
    """Each value's place in :data:`Status.ALL` (-1 for anything else, a list among them)."""
    try:
        codes = map(_CODES.get, values, itertools.repeat(-1))
        return np.fromiter(codes, dtype=np.int8, count=len(values))
    except TypeError:  # unhashable values
        return _status_codes([value if isinstance(value, str) else None for value in values])


def _at(times: np.ndarray, entries: np.ndarray) -> np.ndarray:
    """The times (microseconds since the epoch) of these entries as ``datetime64[us]``, ``NaT`` where one is -1."""
    picked = np.full(len(entries), np.iinfo(np.int64).min)
    found = entries >= 0
    picked[found] = times[entries[found]]
    return picked.view("datetime64[us]")


def _utc(times: np.ndarray) -> pd.Series:
    return pd.Series(times).dt.tz_localize("UTC")
