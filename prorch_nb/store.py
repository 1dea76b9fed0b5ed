"""The engine's gateway to a repository class: typed records in, typed records out."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prorch_nb.claims import held_at, this_host
from prorch_nb.dataclasses.conversion import record_to_dict
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import (
    InvalidRecordError,
    RecordNotFoundError,
    RepositoryNotDefinedException,
    StoreFileError,
    StoreWarning,
)
from prorch_nb.interfaces.repository import REQUIRED_METHODS, IRepository, Keep, implements, repository_method
from prorch_nb.utils.clock import utc_at
from prorch_nb.utils.constants import Metadata, Status


class Store:
    """One repository instance per table, made from a user's repository class.

    Works with any class following the seed's four-method interface; uses a
    repository's optional methods (``unit_of_work``, ``batch``, ``all``, ``status_of``,
    ``search_uuids``, ``checkpoint``) when it has them (see
    :func:`~prorch_nb.interfaces.repository.implements`).
    """

    def __init__(self, repository_class: type[IRepository]) -> None:
        check_repository_class(repository_class)
        self.repository_class = repository_class
        self._copy = not getattr(repository_class, "returns_copies", False)
        self.pipelines = repository_class(Metadata.PIPELINES_MODEL)
        self.steps = repository_class(Metadata.STEP_MODEL)
        tables = (self.pipelines, self.steps)
        self._statuses_indexed = implements(type(self.steps), "status_of")
        self._uuids_listed = implements(type(self.pipelines), "search_uuids")
        self._unit_tables = tuple(table for table in tables if implements(type(table), "unit_of_work"))
        #: Whether claims may be renewed from another thread while a hook runs: only through
        #: atomic units of work (or a renewal of the store's own), never racing the tick's writes.
        self.renews_claims = any(implements(type(self.steps), name) for name in ("unit_of_work", "renew_claim"))
        self._batch_tables = tuple(table for table in tables if implements(type(table), "batch"))
        self._open_units: contextlib.AbstractContextManager | None = None
        self._depth = 0
        self._unit = _StoreUnit(self)
        self._methods: dict[tuple[int, str], Callable[..., Any]] = {}

    def _method(self, table: IRepository, name: str) -> Callable[..., Any]:
        """``table``'s optional method ``name`` (or the interface's default), found once per store."""
        key = (id(table), name)
        found = self._methods.get(key)
        if found is None:
            found = self._methods[key] = repository_method(table, name)
        return found

    def unit_of_work(self) -> _StoreUnit:
        """Make changes to both tables atomic, for repositories that support it.

        Nested units of one store join the outermost (and cost nothing).
        """
        return self._unit

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Let repositories that support it write the units inside together."""
        with contextlib.ExitStack() as stack:
            for table in self._batch_tables:
                stack.enter_context(table.batch())
            yield

    def checkpoint(self, *, quietly: bool = False, keep: Keep = None) -> None:
        """Bring a journalled repository's own file up to date (a no-op for others).

        ``quietly``: a failure is a :class:`StoreWarning`, for checkpoints made after work
        that is already committed (the end of ``run_until_done``); otherwise it raises.
        """
        try:
            for table in (self.pipelines, self.steps):
                repository_method(table, "checkpoint")(keep=keep)
        except StoreFileError as exc:
            if not quietly:
                raise
            warnings.warn(StoreWarning(str(exc)), stacklevel=3)

    def claim_of(self, step: StepData) -> str | None:
        """The stored claim of ``step`` (``None`` if it has none)."""
        return self._method(self.steps, "claim_of")(step.uuid)

    def renew_claim(self, step_uuid: str, claimant: str, until: str) -> bool:
        """Inside a unit: extend ``claimant``'s claim of a step to ``until`` if it still holds it."""
        return self._method(self.steps, "renew_claim")(step_uuid, claimant, until)

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until something changes in the store (a database's NOTIFY) or ``timeout`` passes."""
        return self._method(self.pipelines, "wait_for_change")(timeout)

    def now(self) -> datetime:
        """The store's clock (the database's, for a shared one): what claims' leases are measured in."""
        return self._method(self.steps, "now")()

    def lock_run(self, uuid: str) -> bool:
        """Inside a unit: hold the run ``uuid`` for it, or ``False`` if another worker's unit holds it."""
        return self._method(self.pipelines, "lock_run")(uuid)

    def checkpoint_soon(self) -> None:
        """Ask a journalled repository to bring its file up to date shortly, in the background."""
        for table in (self.pipelines, self.steps):
            repository_method(table, "checkpoint_soon")()

    # Reads -------------------------------------------------------------------------

    def pipeline(self, uuid: str) -> PipelineData:
        """The pipeline record ``uuid``; ``RecordNotFoundError`` if there is none."""
        return self._pipeline_record(_get(self.pipelines, uuid, "pipeline"))

    def step(self, uuid: str) -> StepData:
        """The step record ``uuid``; ``RecordNotFoundError`` if there is none."""
        return self._step_record(_get(self.steps, uuid, "step"))

    def status_of(self, record: PipelineData | StepData) -> str | None:
        """The stored status of ``record`` (``None`` if it is not stored yet)."""
        return self._method(self._table(record), "status_of")(record.uuid)

    def steps_of(self, pipeline_uuid: str) -> list[StepData]:
        """The steps of a pipeline in order (by position; storage order for old records)."""
        found = self.steps.search(["pipeline_uuid", pipeline_uuid]) or []
        steps = [self._step_record(data) for data in found]
        steps.sort(key=lambda step: -1 if step.position is None else step.position)
        return steps

    def read_run(self, pipeline_uuid: str) -> tuple[PipelineData, list[StepData]]:
        """A run's record and its steps in order: what a view of one run renders, read once."""
        return self.pipeline(pipeline_uuid), self.steps_of(pipeline_uuid)

    def step_progress(self, pipeline: PipelineData) -> tuple[list[str], StepData | None]:
        """The statuses of a run's steps in order, and the record of its first open step.

        Reads that one step record when the run lists its steps and the repository reads
        statuses from an index (``status_of``); every step record of the run otherwise.
        """
        if pipeline.step_uuids and self._statuses_indexed:
            statuses = self._method(self.steps, "statuses_of")(pipeline.step_uuids)
            if None not in statuses:
                open_at = next((at for at, status in enumerate(statuses) if status in Status.OPEN), None)
                return statuses, None if open_at is None else self._listed_step(pipeline, open_at)
        records = self.steps_of(pipeline.uuid)
        return [record.status for record in records], next((r for r in records if r.status in Status.OPEN), None)

    def _listed_step(self, pipeline: PipelineData, at: int) -> StepData:
        step = self.step(pipeline.step_uuids[at])
        if step.pipeline_uuid != pipeline.uuid:
            raise InvalidRecordError(
                f"pipeline {pipeline.name!r} ({pipeline.uuid}) lists step {step.uuid}, "
                f"which belongs to pipeline {step.pipeline_uuid}"
            )
        return step

    def pipelines_with_status(self, status: str) -> list[PipelineData]:
        """Pipelines with ``status``, oldest first (storage order where times are missing)."""
        return [self._pipeline_record(data) for data in self._with_status(status)]

    def runs_to_tick(self, held: list[str]) -> Iterator[str]:
        """The pending runs a pass ticks (those due now), oldest first; runs other workers hold go to ``held``.

        A store shared by several workers (``next_pending``) is walked one run at a time,
        passing over runs held elsewhere, so workers spread over the runs; for others, every
        pending run is listed.
        """
        now = self.now()
        if not implements(type(self.pipelines), "next_pending"):
            yield from self.due_run_uuids(now)
            return
        host, after, walked = this_host(), None, set()
        while (found := self.pipelines.next_pending(after, host)) is not None:
            after, claimed_by, until = found
            walked.add(after)
            if held_at(claimed_by, until, now):
                held.append(after)  # another process of this host is running its step
            else:
                yield after
        held.extend(uuid for uuid in self.due_run_uuids(now) if uuid not in walked)

    def due_run_uuids(self, now: datetime) -> list[str]:
        """Uuids of the pending runs due at ``now`` (the store's clock), oldest first: waiting runs are not read."""
        return [str(uuid) for uuid in self._method(self.pipelines, "due_uuids")(utc_at(now.timestamp()))]

    def next_due(self) -> str | None:
        """The earliest time a waiting pending run is due (``None`` if none waits)."""
        return self._method(self.pipelines, "next_due")()

    def soonest_due(self, limit: int) -> list[tuple[str, str]]:
        """``(uuid, due_at)`` of the ``limit`` waiting pending runs due first, earliest first (no other run is read)."""
        return [(str(uuid), due) for uuid, due in self._method(self.pipelines, "soonest_due")(limit)]

    def pipeline_uuids_with_status(self, status: str) -> list[str]:
        """Uuids of the pipelines with ``status``, oldest first; the records are not checked.

        From the index of a store that lists uuids (storage order: order of creation);
        otherwise every such record is read and sorted by creation time.
        """
        if self._uuids_listed:
            return [str(uuid) for uuid in self.pipelines.search_uuids(["status", status])]
        return [str(data.get("uuid")) for data in self._with_status(status)]

    def _with_status(self, status: str) -> list[dict[str, Any]]:
        found = self.pipelines.search(["status", status]) or []
        return sorted(found, key=_creation_time)

    def all_pipelines(self) -> list[PipelineData]:
        """Every pipeline record, oldest first."""
        records = [self._pipeline_record(data) for data in repository_method(self.pipelines, "all")()]
        records.sort(key=lambda record: record.created_at or "")
        return records

    def all_steps(self) -> list[StepData]:
        """Every step record, in storage order."""
        return [self._step_record(data) for data in repository_method(self.steps, "all")()]

    # Writes ------------------------------------------------------------------------

    def insert(self, record: PipelineData | StepData) -> None:
        """Store a new record."""
        self._table(record).save(record_to_dict(record, copy=self._copy))

    def write(self, record: PipelineData | StepData) -> None:
        """Store every field of an existing record."""
        self._table(record).update(record.uuid, record_to_dict(record, copy=self._copy))

    def _pipeline_record(self, data: dict[str, Any]) -> PipelineData:
        return PipelineData.from_dict(data, copy=self._copy)

    def _step_record(self, data: dict[str, Any]) -> StepData:
        return StepData.from_dict(data, copy=self._copy)

    def _table(self, record: PipelineData | StepData) -> IRepository:
        return self.steps if isinstance(record, StepData) else self.pipelines


def check_repository_class(repository_class: Any) -> None:
    """Refuse what is not a repository class, naming the methods it lacks."""
    if not callable(repository_class):
        raise RepositoryNotDefinedException(f"repository_class must be a repository class, got {repository_class!r}")
    if not isinstance(repository_class, type):
        return  # a factory: its instances are checked when used
    missing = [name for name in REQUIRED_METHODS if not implements(repository_class, name)]
    if missing:
        raise RepositoryNotDefinedException(
            f"repository class {repository_class.__qualname__} does not implement {', '.join(missing)}; "
            f"a repository implements {', '.join(REQUIRED_METHODS)} (see prorch_nb.IRepository)"
        )


def _creation_time(data: dict[str, Any]) -> str:
    created_at = data.get("created_at")
    return created_at if isinstance(created_at, str) else ""


def _get(table: IRepository, uuid: str, kind: str) -> dict[str, Any]:
    data = table.get(uuid)
    if not data:
        raise RecordNotFoundError(f"no {kind} record with uuid {uuid!r}")
    return data


class _StoreUnit:
    """The context manager of :meth:`Store.unit_of_work`: repositories' units entered once.

    Tables that hand out the same unit object (one file, one lock) enter it once.
    """

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        if store._depth == 0:
            units = [table.unit_of_work() for table in store._unit_tables]
            if len(units) == 2 and units[0] is units[1]:
                units.pop()
            if len(units) == 1:
                units[0].__enter__()
                store._open_units = units[0]
            elif units:
                with contextlib.ExitStack() as stack:
                    for unit in units:
                        stack.enter_context(unit)
                    store._open_units = stack.pop_all()
        store._depth += 1

    def __exit__(self, *exc_info: Any) -> bool:
        store = self.store
        store._depth -= 1
        if store._depth or store._open_units is None:
            return False
        units, store._open_units = store._open_units, None
        return bool(units.__exit__(*exc_info))
