"""A step of a pipeline: user code in ``on_start``/``on_continue`` and its stored record."""

from __future__ import annotations

import traceback
import uuid as uuid_module
from typing import TYPE_CHECKING, Any

from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import (
    ConcurrentChangeError,
    NotJSONError,
    PipelineNotDefinedException,
    StepHookError,
    StepNameNotDefinedException,
    StoreFileError,
)
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.lifecycle import BY_ERROR, BY_STEP, Tracked, new_record_times
from prorch_nb.store import Store
from prorch_nb.utils.clock import utc_now
from prorch_nb.utils.constants import Status
from prorch_nb.utils.data import clone
from prorch_nb.utils.json_values import check_json
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    from prorch_nb.pipeline.pipeline import Pipeline


class Step(Tracked):
    """Base class of steps. Subclass it with a ``name`` and the hook mixins you need.

    Inside a hook, ``self.metadata`` is this step's own dict and ``self.context`` the
    pipeline's dict shared by all its steps; both are persisted after the hook, even
    when it raises. End the step with :meth:`finish`, :meth:`fail` or :meth:`cancel`.
    """

    _kind = "step"
    #: The claim of the tick running this step's hooks, while it holds it (see ``_check_claim``).
    _claimant: str | None = None
    name: str | None = None
    #: Defaults for the metadata of each new step (copied, never shared).
    metadata: dict[str, Any] = {}

    def __init__(
        self,
        repository_class: type[IRepository],
        pipeline_uuid: str | None = None,
        step_data: StepData | dict[str, Any] | None = None,
    ) -> None:
        """Load ``step_data``, or create and store a new step of ``pipeline_uuid``."""
        self._validate_class()
        self._repository_class = repository_class
        if step_data is not None:
            record = step_data if isinstance(step_data, StepData) else StepData.from_dict(step_data)
            self._attach(record, store=None)
            return
        if not pipeline_uuid:
            raise PipelineNotDefinedException(f"step {self.name!r} needs the uuid of its pipeline")
        store = Store(repository_class)
        record = type(self)._new_record(pipeline_uuid, position=None)
        store.insert(record)
        self._attach(record, store)

    @classmethod
    def _validate_class(cls) -> None:
        if not cls.name:
            raise StepNameNotDefinedException(f"step class {cls.__qualname__} has no name")

    @classmethod
    def _new_record(cls, pipeline_uuid: str, position: int | None) -> StepData:
        return StepData(
            uuid=str(uuid_module.uuid4()),
            name=cls.name,
            pipeline_uuid=pipeline_uuid,
            metadata=clone(cls.metadata),
            status=Status.CREATED,
            position=position,
            **new_record_times(),
        )

    @classmethod
    def _from_record(cls, record: StepData, store: Store, pipeline: Pipeline | None = None) -> Step:
        step = cls.__new__(cls)
        step.name = record.name
        step._repository_class = store.repository_class
        step._attach(record, store)
        step._pipeline = pipeline
        return step

    def _attach(self, record: StepData, store: Store | None) -> None:
        self._adopt(record, store)
        self._metadata_saved = clone(record.metadata)
        self._pipeline = None
        self.metadata = record.metadata

    # What users read ------------------------------------------------------------

    @property
    def pipeline_uuid(self) -> str:
        """Uuid of the pipeline this step belongs to."""
        return self._record.pipeline_uuid

    @property
    def position(self) -> int | None:
        """Index of this step in its pipeline (``None`` for records of prorch 1.0.1)."""
        return self._record.position

    @property
    def error(self) -> dict[str, str] | None:
        """``type``, ``message``, ``traceback`` and ``hook`` of the exception that failed the step."""
        return self._record.error

    @property
    def context(self) -> dict[str, Any]:
        """The pipeline's shared dict, for handing data to later steps.

        Persisted with the pipeline after each hook run by a tick. Outside a tick this is
        a read-only copy of what is stored.
        """
        if self._pipeline is not None:
            return self._pipeline.context
        return self._require_store().pipeline(self.pipeline_uuid).context

    # How a step ends itself (its history says "step": BY_STEP) --------------------

    def finish(self, note: str | None = None) -> None:
        """Mark this step finished; the pipeline moves on at its next tick."""
        self._change_status(Status.FINISHED, by=BY_STEP, note=note)

    def fail(self, note: str | None = None) -> None:
        """Mark this step failed; the pipeline fails at its next tick."""
        self._change_status(Status.FAILED, by=BY_STEP, note=note)

    def cancel(self, note: str | None = None) -> None:
        """Mark this step cancelled; the pipeline is cancelled at its next tick."""
        self._change_status(Status.CANCELLED, by=BY_STEP, note=note)

    # Engine side -----------------------------------------------------------------

    def _run_hook(self, hook_name: str) -> None:
        """Run ``on_start`` or ``on_continue``.

        An exception fails the step (its error stored) and is re-raised as
        :class:`StepHookError`. Two are not the hook's failure and pass through as they
        are: a :class:`ConcurrentChangeError` (someone else ended the step, or took its
        claim over) and a :class:`StoreFileError` (the store could not save what the hook
        did: nothing of the tick is kept, and the next tick runs the hook again).
        """
        try:
            getattr(self, hook_name)()
            self._check_values()  # before anything is saved: what the hook left must be JSON
        except (ConcurrentChangeError, StoreFileError):
            raise
        except Exception as exc:
            self._fail_for(hook_name, exc)
            raise StepHookError(
                f"{self._describe()} of pipeline {self.pipeline_uuid}: {hook_name}() raised {type(exc).__name__}: {exc}"
            ) from exc

    def _fail_for(self, hook_name: str, exc: Exception) -> None:
        """Record ``exc`` as this step's error and fail the step (unless it has ended already).

        What the hook wrote to ``metadata`` and ``context`` is saved with the failure, unless
        it is not JSON: then the step fails with the values it had before, and the error
        says what was dropped.
        """
        self._record.error = {
            "hook": hook_name,
            "type": type(exc).__qualname__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)),
            "at": utc_now(),
        }
        if self.status in Status.ENDED:
            return
        note = f"{hook_name} raised {type(exc).__name__}"
        if isinstance(exc, NotJSONError):
            self._drop_unsaved()
        try:
            self._change_status(Status.FAILED, by=BY_ERROR, note=note)
        except NotJSONError as unsaved:
            self._record.error["message"] += f" (not saved, {unsaved})"
            self._drop_unsaved()
            self._change_status(Status.FAILED, by=BY_ERROR, note=note)

    def _drop_unsaved(self) -> None:
        """Put ``metadata`` and the run's ``context`` back as last saved."""
        self.metadata = clone(self._metadata_saved)
        if self._pipeline is not None:
            self._pipeline._drop_unsaved_context()

    def _check_values(self) -> None:
        super()._check_values()
        if self._pipeline is not None:
            check_json(self._pipeline.context, "context")

    def _sync_record(self) -> None:
        self._record.metadata = self.metadata

    def _save(self, at: str | None = None) -> None:
        """Save the step, and with it what its hook put in the pipeline's context.

        An ended step needs no claim and will not run ``on_start`` again: the same write
        releases the claim and confirms the start.
        """
        if self.status in Status.ENDED:
            self._record.claimed_by = self._record.claimed_until = None
            if self._record.on_start_done is False:
                self._record.on_start_done = True
        super()._save(at)
        self._metadata_saved = clone(self.metadata)
        if self._record.claimed_by is None:
            self._claimant = None  # released: nothing left to fence

    def _check_claim(self, store: Store) -> None:
        """A tick's step is written only while the tick's claim is the stored one (fencing).

        A worker whose lease ran out (frozen, or cut off from the database) and whose
        step another worker took over must not write over that worker's run of it.
        """
        if self._claimant is None:
            return
        stored = store.claim_of(self._record)
        if stored != self._claimant:
            raise ConcurrentChangeError(
                f"{self._describe()} is claimed by {stored or 'no one'} now, not by this tick "
                f"({self._claimant}): its lease ran out; this change was not saved"
            )

    def _save_along(self, store: Store) -> None:
        if self._pipeline is not None:
            self._pipeline._save_context(store)

    def _unsaved(self) -> bool:
        """Whether ``metadata`` changed since the last save."""
        return self.metadata != self._metadata_saved

    def _pipeline_uuid(self) -> str:
        return self.pipeline_uuid

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {short_uuid(self.uuid)} {self.status}>"
