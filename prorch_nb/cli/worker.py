"""``prorch-nb run``: import the user's pipelines, then orchestrate a database until stopped."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from prorch_nb.cli.opening import CliError, Database, open_store
from prorch_nb.cli.terminal import local_time, one_line
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.orchestrator.orchestrator import Orchestrator, OrchestratorConfig
from prorch_nb.report import RunReport, StopReason, TickReport
from prorch_nb.store import Store
from prorch_nb.utils import clock
from prorch_nb.utils.clock import parse_time, utc_now
from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid


class _Interrupted(Exception):
    """Raised by the signal handler to cut the sleep between rounds short."""


class StopSignals:
    """While active, SIGINT and SIGTERM ask the worker to stop.

    The current pass completes; a sleep between rounds ends at once by raising
    :class:`_Interrupted`. A second SIGINT during a pass raises ``KeyboardInterrupt``
    there and then (for a hook that hangs).
    """

    def __init__(self) -> None:
        self.requested = False
        self._sleeping = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._sleeping:
            self.requested = True
            raise _Interrupted
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def sleep(self, seconds: float, wait: Callable[[float], object] = clock.sleep) -> None:
        """``wait(seconds)`` unless a stop was asked for; a signal ends it with ``_Interrupted``."""
        self._sleeping = True
        try:
            if not self.requested:
                wait(seconds)
        finally:
            self._sleeping = False


def run(db: Database, module: str, *, interval: float, once: bool, max_ticks: int | None, fail_on_error: bool) -> int:
    """Orchestrate ``db`` with the pipelines of ``module``: one round if ``once``, else until a signal.

    Returns the exit status: 1 if ``fail_on_error`` and a run failed or a pass reported
    errors, else 0.
    """
    hint = f"; create runs first, e.g. MyPipeline(repository_class={db.python()})"
    store = open_store(db, missing=hint)
    import_user_module(module)
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=store.repository_class))
    log = _PassLog(every_pass=once)
    created = _CreatedRuns(store, db, module)
    with StopSignals() as stop:
        if once:
            report = orchestrator.run_until_done(max_ticks, on_tick=log, should_stop=lambda: stop.requested)
            print(_summary(report))
            created.note()
        else:
            every = f"a round every {interval:g} s or when a run is due; Ctrl-C or SIGTERM stops it"
            print(f"{_now()} orchestrating {db} with {module}, {every}", flush=True)
            with contextlib.suppress(_Interrupted):  # a signal during a sleep: stop at once
                _rounds(store, orchestrator, stop, log, created, interval=interval, max_ticks=max_ticks)
            print(f"{_now()} stopped", flush=True)
    return 1 if fail_on_error and log.saw_failure else 0


def _rounds(
    store: Store,
    orchestrator: Orchestrator,
    stop: StopSignals,
    log: _PassLog,
    created: _CreatedRuns,
    *,
    interval: float,
    max_ticks: int | None,
) -> None:
    """Round after round until a stop is asked for, each followed by a sleep (see :func:`pause`)."""
    store.wait_for_change(0)  # PostgreSQL: listen from now on, so that a change during the first round wakes it
    while not stop.requested:
        began, next_due = store.now(), None
        try:
            report = orchestrator.run_until_done(max_ticks, on_tick=log, should_stop=lambda: stop.requested)
            created.note()
            next_due = report.next_due
            log.next_due(next_due)
        except StoreFileError as exc:  # the store failed a whole round (a lost connection): try again
            log.failed_round(exc)
        # Each round ends with the file up to date (run_until_done folds a journal). A
        # database wakes the worker as soon as something changes (PostgreSQL's NOTIFY).
        stop.sleep(pause(next_due, began, store.now(), interval), store.wait_for_change)


def pause(next_due: str | None, round_began: datetime, now: datetime, interval: float) -> float:
    """Seconds a worker sleeps after a round: until the first waiting run is due, or ``interval``, whichever is first.

    A run that was due when the round began and is due still was ticked and did not move
    (its tick failed, or another worker holds its step): it gets the interval, so that the
    worker does not spin on it. One that came due during the round gets a round at once.
    """
    due = parse_time(next_due)
    if due is None:
        return interval
    if due > now:
        return min(interval, (due - now).total_seconds())
    return 0.0 if due > round_began else interval


class _PassLog:
    """Prints a timestamped line per pass, errors to stderr; remembers whether any run failed or pass reported errors.

    A pass that changed nothing and reported no error is left out unless ``every_pass``
    (a worker that loops would print one every round while steps wait).
    """

    def __init__(self, *, every_pass: bool) -> None:
        self.every_pass = every_pass
        self.passes = 0
        self.saw_failure = False
        self.told_due: str | None = None

    def __call__(self, _: int, report: TickReport) -> None:
        self.passes += 1
        failed = any(o.pipeline_after == Status.FAILED for o in report.ended)
        self.saw_failure = self.saw_failure or failed or bool(report.errors)
        for error in report.errors:
            print(f"{_now()} error: {one_line(str(error))}", file=sys.stderr, flush=True)
        if not (self.every_pass or report.changed or report.errors):
            return
        ended = ", ".join(f"{o.pipeline_name} {short_uuid(o.pipeline_uuid)} {o.pipeline_after}" for o in report.ended)
        print(
            f"{_now()} pass {self.passes}: {len(report.outcomes)} ticked, {len(report.advanced)} advanced, "
            f"{len(report.ended)} ended{f' ({ended})' if ended else ''}, {plural(len(report.errors), 'error')}",
            flush=True,
        )

    def next_due(self, due: str | None) -> None:
        """Say when the first waiting run is due, each time that changes (a looping worker sleeps until then)."""
        if due is not None and due != self.told_due:
            print(f"{_now()} waiting: the first waiting run is due at {local_time(due)}", flush=True)
        self.told_due = due

    def failed_round(self, error: StoreFileError) -> None:
        """A round the store could not make (the worker goes on with the next one)."""
        self.saw_failure = True
        print(f"{_now()} error: the round stopped: {one_line(str(error))}", file=sys.stderr, flush=True)


def import_user_module(name_or_path: str) -> None:
    """Import a dotted module name (the current folder first on the path) or a ``.py`` file."""
    path = Path(name_or_path)
    is_file = path.suffix == ".py" or path.parent != Path()
    if is_file and not path.is_file():
        raise CliError(f"no module file {name_or_path}")
    if is_file and path.stem in sys.modules:
        raise CliError(f"cannot import {name_or_path}: a module named {path.stem!r} is already loaded; rename the file")
    folder = str(path.resolve().parent) if is_file else os.getcwd()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        importlib.import_module(path.stem if is_file else name_or_path)
    except Exception as exc:
        raise CliError(f"cannot import {name_or_path}: {type(exc).__name__}: {one_line(str(exc))}") from exc


class _CreatedRuns:
    """Says how many runs are left ``created`` (a worker ticks pending runs only) and how to start them."""

    def __init__(self, store: Store, db: Database, module: str) -> None:
        self.store, self.db, self.module = store, db, module
        self.told = 0

    def note(self) -> None:
        """Print the number of created runs and an example of starting one, if it changed since last told."""
        uuids = self.store.pipeline_uuids_with_status(Status.CREATED)
        if len(uuids) == self.told:
            return
        self.told = len(uuids)
        if uuids:
            repository = self.db.python()
            print(
                f"{_now()} {plural(len(uuids), 'run')} left created: a worker ticks pending runs only. "
                f"Start each once from Python, with {self.module} imported: "
                f"prorch_nb.load_pipeline({uuids[0]!r}, {repository}).start()",
                flush=True,
            )


def _summary(report: RunReport) -> str:
    why = report.stopped_because
    if why == StopReason.ERRORS:
        why += f" ({'; '.join(one_line(str(error)) for error in report.ticks[-1].errors)})"
    if report.next_due:
        why += f"; the first waiting run is due at {local_time(report.next_due)}"
    return (
        f"{_now()} done: {plural(len(report.ticks), 'pass')}, {len(report.ended)} ended, "
        f"{plural(len(report.errors), 'error')}; stopped because {why}"
    )


def _now() -> str:
    return local_time(utc_now())
