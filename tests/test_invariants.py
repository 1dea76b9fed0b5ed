"""Stateful property test of the engine's invariants, on the in-memory and TinyDB stores.

Hypothesis drives random sequences of: creating runs of a few pipeline shapes, outside
events (flags), direct ticks, orchestrator passes, ``run_until_done()``, cancelling from
outside and reloading runs. A model of the tick semantics of DESIGN.md predicts every
status, hook call and report; after each step the stored records are checked against the
model and against invariants that hold whatever the model says.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from prorch_nb import (
    InMemoryRepository,
    OnContinueMixin,
    OnStartMixin,
    Orchestrator,
    OrchestratorConfig,
    Pipeline,
    Step,
    TinyDBRepository,
    load_pipeline,
    register_pipeline,
    register_step,
)
from prorch_nb.claims import claim_is_live
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import InvalidTransitionError, StepHookError
from prorch_nb.repositories.database import Database, read_committed
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.store import Store
from prorch_nb.utils.constants import Metadata, Status
from tests.sql_databases import POSTGRES_URL, fresh_prefix, require_postgres, sqlite_repository

C, P, F, X, K = Status.CREATED, Status.PENDING, Status.FINISHED, Status.FAILED, Status.CANCELLED

#: Uuids of the runs whose outside event has happened (what waiting steps look for).
FLAGS: set[str] = set()

# Steps ----------------------------------------------------------------------------------


def _count(step: Step, hook: str) -> None:
    """Count a hook call in the step's metadata and in the run's shared context."""
    step.metadata[hook] = step.metadata.get(hook, 0) + 1
    step.context["hooks"] = step.context.get("hooks", 0) + 1


@register_step
class InvDone(OnStartMixin, Step):
    name = "InvDone"

    def on_start(self) -> None:
        _count(self, "on_start")
        self.finish()


@register_step
class InvWait(OnContinueMixin, Step):
    name = "InvWait"

    def on_continue(self) -> None:
        _count(self, "on_continue")
        if self.pipeline_uuid in FLAGS:
            self.finish()


@register_step
class InvTwoPhase(OnStartMixin, OnContinueMixin, Step):
    name = "InvTwoPhase"

    def on_start(self) -> None:
        _count(self, "on_start")

    def on_continue(self) -> None:
        _count(self, "on_continue")
        self.finish()


@register_step
class InvFail(OnStartMixin, Step):
    name = "InvFail"

    def on_start(self) -> None:
        _count(self, "on_start")
        self.fail("refused")


@register_step
class InvCancel(OnStartMixin, Step):
    name = "InvCancel"

    def on_start(self) -> None:
        _count(self, "on_start")
        self.cancel("not today")


@register_step
class InvRaise(OnStartMixin, Step):
    name = "InvRaise"

    def on_start(self) -> None:
        _count(self, "on_start")
        raise ValueError("disk full")


@register_step
class InvRaiseLater(OnContinueMixin, Step):
    name = "InvRaiseLater"

    def on_continue(self) -> None:
        _count(self, "on_continue")
        if self.pipeline_uuid in FLAGS:
            raise RuntimeError("lost connection")


# Pipeline shapes ------------------------------------------------------------------------


@register_pipeline
class InvFlow(Pipeline):
    name = "InvFlow"
    steps = [InvDone, InvWait, InvTwoPhase]


@register_pipeline
class InvFails(Pipeline):
    name = "InvFails"
    steps = [InvDone, InvFail, InvDone]


@register_pipeline
class InvCancels(Pipeline):
    name = "InvCancels"
    steps = [InvWait, InvCancel]


@register_pipeline
class InvRaises(Pipeline):
    name = "InvRaises"
    steps = [InvDone, InvRaise, InvDone]


@register_pipeline
class InvRaisesLater(Pipeline):
    name = "InvRaisesLater"
    steps = [InvRaiseLater, InvDone]


@register_pipeline
class InvSingle(Pipeline):
    name = "InvSingle"
    steps = [InvDone]


SHAPES: list[type[Pipeline]] = [InvFlow, InvFails, InvCancels, InvRaises, InvRaisesLater, InvSingle]
HAS_ON_START = {"InvDone", "InvTwoPhase", "InvFail", "InvCancel", "InvRaise"}
HAS_ON_CONTINUE = {"InvWait", "InvTwoPhase", "InvRaiseLater"}
#: Runs per example: few enough that most of them get somewhere in 30 steps.
MAX_RUNS = 6
#: Steps that stay pending until their run's flag is set.
WAITERS = {"InvWait", "InvRaiseLater"}

# Model ----------------------------------------------------------------------------------


@dataclass
class ModelStep:
    """What a step should be: status, hook calls, and whether a hook raised."""

    name: str
    status: str = C
    on_start: int = 0
    on_continue: int = 0
    raised: bool = False
    #: Resumed by hand: ``on_start`` runs again at its next tick.
    restart: bool = False

    def hook(self, hook: str, flag: bool) -> bool:
        """Apply one hook call as the step classes above behave; True if it raises."""
        if hook == "on_start":
            self.on_start += 1
            ends = {"InvDone": F, "InvFail": X, "InvCancel": K, "InvRaise": X}
            self.status = ends.get(self.name, self.status)
            self.raised = self.name == "InvRaise"
        else:
            self.on_continue += 1
            if self.name == "InvTwoPhase" or (self.name == "InvWait" and flag):
                self.status = F
            elif self.name == "InvRaiseLater" and flag:
                self.status, self.raised = X, True
        return self.raised


@dataclass
class ModelRun:
    """What a run should be, and the handle the test drives it through."""

    uuid: str
    shape: type[Pipeline]
    handle: Pipeline
    steps: list[ModelStep]
    status: str = C
    hooks: int = 0
    by_hand: bool = False

    def tick(self) -> tuple[bool, bool]:
        """One tick by DESIGN.md; returns (a status changed, a hook raised)."""
        if self.status in Status.ENDED:
            return False, False
        ending = ending_by_rule([s.status for s in self.steps])
        if ending:
            self.status = ending
            return True, False
        step = next(s for s in self.steps if s.status in Status.OPEN)
        before = step.status
        flag = self.uuid in FLAGS
        raised = False
        if step.status == C or step.restart:
            self.status = step.status = P
            step.restart = False
            if step.name in HAS_ON_START:
                self.hooks += 1
                raised = step.hook("on_start", flag)
        if not raised and step.status == P and step.name in HAS_ON_CONTINUE:
            self.hooks += 1
            raised = step.hook("on_continue", flag)
        return step.status != before, raised

    def resume(self) -> ModelStep | None:
        """``resume()`` of a failed or cancelled run: the step that ended it (if any) runs again from ``on_start``."""
        step = next((s for s in self.steps if s.status in Status.RESUMABLE), None)
        if step is not None:
            step.status, step.restart, step.raised = P, True, False
        self.status, self.by_hand = P, False
        return step


def ending_by_rule(statuses: list[str]) -> str | None:
    """The status a run ends with by the ending rule (None: it goes on)."""
    if X in statuses:
        return X
    if K in statuses:
        return K
    if all(status == F for status in statuses):
        return F
    return None


def moment(text: str) -> datetime:
    """A stored ISO-8601 time."""
    return datetime.fromisoformat(text)


#: Status changes a record may make (a run may also be cancelled by hand while created).
PIPELINE_MOVES = {(C, P), (C, K), (P, F), (P, X), (P, K)}
STEP_MOVES = {(C, P), (P, F), (P, X), (P, K)}
#: The only way out of an ended status: ``resume()``, by hand, back to pending, from failed or cancelled.
RESUME_MOVES = {(X, P), (K, P)}

# The machine ----------------------------------------------------------------------------


class EngineMachine(RuleBasedStateMachine):
    """Random operations on runs of one store, checked against a model after each step."""

    store_kind: ClassVar[str] = "memory"
    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        FLAGS.clear()
        self.folder: str | None = None
        if self.store_kind in ("tinydb", "sqlite"):
            self.folder = tempfile.mkdtemp(prefix="invariants-")
        if self.store_kind == "tinydb":
            self.repository: type = TinyDBRepository.at(f"{self.folder}/runs.json")
        elif self.store_kind == "sqlite":
            self.repository = sqlite_repository(Path(self.folder))
        elif self.store_kind == "postgres":
            self.repository = SQLRepository.at(POSTGRES_URL, prefix=fresh_prefix())
        else:
            self.repository = InMemoryRepository.fresh()
        self.model: dict[str, ModelRun] = {}
        self.order: list[str] = []
        #: Records seen ended, as first seen after the operation that ended them.
        self.frozen: dict[str, dict[str, Any]] = {}

    def teardown(self) -> None:
        """Forget the flags; remove the example's folder or tables."""
        FLAGS.clear()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.store_kind == "postgres":
            self.repository("PIPELINE").database.drop()

    # Helpers ------------------------------------------------------------------------

    def _new_run(self, shape: type[Pipeline]) -> str:
        """Create a run of ``shape`` and its model; returns its uuid."""
        handle = shape(repository_class=self.repository)
        steps = [ModelStep(step.name or "") for step in shape.step_classes()]
        self.model[handle.uuid] = ModelRun(handle.uuid, shape, handle, steps)
        self.order.append(handle.uuid)
        return handle.uuid

    def _model_pass(self) -> tuple[list[str], bool, int]:
        """One orchestrator pass in the model: (uuids ticked, changed, hooks raised)."""
        ticked = [uuid for uuid in self.order if self.model[uuid].status == P]
        changed, raised = False, 0
        for uuid in ticked:
            did_change, did_raise = self.model[uuid].tick()
            changed |= did_change
            raised += did_raise
        return ticked, changed, raised

    def _stored(self) -> tuple[list[PipelineData], dict[str, list[StepData]]]:
        """Every stored pipeline (oldest first) and its steps by position, read now."""
        store = Store(self.repository)
        steps: dict[str, list[StepData]] = {}
        for step in store.all_steps():
            steps.setdefault(step.pipeline_uuid, []).append(step)
        for found in steps.values():
            found.sort(key=lambda step: step.position if step.position is not None else -1)
        return store.all_pipelines(), steps

    # Rules --------------------------------------------------------------------------

    @initialize(target=runs, shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3))
    def first_runs(self, shapes: list[type[Pipeline]]) -> MultipleResults[str]:
        """Every example starts with a few runs."""
        return multiple(*(self._new_run(shape) for shape in shapes))

    @precondition(lambda self: len(self.order) < MAX_RUNS)
    @rule(target=runs, shape=st.sampled_from(SHAPES))
    def create(self, shape: type[Pipeline]) -> str:
        """A new run: pipeline and steps ``created``."""
        return self._new_run(shape)

    @precondition(lambda self: len(self.order) < MAX_RUNS)
    @rule(target=runs, shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3))
    def create_in_a_batch(self, shapes: list[type[Pipeline]]) -> MultipleResults[str]:
        """Several new runs inside one ``Store.batch()`` (a no-op for the memory store)."""
        with Store(self.repository).batch():
            return multiple(*(self._new_run(shape) for shape in shapes))

    @rule(uuid=runs, times=st.integers(min_value=1, max_value=4))
    def start(self, uuid: str, times: int) -> None:
        """Tick one run directly, a few times, through its (possibly stale) handle."""
        for _ in range(times):
            self._start_once(self.model[uuid])

    def _start_once(self, run: ModelRun) -> None:
        """One ``start()``: StepHookError exactly when a hook raised, else the right outcome."""
        before = run.status
        changed, raised = run.tick()
        try:
            outcome = run.handle.start()
        except StepHookError:
            assert raised, "start() raised StepHookError but no hook raised"
            return
        assert not raised, "a hook raised but start() did not raise StepHookError"
        assert (outcome.pipeline_before, outcome.pipeline_after) == (before, run.status)
        assert outcome.changed == changed

    @rule()
    def orchestrator_pass(self) -> None:
        """One pass ticks every pending run once, oldest first; hook errors are reported."""
        ticked, changed, raised = self._model_pass()
        report = Orchestrator(OrchestratorConfig(repository_class=self.repository)).execute_pipelines()
        assert [o.pipeline_uuid for o in report.outcomes] == ticked, "not every pending run, oldest first"
        assert report.changed == changed
        assert len(report.errors) == raised

    @rule()
    def run_until_done(self) -> None:
        """Passes as the model predicts; afterwards a started run is ended or waits for its flag.

        That ended runs follow the ending rule is checked by the invariants after every step.
        """
        passes, errors = 0, 0
        while True:
            ticked, changed, raised = self._model_pass()
            if not ticked:
                break
            passes, errors = passes + 1, errors + raised
            if not changed:
                break
        report = Orchestrator(OrchestratorConfig(repository_class=self.repository)).run_until_done()
        assert (len(report.ticks), len(report.errors)) == (passes, errors), report.stopped_because
        pipelines, steps = self._stored()
        for pipeline in pipelines:  # only a step waiting for its flag may hold a run back
            if pipeline.status == P:
                waiting = [s for s in steps[pipeline.uuid] if s.status == P]
                assert [s.name in WAITERS for s in waiting] == [True], (pipeline, waiting)
                assert pipeline.uuid not in FLAGS, pipeline

    @rule(uuid=runs, event=st.sampled_from(["set flag", "set flag", "set flag", "cancel"]))
    def outside(self, uuid: str, event: str) -> None:
        """The world acts on a run: its awaited event happens, or a person cancels it."""
        if event == "set flag":
            FLAGS.add(uuid)
            return
        run = self.model[uuid]
        if run.status in Status.ENDED:
            try:
                run.handle.cancel("stop")
            except InvalidTransitionError:
                return
            raise AssertionError(f"cancel() of a {run.status} run did not raise")
        run.handle.cancel("stop")
        for step in run.steps:
            if step.status == P:
                step.status = K
        run.status, run.by_hand = K, True

    @rule(uuid=runs)
    def resume(self, uuid: str) -> None:
        """A person resumes a run: refused unless it failed or was cancelled after it started."""
        run = self.model[uuid]
        if run.status not in Status.RESUMABLE or all(s.status == C for s in run.steps):
            with pytest.raises(InvalidTransitionError):
                run.handle.resume("again")
            return
        step = run.resume()
        resumed = run.handle.resume("again")
        assert (resumed and (resumed.name, resumed.status)) == (step and (step.name, P))
        for record in [run.uuid, resumed and resumed.uuid]:
            self.frozen.pop(record, None)  # it is no longer ended: it may change again

    @rule(uuid=runs, by_class=st.booleans())
    def reload(self, uuid: str, by_class: bool) -> None:
        """Load a run by uuid (its class, or ``load_pipeline``); drive it through the new handle."""
        run = self.model[uuid]
        if by_class:
            handle = run.shape(repository_class=self.repository, pipeline_uuid=run.uuid)
        else:
            handle = load_pipeline(run.uuid, self.repository)
        assert type(handle) is run.shape
        assert (handle.uuid, handle.status) == (run.uuid, run.status)
        assert [s.status for s in handle.step_records()] == [s.status for s in run.steps]
        run.handle = handle

    # Invariants ---------------------------------------------------------------------

    @invariant()
    def stored_records_match_the_model(self) -> None:
        """No record lost or added; statuses, hook counts, context and errors as modelled."""
        pipelines, steps = self._stored()
        assert [p.uuid for p in pipelines] == self.order, "a run was lost, added or reordered"
        assert sum(len(found) for found in steps.values()) == sum(len(r.steps) for r in self.model.values())
        for pipeline in pipelines:
            run, found = self.model[pipeline.uuid], steps.get(pipeline.uuid, [])
            assert pipeline.name == run.shape.name
            assert [s.position for s in found] == list(range(len(run.steps)))
            assert [s.name for s in found] == [s.name for s in run.steps]
            assert (pipeline.status, [s.status for s in found]) == (run.status, [s.status for s in run.steps])
            assert pipeline.context.get("hooks", 0) == run.hooks
            for stored, expected in zip(found, run.steps, strict=True):
                assert stored.metadata.get("on_start", 0) == expected.on_start, stored
                assert stored.metadata.get("on_continue", 0) == expected.on_continue, stored
                assert (stored.error is not None) == expected.raised, stored

    @invariant()
    def runs_follow_the_tick_rules(self) -> None:
        """Structural rules of DESIGN.md, read from the stored records alone."""
        pipelines, steps = self._stored()
        for pipeline in pipelines:
            found = steps[pipeline.uuid]
            statuses = [s.status for s in found]
            assert statuses.count(P) <= 1, "more than one pending step"
            first_open = next((i for i, s in enumerate(statuses) if s != F), len(statuses))
            assert all(s == C for s in statuses[first_open + 1 :]), "a step after the current one is not created"
            started = [s for s in found if s.status != C]
            assert pipeline.metadata.get("current_step") == (started[-1].uuid if started else None)
            by_hand = pipeline.history[-1]["by"] == "hand" and pipeline.status != P  # a resume is by hand too
            if pipeline.status == C:
                assert statuses == [C] * len(statuses), "a created run has a started step"
            if pipeline.status == P:
                assert statuses[0] != C, "a pending run has not started a step"
            if P in statuses:
                assert pipeline.status == P, "a pending step in a run that is not pending"
            if pipeline.status in Status.ENDED and not by_hand:
                assert pipeline.status == ending_by_rule(statuses), "ended against the ending rule"
            if pipeline.status == F:
                assert statuses == [F] * len(statuses)
            if all(s in Status.ENDED for s in statuses) and pipeline.status not in Status.ENDED:
                assert pipeline.status == P  # it ends on its next tick
            if by_hand:
                assert pipeline.status == K

    @invariant()
    def no_claim_outlives_its_tick(self) -> None:
        """Between operations no step is claimed, and every started ``on_start`` completed."""
        _, steps = self._stored()
        for found in steps.values():
            for step in found:
                assert not claim_is_live(step, datetime.now(timezone.utc))
                assert (step.claimed_by, step.claimed_until) == (None, None), step
                resumed = step.history[-1]["by"] == "hand" and step.status == P  # on_start runs at its next tick
                assert step.on_start_done is not False or resumed, "on_start began and never completed"

    @invariant()
    def histories_are_ordered_and_end_with_the_status(self) -> None:
        """Histories start ``created``, are time-ordered, make allowed moves, end at the status."""
        pipelines, steps = self._stored()
        records: list[PipelineData | StepData] = [*pipelines, *(s for found in steps.values() for s in found)]
        for record in records:
            history = record.history
            moves = PIPELINE_MOVES if isinstance(record, PipelineData) else STEP_MOVES
            assert history[0]["status"] == C and history[0]["at"] == record.created_at
            assert history[-1]["status"] == record.status, record
            times = [moment(entry["at"]) for entry in history]
            assert times == sorted(times), record
            assert record.updated_at is not None and moment(record.updated_at) >= times[-1]
            for before, after in itertools.pairwise(history):
                move = (before["status"], after["status"])
                assert move in moves or (move in RESUME_MOVES and after["by"] == "hand"), record

    @invariant()
    def ended_records_never_change(self) -> None:
        """An ended pipeline or step is never written again (status, history, anything), but by ``resume()``."""
        pipelines, steps = self._stored()
        for record in [*pipelines, *(s for found in steps.values() for s in found)]:
            if record.status in Status.ENDED:
                seen = self.frozen.setdefault(record.uuid, _as_dict(record))
                assert _as_dict(record) == seen, f"ended record {record.uuid} was written again"


def _as_dict(record: PipelineData | StepData) -> dict[str, Any]:
    """Every field of a record."""
    return {name: getattr(record, name) for name in record.__slots__}


class TinyDBMachine(EngineMachine):
    """The same machine on the default store, a TinyDB file."""

    store_kind = "tinydb"

    @rule()
    def reopen_the_file(self) -> None:
        """Forget this process's cached tables, as a new process would: read the file again."""
        before = self._rows()
        assert Database._open.pop(self.repository.path, None) is not None
        assert self._rows() == before, "reading the file back lost or changed records"

    def _rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        store = Store(self.repository)
        return store.pipelines.all(), store.steps.all()

    @invariant()
    def the_file_holds_what_the_store_holds(self) -> None:
        """Outside a unit of work every change has been committed to the file and its journal."""
        if not os.path.exists(self.repository.path):
            assert not self.order, "runs were created but the file was never written"
            return
        tables = read_committed(self.repository.path)
        for model, rows in zip((Metadata.PIPELINES_MODEL, Metadata.STEP_MODEL), self._rows(), strict=True):
            name = Metadata.TABLE_NAMES[model]
            assert list(tables.get(name, {}).values()) == rows, f"the file's {name} differ from the store's"


class SQLiteMachine(EngineMachine):
    """The same machine on the SQL repository, on SQLite."""

    store_kind = "sqlite"


class PostgresMachine(EngineMachine):
    """The same machine on the SQL repository, on PostgreSQL (tables of each example's own)."""

    store_kind = "postgres"


CI = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

TestInMemoryStore = EngineMachine.TestCase
TestInMemoryStore.settings = CI
TestTinyDBStore = TinyDBMachine.TestCase
TestTinyDBStore.settings = CI
TestSQLiteStore = SQLiteMachine.TestCase
TestSQLiteStore.settings = CI
TestPostgresStore = PostgresMachine.TestCase
TestPostgresStore.settings = CI


@pytest.fixture(autouse=True)
def _postgres_answers(request):
    """The PostgreSQL machine needs the server: a one-line skip without it (a failure under CI)."""
    if request.cls is TestPostgresStore:
        require_postgres()
