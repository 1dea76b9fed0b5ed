"""A pipeline: an ordered list of step classes, and one stored run of them per instance."""

from __future__ import annotations

import uuid as uuid_module
from typing import TYPE_CHECKING, Any, ClassVar

from prorch_nb import registry
from prorch_nb.claims import DEFAULT_LEASE_SECONDS
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.display import BoundOnClassToo, mimebundle
from prorch_nb.exceptions.exceptions import (
    ConcurrentChangeError,
    InvalidRecordError,
    InvalidTransitionError,
    PipelineNameNotDefinedException,
    StepsNotDefinedException,
)
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.lifecycle import BY_HAND, BY_SIGNAL, Tracked, new_record_times
from prorch_nb.pipeline.tick import run_tick
from prorch_nb.report import TickOutcome
from prorch_nb.reprs import definition_text, pipeline_repr, run_text
from prorch_nb.schedule import run_due_at
from prorch_nb.step.step import Step
from prorch_nb.store import Store
from prorch_nb.utils import clock
from prorch_nb.utils.clock import utc_at, utc_now
from prorch_nb.utils.constants import Status
from prorch_nb.utils.data import clone
from prorch_nb.utils.json_values import check_json

if TYPE_CHECKING:
    import graphviz

    from prorch_nb.notebook.jupyter import View
    from prorch_nb.notebook.widgets import PipelinePanel


#: How many times ``send()`` tries while workers' ticks hold the run (20 ms apart).
SEND_TRIES = 250


class Pipeline(Tracked):
    """Base class of pipelines: subclass with a ``name`` and a list of ``steps``.

    ``P(repository_class=R)`` stores a new run (pipeline and steps ``created``);
    ``P(repository_class=R, pipeline_uuid=u)`` loads a stored one. Each :meth:`start` is
    one tick. ``context`` seeds the dict the steps share (``step.context``).
    """

    _kind = "pipeline"
    name: str | None = None
    steps: ClassVar[list[type[Step] | str] | None] = None
    #: Default metadata of a new run (copied, never shared); ``current_step`` is the uuid
    #: of the step the run is on.
    metadata: dict[str, Any] = {"current_step": None}
    #: Jupyter shows a class's definition and a run's state (:mod:`prorch_nb.notebook.jupyter`).
    _repr_mimebundle_ = BoundOnClassToo(mimebundle)

    def __init__(
        self,
        repository_class: type[IRepository],
        pipeline_uuid: str | None = None,
        *,
        context: dict[str, Any] | None = None,
    ) -> None:
        self._validate_class()
        self._repository_class = repository_class
        store = Store(repository_class)
        if pipeline_uuid is None:
            self._create(store, context or {})
            return
        if context is not None:
            raise TypeError("context= is for new runs; a stored run keeps its own context")
        record = store.pipeline(pipeline_uuid)
        if record.name != self.name:
            raise InvalidRecordError(
                f"pipeline record {pipeline_uuid} is a {record.name!r} run, not {self.name!r}; "
                "load it with prorch_nb.load_pipeline()"
            )
        self._attach(record, None)  # each later operation makes its own store

    @classmethod
    def _validate_class(cls) -> None:
        if not cls.name:
            raise PipelineNameNotDefinedException(f"pipeline class {cls.__qualname__} has no name")
        if not cls.steps:
            raise StepsNotDefinedException(f"pipeline class {cls.__qualname__} has no steps")

    @classmethod
    def step_classes(cls) -> list[type[Step]]:
        """The step classes of this pipeline, names resolved through the registry."""
        cls._validate_class()
        classes = [
            registry.step_class(s, record=f"pipeline class {cls.name!r}") if isinstance(s, str) else s
            for s in cls.steps or []
        ]
        for step_class in classes:
            step_class._validate_class()
        return classes

    @classmethod
    def _from_record(cls, record: PipelineData, store: Store) -> Pipeline:
        pipeline = cls.__new__(cls)
        pipeline._repository_class = store.repository_class
        pipeline._attach(record, store)
        return pipeline

    def _create(self, store: Store, context: dict[str, Any]) -> None:
        check_json(context, "context")
        record = PipelineData(
            uuid=str(uuid_module.uuid4()),
            name=self.name,
            metadata=clone(type(self).metadata),
            status=Status.CREATED,
            context=clone(context),
            **new_record_times(),
        )
        steps = [
            step_class._new_record(record.uuid, position) for position, step_class in enumerate(self.step_classes())
        ]
        record.step_uuids = [step.uuid for step in steps]
        with store.unit_of_work():
            for step in steps:  # steps first: a crash never leaves a run with missing steps
                store.insert(step)
            store.insert(record)
        self._attach(record, None)  # each later operation makes its own store

    def _attach(self, record: PipelineData, store: Store | None) -> None:
        self._adopt(record, store)
        self.metadata = record.metadata
        self.context = record.context
        self._context_base = clone(record.context)

    def _save_with_step(self, store: Store, step: StepData) -> None:
        """Save what a save of ``step`` changes in the run: its context, and when it is next due.

        The keys of ``context`` changed since it was read are merged into what is stored,
        so what a hook hands on is stored with the step's end, and another worker's keys
        are never overwritten. ``due_at`` follows the step's wait and deadline, unless a
        signal stored meanwhile woke it. A run that neither hands on nor waits is not read.
        """
        base, current = self._context_base, self.context
        changed = {key: value for key, value in current.items() if key not in base or base[key] != value}
        removed = [key for key in base if key not in current]
        if not changed and not removed and step.due_at is None and self._record.due_at is None:
            return
        with store.unit_of_work():
            stored = store.pipeline(self.uuid)
            fields: dict[str, Any] = {}
            if changed or removed:
                stored.context.update(clone(changed))
                for key in removed:
                    stored.context.pop(key, None)
                fields["context"] = stored.context
            due = run_due_at(stored, step)
            if due != stored.due_at:
                fields["due_at"] = due
            if fields:
                store.pipelines.update(self.uuid, {**fields, "updated_at": utc_now()})
        record = self._record
        record.due_at, record.signals, record.signaled_at = due, stored.signals, stored.signaled_at
        self._context_base = clone(current)

    def _sync_record(self) -> None:
        self._record.metadata = self.metadata
        self._record.context = self.context

    def _check_values(self) -> None:
        super()._check_values()
        check_json(self.context, "context")

    def _drop_unsaved_context(self) -> None:
        """Put ``context`` back as it was last saved (what a hook wrote could not be stored)."""
        self.context.clear()
        self.context.update(clone(self._context_base))

    # Running ---------------------------------------------------------------------

    def start(self, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> TickOutcome:
        """One tick: end the run by its steps' statuses, or start/continue its current step.

        Returns what the tick did. If a hook raises, the step is recorded as failed (with
        the error) and :class:`~prorch_nb.exceptions.exceptions.StepHookError` is raised
        from the original exception; the run fails on its next tick. A step with ``retry``
        that has attempts left records the attempt instead, and nothing is raised. A step
        failed at its deadline raises :class:`~prorch_nb.exceptions.exceptions.StepTimeoutError`.
        """
        with self._operation() as store:
            tick = run_tick(self, store, lease_seconds)
        if tick.error:
            raise tick.error
        return tick.outcome()

    def cancel(self, note: str | None = None) -> None:
        """Cancel this run from outside: its pending step, then the pipeline."""
        with self._operation() as store, store.unit_of_work():
            for step in self._pending_steps(store):
                step._change_status(Status.CANCELLED, by=BY_HAND, note=note)
            self._change_status(Status.CANCELLED, by=BY_HAND, note=note)

    def end_current_step(self, status: str, note: str | None = None) -> Step:
        """End this run's pending step by hand: ``finished``, ``failed`` or ``cancelled``.

        For a step waiting on an outside event (an approval). Its history records the
        change as done by hand; the run moves on (or ends) at its next tick.
        """
        if status not in Status.ENDED:
            raise ValueError(f"a step ends finished, failed or cancelled, not {status!r}")
        with self._operation() as store, store.unit_of_work():
            steps = self._pending_steps(store)
            if not steps:
                raise InvalidTransitionError(f"{self._describe()} has no pending step to end")
            steps[0]._change_status(status, by=BY_HAND, note=note)
        return steps[0]

    def send(self, name: str, value: Any = None, *, note: str | None = None) -> None:
        """Send ``value`` (JSON) to this run as ``name``, from any process; a waiting step wakes.

        The run keeps the last value of each name (hooks read it with ``self.receive(name)``)
        and its history records each one (``by`` = ``signal``). A run that has ended takes
        no more signals.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a signal's name is a non-empty string, got {name!r}")
        check_json({name: value}, "signal")
        for _ in range(SEND_TRIES - 1):
            try:
                return self._send_once(name, value, note)
            except ConcurrentChangeError:  # a worker's tick holds or changed the run: a moment later
                clock.sleep(0.02)
        return self._send_once(name, value, note)

    def _send_once(self, name: str, value: Any, note: str | None) -> None:
        """One try of :meth:`send`: the run is held for this unit first (``ConcurrentChangeError`` if a tick holds it).

        Held first, so that the signal's time comes after the beginning of any tick that
        read the run without it: that tick's wait is then woken.
        """
        with self._operation() as store, store.unit_of_work():
            if not store.lock_run(self.uuid):
                raise ConcurrentChangeError(f"{self._describe()} is held by a worker's tick")
            self._attach(store.pipeline(self.uuid), store)
            if self.status in Status.ENDED:
                raise InvalidTransitionError(f"{self._describe()} has {self.status}; it takes no more signals")
            record = self._record
            record.signals[name] = clone(value)
            record.signaled_at = utc_at(store.now().timestamp())  # the clock waits are measured in
            record.due_at = None  # due at the next pass, where a waiting step wakes
            self._record_event(by=BY_SIGNAL, note=note, signal=name, value=clone(value))

    def resume(self, note: str | None = None) -> Step | None:
        """Run a failed or cancelled run again from the step that ended it, by hand.

        That step is ``pending`` again and runs ``on_start`` at the next tick, its attempts
        counted anew; the run is ``pending`` again. Both histories record it (``by`` =
        ``hand``). Returns the step (``None`` for a run cancelled between two steps: the
        next tick starts the next one). A run cancelled before it started is refused.
        """
        with self._operation() as store, store.unit_of_work():
            self._attach(store.pipeline(self.uuid), store)
            if self.status not in Status.RESUMABLE:
                raise InvalidTransitionError(
                    f"{self._describe()} is {self.status}: only a failed or cancelled run can be resumed"
                )
            records = store.steps_of(self.uuid)
            if all(record.status == Status.CREATED for record in records):
                raise InvalidTransitionError(
                    f"{self._describe()} was {self.status} before it started: no step to run again (create a new run)"
                )
            ended = next((record for record in records if record.status in Status.RESUMABLE), None)
            step = None if ended is None else Step._from_record(ended, store, self)
            if step is not None:
                error = _reset_for_resume(step._record)
                self.metadata["current_step"] = step.uuid
                step._change_status(Status.PENDING, by=BY_HAND, note=note, reopen=True, resumed_from=error)
            self._record.due_at = None
            self._change_status(Status.PENDING, by=BY_HAND, note=note, reopen=True)
        return step

    def _pending_steps(self, store: Store) -> list[Step]:
        """This run's pending steps, read now; refuses an ended run."""
        self._attach(store.pipeline(self.uuid), store)
        if self.status in Status.ENDED:
            raise InvalidTransitionError(f"{self._describe()} has already {self.status}")
        return [Step._from_record(r, store, self) for r in store.steps_of(self.uuid) if r.status == Status.PENDING]

    # Reading ---------------------------------------------------------------------

    def refresh(self) -> Pipeline:
        """Reload this run's record from the repository; returns ``self``."""
        self._attach(Store(self._repository_class).pipeline(self.uuid), None)
        return self

    def step_records(self) -> list[StepData]:
        """The stored steps of this run, in order, read now from the repository."""
        return Store(self._repository_class).steps_of(self.uuid)

    @property
    def record(self) -> PipelineData:
        """This run's record as last read or written by this object."""
        self._sync_record()
        return self._record

    @property
    def current_step(self) -> str | None:
        """Uuid of the step this run is on (``None`` before its first tick)."""
        return self.metadata.get("current_step")

    # Showing ---------------------------------------------------------------------

    def graph(self, direction: str = "LR") -> graphviz.Digraph:
        """This run's diagram, read now: steps coloured by status (``.source`` is the DOT)."""
        from prorch_nb.notebook.diagrams import run_graph

        return run_graph(*Store(self._repository_class).read_run(self.uuid), direction)

    @classmethod
    def definition(cls, direction: str = "LR") -> graphviz.Digraph:
        """The diagram of this pipeline class: its steps in order, with their hooks."""
        from prorch_nb.notebook.diagrams import definition_graph

        return definition_graph(cls, direction)

    def panel(self, direction: str = "LR") -> PipelinePanel:
        """An ipywidgets panel to start, continue, cancel and resolve this run, live in place."""
        from prorch_nb.notebook.widgets import PipelinePanel

        return PipelinePanel(self, direction=direction)

    @BoundOnClassToo
    def _notebook_view(target: Pipeline | type[Pipeline]) -> View | None:
        """What Jupyter shows: a class's definition (``None`` without name or steps), a run's state read now."""
        from prorch_nb.notebook.diagrams import definition_graph, run_graph
        from prorch_nb.notebook.jupyter import View

        if isinstance(target, type):
            if not (target.name and target.steps):
                return None
            return View(definition_text(target), graph=definition_graph(target))
        record, steps = Store(target._repository_class).read_run(target.uuid)
        return View(run_text(type(target).__name__, record, steps), graph=run_graph(record, steps))

    def __repr__(self) -> str:
        """``<Name uuid8 status: ✓ StepA → ▶ StepB → · StepC>``, read now; never raises."""
        return pipeline_repr(self)


def _reset_for_resume(step: StepData) -> dict[str, Any] | None:
    """Make a failed or cancelled step's record start over: ``on_start`` again, attempts and schedule anew.

    Returns its error's type, message and hook, for the history entry of the resume.
    """
    error = {key: step.error[key] for key in ("type", "message", "hook") if key in step.error} if step.error else None
    step.on_start_done = False
    step.attempts = 0
    step.due_at = step.waiting_since = step.deadline = None
    step.claimed_by = step.claimed_until = None
    step.error = None
    return error
