"""A journalled workload for fault tests: every hook call leaves a line in a journal file.

The pipeline ``FaultFlow`` has four steps:

1. ``FaultAdmit`` (on_continue only) waits one tick, then finishes;
2. ``FaultFetch`` (on_start and on_continue) puts a payload in ``context`` when it
   starts and finishes on the tick after;
3. ``FaultTransform`` (on_start) reads the payload from ``context``, writes a result
   there and finishes;
4. ``FaultPublish`` (on_start) reads the result and finishes.

Hooks append to the file named by ``PRORCH_FAULT_JOURNAL`` (nothing when unset), one
line per event, each with one ``os.write`` on an ``O_APPEND`` descriptor so lines of
concurrent processes never interleave::

    <pid> <step uuid> <hook> <event> <unix time> <detail>

``on_start`` writes ``begin`` when it is entered and ``end`` once its work is done
(before it ends the step), or ``error``. A harness that kills a worker writes
``<pid> - worker killed <time the signal was sent>``. ``on_start`` pauses ``PRORCH_FAULT_HOOK_SECONDS`` (``"S"``
seconds, or ``"A:B"``: from A to B at random) so that kills land inside hooks, then, if
``PRORCH_FAULT_HOOK_GATE`` names a file, waits until that file exists.

A *concurrent duplicate* is an ``on_start begin`` for a step while another ``begin`` for
the same step has no ``end``/``error`` yet and its process had not been killed by the
time of the new ``begin``: two runs of the hook at the same time. A *re-run* is a later
``begin`` for a step whose earlier ``on_start`` ended or whose process was killed:
allowed after a crash (hooks are at-least-once), counted apart. A *skipped on_start* is a step that is ``finished`` (or
marked ``on_start_done``) without any ``on_start end`` line.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prorch_nb import (
    Metadata,
    OnContinueMixin,
    OnStartMixin,
    Pipeline,
    Status,
    Step,
    register_pipeline,
    register_step,
)
from prorch_nb.repositories.database import read_committed
from prorch_nb.repositories.json_file import parse_database
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.store import Store

JOURNAL_ENV = "PRORCH_FAULT_JOURNAL"
#: A file name: each on_start waits until that file exists (a test holds hooks open by it).
GATE_ENV = "PRORCH_FAULT_HOOK_GATE"
#: The table prefix when the database is a URL (each test, trial series or benchmark its own).
PREFIX_ENV = "PRORCH_FAULT_PREFIX"
HOOK_SECONDS_ENV = "PRORCH_FAULT_HOOK_SECONDS"
#: ``<step name>:<point>``: the process kills itself with SIGKILL at that point of that
#: step's on_start (points: ``begin``, ``end`` and ``finish``, after the step finished).
DIE_AT_ENV = "PRORCH_FAULT_DIE_AT"
KILLED = "killed"


# Journal writing ----------------------------------------------------------------------


def journal_line(
    step_uuid: str, hook: str, event: str, detail: str = "-", *, pid: int | None = None, at: float | None = None
) -> bytes:
    """One journal line (``detail`` must not contain blanks)."""
    return f"{pid or os.getpid()} {step_uuid} {hook} {event} {at or time.time():.6f} {detail}\n".encode()


def append_line(path: str | os.PathLike[str], line: bytes) -> None:
    """Append ``line`` with a single write on an ``O_APPEND`` descriptor."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def note(step_uuid: str, hook: str, event: str, detail: str = "-") -> None:
    """Journal one event of this process, if a journal is configured."""
    path = os.environ.get(JOURNAL_ENV)
    if path:
        append_line(path, journal_line(step_uuid, hook, event, detail))


def note_killed(journal: str | os.PathLike[str], pid: int, at: float) -> None:
    """Record that the harness sent SIGKILL to ``pid`` at time ``at`` (its open hooks ended then).

    Write it once the process is reaped; other processes may have appended lines
    meanwhile, so the analysis goes by ``at``, not by the line's place.
    """
    append_line(journal, journal_line("-", "worker", KILLED, pid=pid, at=at))


def hook_pause_seconds(setting: str) -> float:
    """Seconds an on_start pauses: ``"S"`` is exactly S, ``"A:B"`` anything from A to B."""
    low, _, high = setting.partition(":")
    return random.uniform(float(low), float(high)) if high else float(low or 0)


def _hook_pause() -> None:
    seconds = hook_pause_seconds(os.environ.get(HOOK_SECONDS_ENV, ""))
    if seconds > 0:
        time.sleep(seconds)
    gate = os.environ.get(GATE_ENV)
    while gate and not os.path.exists(gate):  # the test holds the hook until it creates the file
        time.sleep(0.01)


#: Called as ``AT_POINT(step, point)`` at each point of an on_start, if set (in-process tests).
AT_POINT: Callable[[Step, str], None] | None = None


def _at_point(step: Step, point: str) -> None:
    """Call :data:`AT_POINT`; SIGKILL this process if ``PRORCH_FAULT_DIE_AT`` names this point."""
    if AT_POINT is not None:
        AT_POINT(step, point)
    if os.environ.get(DIE_AT_ENV) == f"{step.name}:{point}":
        os.kill(os.getpid(), signal.SIGKILL)


def payload_for(pipeline_uuid: str) -> str:
    """What ``FaultFetch`` puts in the context of a run."""
    return f"payload-{pipeline_uuid[:8]}"


def result_for(pipeline_uuid: str) -> str:
    """What ``FaultTransform`` makes of the payload."""
    return f"result-{pipeline_uuid[:8]}"


class _JournalledStart(OnStartMixin):
    """``on_start`` framed by ``begin`` and ``end``/``error`` lines; subclasses define ``work``."""

    def on_start(self) -> None:
        note(self.uuid, "on_start", "begin")
        _at_point(self, "begin")
        try:
            _hook_pause()
            self.work()
        except BaseException as exc:
            note(self.uuid, "on_start", "error", type(exc).__name__)
            raise
        note(self.uuid, "on_start", "end")
        _at_point(self, "end")
        self.after_work()
        _at_point(self, "finish")

    def work(self) -> None:
        """The hook's work (journalled as done by the ``end`` line)."""

    def after_work(self) -> None:
        """What follows the work, such as ending the step."""

    def check_context(self, key: str, expected: str) -> None:
        """Journal whether ``context[key]`` holds what an earlier step left there."""
        found = self.context.get(key)
        note(self.uuid, "context", "ok" if found == expected else "missing", f"{key}={found}")


def _finish_on_second_poll(step: Step) -> None:
    """``on_continue`` of a step that waits one tick: count the polls in metadata, finish on the second."""
    note(step.uuid, "on_continue", "call")
    step.metadata["polls"] = step.metadata.get("polls", 0) + 1
    if step.metadata["polls"] >= 2:
        step.finish()


@register_step
class FaultAdmit(OnContinueMixin, Step):
    """Waits one tick (a counter in metadata), then finishes."""

    name = "FaultAdmit"

    def on_continue(self) -> None:
        _finish_on_second_poll(self)


@register_step
class FaultFetch(_JournalledStart, OnContinueMixin, Step):
    """Puts the payload in the context when started; finishes on its second on_continue."""

    name = "FaultFetch"

    def work(self) -> None:
        self.context["payload"] = payload_for(self.pipeline_uuid)

    def on_continue(self) -> None:
        _finish_on_second_poll(self)


@register_step
class FaultTransform(_JournalledStart, Step):
    """Reads the payload, writes the result to the context, finishes."""

    name = "FaultTransform"

    def work(self) -> None:
        self.check_context("payload", payload_for(self.pipeline_uuid))
        self.context["result"] = result_for(self.pipeline_uuid)

    def after_work(self) -> None:
        self.finish()


@register_step
class FaultPublish(_JournalledStart, Step):
    """Reads the result and finishes."""

    name = "FaultPublish"

    def work(self) -> None:
        self.check_context("result", result_for(self.pipeline_uuid))

    def after_work(self) -> None:
        self.finish()


@register_pipeline
class FaultFlow(Pipeline):
    """The journalled pipeline of the fault tests."""

    name = "FaultFlow"
    steps = [FaultAdmit, FaultFetch, FaultTransform, FaultPublish]


#: Names of the steps that have an on_start hook.
WITH_ON_START = frozenset(cls.name for cls in FaultFlow.step_classes() if issubclass(cls, OnStartMixin))


# Setting up runs ---------------------------------------------------------------------


def repository_for(db: str | os.PathLike[str]) -> type:
    """The repository of ``db``: a TinyDB file, or a database URL (tables named by ``$PRORCH_FAULT_PREFIX``)."""
    if is_url(db):
        return SQLRepository.at(os.fspath(db), prefix=os.environ.get(PREFIX_ENV, "prorch_"))
    return TinyDBRepository.at(db)


def is_url(db: str | os.PathLike[str]) -> bool:
    return "://" in os.fspath(db)


def create_runs(db: str | os.PathLike[str], count: int, *, start: bool = True) -> list[str]:
    """Store ``count`` new FaultFlow runs in ``db``; ``start`` gives each its first tick.

    Returns the uuids of the runs. The writes are batched (``Store.batch``).
    """
    repository_class = repository_for(db)
    uuids = []
    with Store(repository_class).batch():
        for _ in range(count):
            run = FaultFlow(repository_class=repository_class)
            if start:
                run.start()
            uuids.append(run.uuid)
    return uuids


# Reading the outcome -----------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    """A step as the database file has it."""

    uuid: str
    name: str
    status: str
    on_start_done: bool | None


@dataclass(frozen=True)
class RunState:
    """A run and its steps as the database file has them."""

    uuid: str
    status: str
    steps: tuple[StepState, ...]


def check_file(db: str | os.PathLike[str]) -> str | None:
    """``None`` if ``db`` is a complete database file (or a database URL), else what is wrong with it."""
    if is_url(db):
        return None
    try:
        raw = Path(db).read_bytes()
    except FileNotFoundError:
        return f"{db}: missing"
    try:
        parse_database(raw, os.fspath(db))
    except Exception as exc:
        return str(exc)
    return None


def read_runs(db: str | os.PathLike[str]) -> dict[str, RunState]:
    """Every run in ``db`` by uuid, read straight from the file and its journal, or the database (no cache)."""
    if is_url(db):
        repository = repository_for(db)
        tables = {name: dict(enumerate(repository(model).all())) for model, name in Metadata.TABLE_NAMES.items()}
    else:
        tables = read_committed(db)
    steps: dict[str, list[dict]] = defaultdict(list)
    for record in tables.get("pipeline_steps", {}).values():
        steps[record["pipeline_uuid"]].append(record)
    runs = {}
    for record in tables.get("pipelines", {}).values():
        ordered = sorted(steps[record["uuid"]], key=lambda step: step.get("position") or 0)
        states = tuple(StepState(s["uuid"], s["name"], s["status"], s.get("on_start_done")) for s in ordered)
        runs[record["uuid"]] = RunState(record["uuid"], record["status"], states)
    return runs


def pending_count(db: str | os.PathLike[str]) -> int:
    """How many runs in ``db`` are not ended yet."""
    return sum(run.status not in Status.ENDED for run in read_runs(db).values())


@dataclass(frozen=True)
class Entry:
    """One journal line."""

    pid: int
    step: str
    hook: str
    event: str
    at: float
    detail: str


def read_journal(path: str | os.PathLike[str]) -> list[Entry]:
    """The journal's lines in the order they were appended."""
    if not Path(path).exists():
        return []
    entries = []
    for line in Path(path).read_text().splitlines():
        pid, step, hook, event, at, detail = line.split(" ", 5)
        entries.append(Entry(int(pid), step, hook, event, float(at), detail))
    return entries


@dataclass
class JournalReport:
    """What a journal says about the hooks that ran."""

    #: (step uuid, pid of the second begin, pids whose begin was still open)
    concurrent_duplicates: list[tuple[str, int, tuple[int, ...]]] = field(default_factory=list)
    #: step uuids whose on_start began again after an earlier run ended or was killed
    reruns: list[str] = field(default_factory=list)
    #: (step uuid, pid) of on_start runs cut short by a kill
    interrupted: list[tuple[str, int]] = field(default_factory=list)
    #: (step uuid, pid) of ``end``/``error`` lines without an open ``begin`` of that pid
    unmatched_ends: list[tuple[str, int]] = field(default_factory=list)
    #: (step uuid, pid) of begins never ended by a process that was not killed
    unfinished: list[tuple[str, int]] = field(default_factory=list)
    #: step uuids whose ``check_context`` found the context without the earlier step's value
    context_missing: list[str] = field(default_factory=list)
    on_start_begins: Counter = field(default_factory=Counter)
    on_start_ends: Counter = field(default_factory=Counter)
    killed: set[int] = field(default_factory=set)

    def consistent(self) -> bool:
        """Every end has its begin and every begin an end (or a killed process)."""
        return not self.unmatched_ends and not self.unfinished


def analyse_journal(entries: list[Entry]) -> JournalReport:
    """Pair begins with ends per step and process, following the journal's order.

    An open ``begin`` of a killed process counts as running until the time of its kill.
    """
    report = JournalReport()
    killed_at = {entry.pid: entry.at for entry in entries if entry.event == KILLED}
    report.killed = set(killed_at)
    open_runs: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.hook == "context" and entry.event == "missing":
            report.context_missing.append(entry.step)
        elif entry.hook == "on_start" and entry.event == "begin":
            running = open_runs[entry.step]
            for pid in sorted(running):
                if pid != entry.pid and killed_at.get(pid, entry.at + 1) <= entry.at:
                    running.discard(pid)
                    report.interrupted.append((entry.step, pid))
            if running:
                report.concurrent_duplicates.append((entry.step, entry.pid, tuple(sorted(running))))
            elif report.on_start_begins[entry.step]:
                report.reruns.append(entry.step)
            running.add(entry.pid)
            report.on_start_begins[entry.step] += 1
        elif entry.hook == "on_start" and entry.event in ("end", "error"):
            if entry.pid not in open_runs[entry.step]:
                report.unmatched_ends.append((entry.step, entry.pid))
                continue
            open_runs[entry.step].discard(entry.pid)
            if entry.event == "end":
                report.on_start_ends[entry.step] += 1
    for step, pids in open_runs.items():
        for pid in sorted(pids):
            (report.interrupted if pid in killed_at else report.unfinished).append((step, pid))
    return report


def skipped_on_start(runs: dict[str, RunState], journal: JournalReport) -> list[StepState]:
    """Steps with an on_start that are finished (or marked done) with no ``on_start end``."""
    return [
        step
        for run in runs.values()
        for step in run.steps
        if step.name in WITH_ON_START
        and (step.status == Status.FINISHED or step.on_start_done)
        and not journal.on_start_ends[step.uuid]
    ]


def unknown_steps(runs: dict[str, RunState], entries: list[Entry]) -> set[str]:
    """Step uuids in the journal that no run in ``runs`` has."""
    known = {step.uuid for run in runs.values() for step in run.steps}
    return {entry.step for entry in entries if entry.step != "-"} - known
