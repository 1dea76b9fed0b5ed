"""Display hooks of engine objects: text reprs here, rich views imported only when shown.

Jupyter calls ``_repr_mimebundle_``; the work happens in
:mod:`prorch_nb.notebook.jupyter`, imported on the first display, so importing the
engine never imports graphviz.

Views that list a whole repository (the overview, ``prorch-nb status``) read its records
with :func:`checked_pipelines` and :func:`checked_steps`: a record they cannot show is
left out and described by a :class:`MalformedRecord`, so one bad record never hides the
others.

>>> records, malformed = checked_pipelines([{"uuid": "p-1", "name": "Backup", "status": "created"}, {"name": "X"}])
>>> [record.uuid for record in records], skipped_lines("runs.json", malformed)
(['p-1'], ["skipped 1 malformed record in runs.json: pipeline record #2 (no uuid): 'uuid' must be a string, got None"])
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import InvalidRecordError
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.store import Store
from prorch_nb.styles import glyph

if TYPE_CHECKING:
    from prorch_nb.pipeline.pipeline import Pipeline

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
#: Records a notebook view lists one by one when it left some out; it counts the others.
LISTED = 10


def mimebundle(
    obj: object, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: Any
) -> dict[str, str | bytes]:
    """The Jupyter mimebundle of ``obj`` (a pipeline class or run, orchestrator, repository)."""
    from prorch_nb.notebook.jupyter import mimebundle as notebook_mimebundle

    return notebook_mimebundle(obj, include=include, exclude=exclude)


class RichDisplay:
    """Mixin: instances show an overview of their repository in Jupyter."""

    _repr_mimebundle_ = mimebundle


class BoundOnClassToo:
    """A method bound to the instance, or to the class itself when looked up on the class.

    IPython calls ``_repr_mimebundle_`` on a class only if ``getattr`` gives a bound
    method (``IPython.utils.dir2.get_real_method``). A plain method looked up on a class
    is a function, and a metaclass method would be shadowed by the instances' method.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __get__(self, obj: object, owner: type | None = None) -> types.MethodType:
        return types.MethodType(self.function, owner if obj is None else obj)


def read_run(pipeline: Pipeline) -> tuple[PipelineData, list[StepData]]:
    """The stored record of a run and its steps in order, read now (``pipeline`` unchanged)."""
    store = Store(pipeline._repository_class)
    return store.pipeline(pipeline.uuid), store.steps_of(pipeline.uuid)


def run_text(name: str, record: PipelineData, steps: list[StepData]) -> str:
    """``<Name uuid8 status: ✓ StepA → ▶ StepB → · StepC>``."""
    flow = " → ".join(f"{glyph(step.status)} {step.name}" for step in steps)
    return f"<{name} {record.uuid[:8]} {record.status}{': ' + flow if flow else ''}>"


def pipeline_repr(pipeline: Pipeline) -> str:
    """The text repr of a run, read fresh; ``<Name uuid8 status>`` if reading fails. Never raises."""
    name = type(pipeline).__name__
    record = getattr(pipeline, "_record", None)
    if record is None:
        return f"<{name} (no record)>"
    try:
        return run_text(name, *read_run(pipeline))
    except Exception:  # a repr must never raise: fall back to what this object holds
        return f"<{name} {record.uuid[:8]} {record.status}>"


# Records the views cannot show ----------------------------------------------------------


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
    """Every raw record of a repository instance: its ``all()``, or one search per status."""
    found = table.all() if hasattr(table, "all") else IRepository.all(table)
    return list(found or [])


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


def repository_name(repository_class: Any) -> str:
    """How views name a repository: its file, for one kept in a file; else its class's name."""
    path = getattr(repository_class, "path", None)
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return getattr(repository_class, "__name__", repr(repository_class))


def skipped_lines(where: str, malformed: Sequence[MalformedRecord], limit: int | None = None) -> list[str]:
    """``skipped 1 malformed record in runs.json: ...``; more records one a line (at most ``limit``)."""
    if not malformed:
        return []
    count = f"{len(malformed)} malformed record{'s' if len(malformed) != 1 else ''}"
    if len(malformed) == 1:
        return [f"skipped {count} in {where}: {malformed[0]}"]
    shown = malformed if limit is None else malformed[:limit]
    more = [f"  ... and {len(malformed) - len(shown)} more"] if len(shown) < len(malformed) else []
    return [f"skipped {count} in {where}:", *(f"  {record}" for record in shown), *more]
