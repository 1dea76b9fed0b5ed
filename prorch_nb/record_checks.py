"""Which stored records the views can show, and a description of each they cannot.

Views that list a whole repository (the overview, ``prorch-nb status``) read its records
with :func:`checked_pipelines` and :func:`checked_steps`: a record they cannot show is
left out and described by a :class:`MalformedRecord`, so one bad record never hides the
others.

>>> records, malformed = checked_pipelines([{"uuid": "p-1", "name": "Backup", "status": "created"}, {"name": "X"}])
>>> [record.uuid for record in records], skipped_lines("runs.json", malformed)
(['p-1'], ["skipped 1 malformed record in runs.json: pipeline record #2 (no uuid): 'uuid' must be a string, got None"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import InvalidRecordError
from prorch_nb.interfaces.repository import repository_method
from prorch_nb.utils.plurals import plural

R = TypeVar("R", PipelineData, StepData)

#: The fields every record of a kind must have as strings.
REQUIRED = {"pipeline": ("uuid", "name", "status"), "step": ("uuid", "name", "pipeline_uuid", "status")}
#: Optional fields the views read: the type each must have when present, and its name.
OPTIONAL: dict[str, tuple[type, str]] = {
    "metadata": (dict, "a dict"),
    "context": (dict, "a dict"),
    "error": (dict, "a dict"),
    "history": (list, "a list"),
    "created_at": (str, "a time string"),
    "updated_at": (str, "a time string"),
    "position": (int, "an integer"),
}
#: Records a view lists one by one when it left some out; it counts the others.
LISTED = 10


@dataclass(frozen=True)
class MalformedRecord:
    """A stored record a view left out, and why.

    ``number`` is its place in its table as read, counted from 1 (``None`` for a record
    found by a search); ``uuid`` is ``None`` when the record has no string uuid.
    """

    kind: str
    number: int | None
    uuid: str | None
    problem: str

    @classmethod
    def of(cls, kind: str, number: int | None, data: Any, problem: str) -> MalformedRecord:
        """The description of the raw record ``data``."""
        uuid = data.get("uuid") if isinstance(data, Mapping) else None
        return cls(kind, number, uuid if isinstance(uuid, str) else None, problem)

    def __str__(self) -> str:
        place = "" if self.number is None else f" #{self.number}"
        which = "no uuid" if self.uuid is None else f"uuid {self.uuid!r}"
        return f"{self.kind} record{place} ({which}): {self.problem}"


def all_records(table: Any) -> list[Any]:
    """Every raw record of a repository instance (its ``all()``, or the interface's default)."""
    return list(repository_method(table, "all")() or [])


def invalid(problem: str, value: Any) -> str:
    """``problem`` and the value that has it: ``'uuid' must be a string, got None``."""
    return f"{problem}, got {value!r:.80}"


def record_problem(kind: str, data: Any) -> str | None:
    """Why the views cannot show the raw ``kind`` record ``data`` (``None``: they can)."""
    if not isinstance(data, Mapping):
        return invalid("a record must be a dict", data)
    for field in REQUIRED[kind]:
        if not isinstance(data.get(field), str):
            return invalid(f"{field!r} must be a string", data.get(field))
    for field, (kind_of_value, what) in OPTIONAL.items():
        value = data.get(field)
        if value is not None and (not isinstance(value, kind_of_value) or isinstance(value, bool)):
            return invalid(f"{field!r} must be {what} or missing", value)
    entry = next((entry for entry in data.get("history") or () if not isinstance(entry, Mapping)), None)
    if entry is not None:
        return invalid("'history' entries must be dicts", entry)
    current = (data.get("metadata") or {}).get("current_step")
    if current is not None and not isinstance(current, str):
        return invalid("'current_step' of 'metadata' must be a string or missing", current)
    return None


def checked_pipelines(raw: Iterable[Any], *, numbered: bool = True) -> tuple[list[PipelineData], list[MalformedRecord]]:
    """The pipeline records of ``raw`` the views can show, and the others described."""
    return _checked("pipeline", PipelineData, raw, numbered)


def checked_steps(raw: Iterable[Any], *, numbered: bool = True) -> tuple[list[StepData], list[MalformedRecord]]:
    """The step records of ``raw`` the views can show, and the others described."""
    return _checked("step", StepData, raw, numbered)


def _checked(kind: str, cls: type[R], raw: Iterable[Any], numbered: bool) -> tuple[list[R], list[MalformedRecord]]:
    records: list[R] = []
    malformed: list[MalformedRecord] = []
    for number, data in enumerate(raw, start=1):
        problem = record_problem(kind, data)
        if problem is None:
            try:
                records.append(cls.from_dict(data))
            except InvalidRecordError as error:  # a rule of the engine's the views do not know of
                problem = str(error)
        if problem is not None:
            malformed.append(MalformedRecord.of(kind, number if numbered else None, data, problem))
    return records, malformed


def steps_by_pipeline(steps: Iterable[StepData]) -> dict[str, list[StepData]]:
    """Steps grouped by their pipeline's uuid, each group in order (storage order without positions)."""
    grouped: dict[str, list[StepData]] = {}
    for step in steps:
        grouped.setdefault(step.pipeline_uuid, []).append(step)
    for group in grouped.values():
        group.sort(key=lambda step: -1 if step.position is None else step.position)
    return grouped


def skipped_lines(where: str, malformed: Sequence[MalformedRecord], limit: int | None = None) -> list[str]:
    """``skipped 1 malformed record in runs.json: ...``; more records one a line (at most ``limit``)."""
    if not malformed:
        return []
    count = plural(len(malformed), "malformed record")
    if len(malformed) == 1:
        return [f"skipped {count} in {where}: {malformed[0]}"]
    shown = malformed if limit is None else malformed[:limit]
    more = [f"  ... and {len(malformed) - len(shown)} more"] if len(shown) < len(malformed) else []
    return [f"skipped {count} in {where}:", *(f"  {record}" for record in shown), *more]
