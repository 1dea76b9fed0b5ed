"""A step of a pipeline: user code in ``on_start``/``on_continue`` and its stored record."""

from __future__ import annotations

import traceback
import uuid as uuid_module
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import (
    ConcurrentChangeError,
    InvalidTransitionError,
    NotJSONError,
    PipelineNotDefinedException,
    StepHookError,
    StepNameNotDefinedException,
    StepTimeoutError,
    StoreFileError,
)
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.lifecycle import BY_ERROR, BY_RETRY, BY_STEP, BY_TIMEOUT, Tracked, new_record_times
from prorch_nb.mixins.on_continue import OnContinueMixin
from prorch_nb.schedule import Retry, later, run_due_at, seconds_of, wake_time
from prorch_nb.store import Store
from prorch_nb.utils.clock import utc_now
from prorch_nb.utils.constants import Status
from prorch_nb.utils.data import clone
from prorch_nb.utils.durations import format_duration
from prorch_nb.utils.json_values import check_json
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    from prorch_nb.pipeline.pipeline import Pipeline


class Step(Tracked):
    """Base class of steps. Subclass it with a ``name`` and the hook mixins you need.

    Inside a hook, ``self.metadata`` is this step's own dict and ``self.context`` the
    pipeline's dict shared by all its steps; both are persisted after the hook, even
    when it raises. End the step with :meth:`finish`, :meth:`fail` or :meth:`cancel`;
    pause it with :meth:`wait`; read what was sent to the run with :meth:`receive`.

    ``retry`` (a :class:`~prorch_nb.schedule.Retry`) tries the step again from
    ``on_start`` when a hook raises; ``timeout`` (seconds or a ``timedelta``) fails the
    step if it is still pending that long after its start.
    """

    _kind = "step"
    #: The claim of the tick running this step's hooks, while it holds it (see ``_check_claim``).
    _claimant: str | None = None
    name: str | None = None
    #: Defaults for the metadata of each new step (copied, never shared).
    metadata: dict[str, Any] = {}
    #: Attempts after a hook raised (``None``: the first exception fails the step).
    retry: Retry | None = None
    #: Seconds (or a ``timedelta``) a step may stay pending after its start (``None``: no limit).
    timeout: float | timedelta | None = None
    #: When the tick running this step's hooks began (what a signal must come after to wake a wait).
    _tick_began: str | None = None

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
        if cls.retry is not None and not isinstance(cls.retry, Retry):
            raise TypeError(f"step class {cls.__qualname__}: retry must be a Retry, got {type(cls.retry).__name__}")
        cls.timeout_seconds()

    @classmethod
    def timeout_seconds(cls) -> float | None:
        """This class's ``timeout`` in seconds (``None``: none); refuses a value that is not a positive duration."""
        return seconds_of(cls.timeout, f"step class {cls.__qualname__}: timeout")

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
    def attempts(self) -> int:
        """How many times ``on_start`` began (0 before the step started)."""
        return self._record.attempts or 0

    @property
    def due_at(self) -> str | None:
        """When a waiting step runs again (a wait's end, or a retry's next attempt); ``None`` if it does not wait."""
        return self._record.due_at

    @property
    def deadline(self) -> str | None:
        """When a step with a ``timeout`` fails if it is still pending."""
        return self._record.deadline

    def wait(self, seconds: float | timedelta | None = None, *, until: str | datetime | None = None) -> str:
        """In a hook: keep this step pending and call ``on_continue`` no earlier than then.

        ``seconds`` from now, or ``until`` a time (an ISO-8601 text or a datetime; naive is
        UTC), whichever is later. A signal sent to the run wakes the step sooner. Returns
        the stored time it waits until.
        """
        if self._claimant is None:
            raise InvalidTransitionError(f"{self._describe()}: wait() is for a step's hooks, run by a tick")
        if not isinstance(self, OnContinueMixin):
            raise TypeError(
                f"{self._describe()}: wait() needs an on_continue() to run when the wait ends; "
                "add OnContinueMixin to the step class"
            )
        self._record.due_at = wake_time(self._require_store().now(), seconds, until)
        self._record.waiting_since = self._tick_began
        return self._record.due_at

    @property
    def signals(self) -> dict[str, Any]:
        """The last value sent to the run under each name (a copy, read when the tick began)."""
        return clone(self._run_record().signals)

    def receive(self, name: str, default: Any = None) -> Any:
        """The last value sent to the run as ``name`` (see ``Pipeline.send``), or ``default``."""
        return clone(self._run_record().signals.get(name, default))

    def _run_record(self) -> Any:
        if self._pipeline is not None:
            return self._pipeline._record
        return self._require_store().pipeline(self.pipeline_uuid)

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
        A step with ``retry`` whose attempt may be followed by another is not failed: the
        attempt is recorded and the next one scheduled (nothing is raised).
        """
        try:
            getattr(self, hook_name)()
            self._check_values()  # before anything is saved: what the hook left must be JSON
        except (ConcurrentChangeError, StoreFileError):
            raise
        except Exception as exc:
            if self._fail_for(hook_name, exc):
                raise StepHookError(
                    f"{self._describe()} of pipeline {self.pipeline_uuid}: "
                    f"{hook_name}() raised {type(exc).__name__}: {exc}"
                ) from exc
        else:
            if hook_name == "on_start":
                self._record.on_start_done = True

    def _fail_for(self, hook_name: str, exc: Exception) -> bool:
        """Record ``exc`` as this step's error and fail the step, or schedule its next attempt; whether it failed.

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
            return True
        if self._retries_after(hook_name, exc):
            return False
        note = f"{hook_name} raised {type(exc).__name__}"
        if isinstance(exc, NotJSONError):
            self._drop_unsaved()
        try:
            self._change_status(Status.FAILED, by=BY_ERROR, note=note)
        except NotJSONError as unsaved:
            self._record.error["message"] += f" (not saved, {unsaved})"
            self._drop_unsaved()
            self._change_status(Status.FAILED, by=BY_ERROR, note=note)
        return True

    def _retries_after(self, hook_name: str, exc: Exception) -> bool:
        """Schedule the next attempt if ``retry`` allows one after ``exc``; whether it did.

        The attempt is recorded in the history (its number, its error with the traceback,
        and the next attempt's time) and ``on_start`` runs again once that time has come; the
        step's ``error`` stays empty until an error fails it.
        """
        retry, attempt = type(self).retry, self.attempts or 1
        if retry is None or isinstance(exc, NotJSONError):
            return False
        record = self._record
        try:
            if not retry.retries(attempt, exc):
                return False
        except Exception as predicate_error:  # the user's predicate: its failure fails the step, said in the error
            record.error["message"] += f" (retry_if raised {type(predicate_error).__name__}: {predicate_error})"
            return False
        try:
            self._check_values()
        except NotJSONError as unsaved:
            record.error["message"] += f" (not saved, {unsaved})"
            self._drop_unsaved()
        record.on_start_done = False
        record.due_at = later(self._require_store().now(), retry.delay(attempt))
        record.waiting_since = None
        error = {key: value for key, value in record.error.items() if key != "at"}  # the entry has its time
        record.error = None  # the step has not failed: the attempt's error is its history entry's
        note = f"attempt {attempt} of {retry.max_attempts}: {hook_name} raised {type(exc).__name__}"
        self._record_event(by=BY_RETRY, note=note, attempt=attempt, error=error, next_at=record.due_at)
        return True

    def _after_lost_attempt(self) -> None:
        """In ``begin_tick``: the last attempt began but never ended (its worker stopped); count it as failed.

        The step fails if that was its last attempt, and otherwise records it before the
        next attempt (counted already) begins.
        """
        retry, record = type(self).retry, self._record
        lost = (record.attempts or 1) - 1
        note = f"attempt {lost} of {retry.max_attempts} began and never ended (its worker stopped)"
        if lost < retry.max_attempts:
            self._record_event(by=BY_RETRY, note=note, attempt=lost)
            return
        record.attempts = lost  # no attempt begins after the last one
        record.error = {"type": "LostAttemptError", "message": note, "traceback": "", "at": utc_now()}
        self._change_status(Status.FAILED, by=BY_ERROR, note=note)

    def _time_out(self) -> StepTimeoutError:
        """In ``begin_tick``: fail this step, still pending at its deadline; returns the error recorded.

        A worker whose hook still runs loses its claim: its later writes are refused.
        """
        seconds = type(self).timeout_seconds()
        after = f" ({format_duration(seconds)} after its start)" if seconds else ""
        error = StepTimeoutError(
            f"{self._describe()} of pipeline {self.pipeline_uuid} was still pending at its deadline "
            f"{self._record.deadline}{after}"
        )
        self._record.error = {"type": "StepTimeoutError", "message": str(error), "traceback": "", "at": utc_now()}
        self._change_status(Status.FAILED, by=BY_TIMEOUT, note=f"timed out{after}")
        return error

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

        An ended step needs no claim, waits for nothing and will not run ``on_start`` again:
        the same write releases the claim, drops its wait and confirms the start.
        """
        if self.status in Status.ENDED:
            record = self._record
            record.claimed_by = record.claimed_until = record.due_at = record.waiting_since = None
            if record.on_start_done is False:
                record.on_start_done = True
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
        """Write what the run keeps of this step's save: the context a hook handed on, when the run is due."""
        if self._pipeline is not None:
            self._pipeline._save_with_step(store, self._record)
        elif self._record.due_at is not None or self.status in Status.ENDED:  # a step object of its own
            run = store.pipeline(self.pipeline_uuid)
            due = run_due_at(run, self._record)
            if due != run.due_at:
                store.pipelines.update(run.uuid, {"due_at": due, "updated_at": utc_now()})

    def _unsaved(self) -> bool:
        """Whether ``metadata`` changed since the last save."""
        return self.metadata != self._metadata_saved

    def _pipeline_uuid(self) -> str:
        return self.pipeline_uuid

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {short_uuid(self.uuid)} {self.status}>"
