"""One tick of one pipeline, in three phases so hooks never run inside a unit of work.

1. ``begin_tick`` (inside the store's unit of work): apply the ending rule, or pick the
   first open step; fail it if it is past its deadline (``timeout``); leave it if it
   waits (a timer, a retry's next attempt) and no signal woke it; else start it if it is
   ``created``, count the attempt if ``on_start`` is to run, and claim it.
2. ``run_hooks`` (outside): ``on_start`` for a step just started (or retried, or whose
   ``on_start`` never completed), then ``on_continue`` while the step is still pending and
   does not wait. A status change made by a hook is saved at once, as in prorch.
3. ``commit_tick`` (inside again): save the step's metadata and the pipeline's context
   and release the claim, unless someone else ended the step or took the claim meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from prorch_nb import registry
from prorch_nb.claims import claim_ended, claim_is_live, lease_end, new_claimant
from prorch_nb.exceptions.exceptions import (
    ConcurrentChangeError,
    InvalidRecordError,
    StepHookError,
    StepTimeoutError,
)
from prorch_nb.leases import KEEPER
from prorch_nb.lifecycle import BY_ENGINE
from prorch_nb.mixins.on_continue import OnContinueMixin
from prorch_nb.mixins.on_start import OnStartMixin
from prorch_nb.report import TickOutcome
from prorch_nb.schedule import later, run_due_at, waiting, woken_in_time
from prorch_nb.store import Store
from prorch_nb.utils.clock import parse_time, utc_at
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from datetime import datetime

    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.pipeline.pipeline import Pipeline
    from prorch_nb.step.step import Step


@dataclass
class Tick:
    """What one tick of a pipeline decided, did and ran into."""

    pipeline: Pipeline
    pipeline_before: str
    step: Step | None = None
    step_before: str | None = None
    claimant: str | None = None
    busy: bool = False
    conflict: bool = False
    error: StepHookError | StepTimeoutError | None = None
    #: When the step waits until (a tick that found it not due yet).
    due_at: str | None = None

    def outcome(self) -> TickOutcome:
        """The report line of this tick."""
        step = self.step
        return TickOutcome(
            pipeline_uuid=self.pipeline.uuid,
            pipeline_name=self.pipeline.name or "",
            pipeline_before=self.pipeline_before,
            pipeline_after=self.pipeline.status,
            step_name=step.name if step else None,
            step_uuid=step.uuid if step else None,
            step_before=self.step_before,
            step_after=step.status if step else None,
            error=str(self.error) if self.error else None,
            busy=self.busy,
            conflict=self.conflict,
            due_at=self.due_at if step is None else step.due_at,
        )


def ending_status(step_statuses: list[str]) -> str | None:
    """The status a pipeline ends with given its steps' statuses, or ``None`` to go on."""
    if Status.FAILED in step_statuses:
        return Status.FAILED
    if Status.CANCELLED in step_statuses:
        return Status.CANCELLED
    if all(status == Status.FINISHED for status in step_statuses):
        return Status.FINISHED
    return None


def begin_tick(target: Pipeline | str, store: Store, lease_seconds: float) -> Tick:
    """Phase 1: decide, start and claim. Call inside ``store.unit_of_work()``.

    ``target`` is a run (read again now), or the uuid of a stored run to load. A run
    whose record another worker's unit holds right now (a shared database) is busy.
    """
    held = store.lock_run(target if isinstance(target, str) else target.uuid)
    if isinstance(target, str):
        pipeline = registry.stored_pipeline(store, target)
    else:
        pipeline = target
        pipeline._attach(store.pipeline(pipeline.uuid), store)
    tick = Tick(pipeline, pipeline_before=pipeline.status, busy=not held)
    if pipeline.status in Status.ENDED or tick.busy:
        return tick
    statuses, current = store.step_progress(pipeline._record)
    if not statuses:
        raise InvalidRecordError(f"pipeline {pipeline.name!r} ({pipeline.uuid}) has no step records")
    ending = ending_status(statuses)
    if ending:
        pipeline._change_status(ending, by=BY_ENGINE)
        return tick
    if current is None:
        raise InvalidRecordError(
            f"pipeline {pipeline.name!r} ({pipeline.uuid}): no step is open, yet step statuses {statuses} do not end it"
        )
    now = store.now()
    where = f"step {current.uuid} of pipeline {pipeline.name!r} {pipeline.uuid}"
    timed_out = _deadline_passed(current, now, where) and not woken_in_time(pipeline._record, current)
    if current.status == Status.PENDING and timed_out:
        tick.step = registry.step_class(current.name, record=where)._from_record(current, store, pipeline)
        tick.step_before = Status.PENDING
        tick.error = tick.step._time_out()
        return tick
    if claim_is_live(current, now):
        tick.busy = True
        return tick
    if waiting(pipeline._record, current, now):
        tick.due_at = current.due_at
        _mark_due(pipeline, current, store)
        return tick
    step_class = registry.step_class(current.name, record=where)
    step = step_class._from_record(current, store, pipeline)
    tick.step, tick.step_before = step, step.status
    tick.claimant = new_claimant()
    record = step._record
    record.claimed_by, record.claimed_until = tick.claimant, lease_end(now, lease_seconds)
    step._tick_began = utc_at(now.timestamp())
    lost_attempt = (  # an attempt began (not a retry scheduled, nor a resume) and never ended
        step.status == Status.PENDING and record.on_start_done is False and record.due_at is None and record.attempts
    )
    record.due_at = record.waiting_since = None  # due now: a wait has ended (or a signal woke it)
    timeout = step_class.timeout_seconds()
    if timeout and record.deadline is None:
        record.deadline = later(now, timeout)
    if step.status == Status.CREATED or record.on_start_done is False:
        record.attempts = (record.attempts or 0) + 1  # stored with the claim, before the attempt begins
        record.on_start_done = not isinstance(step, OnStartMixin)
    if step.status == Status.CREATED:
        pipeline.metadata["current_step"] = step.uuid
        _start(pipeline, step)
    elif lost_attempt and step.retry is not None:
        step._after_lost_attempt()
    else:
        step._save()
    step._claimant = tick.claimant  # from now on, the step's writes need the claim to be this tick's
    return tick


def _deadline_passed(step: StepData, now: datetime, where: str) -> bool:
    """Whether the step has a deadline (``timeout``) and ``now`` is past it; a deadline that is no time is refused."""
    if step.deadline is None:
        return False
    deadline = parse_time(step.deadline)
    if deadline is None:
        raise InvalidRecordError(f"{where}: its deadline {step.deadline!r} is not an ISO-8601 time")
    return deadline <= now


def _mark_due(pipeline: Pipeline, step: StepData, store: Store) -> None:
    """Store when a run whose step waits is due, if the run says otherwise (a pass then skips it until then)."""
    due = run_due_at(pipeline._record, step)
    if due != pipeline._record.due_at:
        store.pipelines.update(pipeline.uuid, {"due_at": due})
        pipeline._record.due_at = due


def _start(pipeline: Pipeline, step: Step) -> None:
    """Make the pipeline pending on this step, then the step pending (pipeline first)."""
    if pipeline.status == Status.PENDING:
        pipeline._save()
    else:
        pipeline._change_status(Status.PENDING, by=BY_ENGINE)
    step._change_status(Status.PENDING, by=BY_ENGINE)


def run_hooks(tick: Tick) -> None:
    """Phase 2: run the step's hooks; a hook's error or a conflict is kept on the tick.

    A :class:`StoreFileError` (what a hook did could not be saved) is raised: nothing of
    the tick is saved, and the next tick runs the hook again.
    """
    step = tick.step
    if step is None:
        return
    try:
        if step._record.on_start_done is False:
            step._run_hook("on_start")
        if _continues(step):
            step._run_hook("on_continue")
    except StepHookError as exc:
        tick.error = exc
    except ConcurrentChangeError:
        tick.conflict = True


def _continues(step: Step) -> bool:
    """Whether ``on_continue`` runs now: the step is pending, started, and neither waits nor awaits a retry."""
    record = step._record
    return (
        step.status == Status.PENDING
        and record.on_start_done is not False
        and record.due_at is None
        and isinstance(step, OnContinueMixin)
    )


def commit_tick(tick: Tick, store: Store) -> None:
    """Phase 3: save what the hooks left (metadata, context), release the claim.

    Call inside ``store.unit_of_work()``. Nothing is saved if another worker took the
    claim over or someone ended the step meanwhile (the tick is marked ``conflict``), and a
    write refused then raises :class:`ConcurrentChangeError` (see :func:`_commit`).
    A step its hook ended was saved then, claim released: only later changes are saved.
    """
    step = tick.step
    if step is None:
        return
    if tick.conflict:  # a hook's change met someone else's: show what is stored
        step._attach(store.step(step.uuid), store)
        return
    if _settled(tick):
        return
    stored = store.step(step.uuid)
    ended_by_us = stored.claimed_by is None and step.status in Status.ENDED and stored.status == step.status
    if stored.claimed_by != tick.claimant and not ended_by_us:
        tick.conflict = True
        step._attach(stored, store)
        return
    step._record.claimed_by = step._record.claimed_until = None
    step._save()


def _commit(tick: Tick, store: Store) -> None:
    """Phase 3 in a unit of its own, all or nothing.

    A :class:`ConcurrentChangeError` (someone ended the step, took its claim, or changed the
    run meanwhile: a signal on a shared database) undoes the whole unit: the tick is a
    conflict, and the step is shown as stored.
    """
    try:
        with store.unit_of_work():
            commit_tick(tick, store)
    except ConcurrentChangeError:
        assert tick.step is not None
        tick.conflict = True
        tick.step._attach(store.step(tick.step.uuid), store)


def _settled(tick: Tick) -> bool:
    """Whether the hooks ended the step and changed nothing after that write."""
    step = tick.step
    unsaved_context = tick.pipeline.context != tick.pipeline._context_base
    return step is not None and step.status in Status.ENDED and not step._unsaved() and not unsaved_context


def run_tick(target: Pipeline | str, store: Store, lease_seconds: float) -> Tick:
    """All three phases for a run or a stored run's uuid (the last only when there is something to save).

    The tick's claim is live in this process until the tick returns or raises (a claim
    left in the store by a tick that raised is taken over by this process's next tick),
    and its lease is renewed while the hooks run (:mod:`prorch_nb.leases`).
    """
    tick = None
    try:
        with store.unit_of_work():
            tick = begin_tick(target, store, lease_seconds)
        if tick.claimant is not None and tick.step is not None and store.renews_claims:
            KEEPER.hold(tick.claimant, tick.step.uuid, store.repository_class, lease_seconds)
        run_hooks(tick)
        if tick.step is not None and (tick.conflict or not _settled(tick)):
            _commit(tick, store)
        return tick
    finally:
        if tick is not None and tick.claimant is not None:
            KEEPER.release(tick.claimant)
            claim_ended(tick.claimant)
