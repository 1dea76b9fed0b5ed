"""Worker processes for the fault tests: ``python -m tests.faults.driver COMMAND --db FILE``.

``orchestrate``
    Print ``ready``, then run ``Orchestrator.run_until_done()`` over and over until no
    run in the file is pending (a pass that changes nothing, because other workers hold
    the claims or steps wait, is not the end). Exit status 1 if a tick reported an error.
``tick``
    Like a notebook: ``run.start()`` on every pending run, round after round, until none
    is pending (no orchestrator, no batch: every unit of work is written at once).
``commit``
    Print ``ready``, then do what the test says, one command a line on stdin, and answer
    each on stdout once it is committed: ``create`` a run (``created <uuid>``), ``tick``
    the run created last (``ticked``, one ``run.start()`` outside any batch), ``fold``
    the journal into the file (one ``checkpoint()``; ``folded``), ``exit`` (``created
    N runs``). The journal is folded only when told, and a rewrite of the file pauses
    before each table's records (the file's first bytes are on their way): the worker
    prints ``rewriting`` and waits for a ``go`` line, so that the test reads while the
    new file is being written (and the file lock is held).
"""

from __future__ import annotations

import argparse
import sys
import time

from prorch_nb import Metadata, Orchestrator, OrchestratorConfig, Status
from prorch_nb.claims import DEFAULT_LEASE_SECONDS
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories import checkpoints
from prorch_nb.repositories.table import IndexedTable
from prorch_nb.store import Store
from tests.faults.workload import FaultFlow, repository_for


def orchestrate(db: str, *, lease_seconds: float, deadline_seconds: float) -> int:
    """Tick ``db`` until nothing is pending; returns the number of tick errors."""
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=repository_for(db)), lease_seconds=lease_seconds)
    pending = orchestrator.get_active_pipelines()  # connected (a database) and read: ready to work
    print("ready", flush=True)
    deadline = time.monotonic() + deadline_seconds
    errors = 0
    while pending:
        if time.monotonic() > deadline:
            print(f"deadline of {deadline_seconds} s passed with runs pending", file=sys.stderr)
            return errors + 1
        try:
            run = orchestrator.run_until_done()
            pending = orchestrator.get_active_pipelines()
        except StoreFileError as exc:  # the store failed a whole pass (a cut connection): as a worker, go on
            print(f"error: {exc}", file=sys.stderr, flush=True)
            errors += 1
            time.sleep(0.05)
            continue
        for error in run.errors:
            print(f"error: {error}", file=sys.stderr, flush=True)
        errors += len(run.errors)
        if not any(tick.changed for tick in run.ticks):
            time.sleep(0.005)  # others hold the claims, or steps wait: let them move
    return errors


def tick(db: str) -> None:
    """Tick every pending run of ``db`` with ``start()`` until none is pending."""
    repository_class = repository_for(db)
    store = Store(repository_class)
    print("ready", flush=True)
    while pending := store.pipelines_with_status(Status.PENDING):
        for record in pending:
            FaultFlow(repository_class=repository_class, pipeline_uuid=record.uuid).start()


def _answer(line: str) -> None:
    print(line, flush=True)


def _expect(word: str) -> None:
    line = sys.stdin.readline().strip()
    if line != word:
        raise SystemExit(f"expected {word!r} on stdin, got {line!r}")


def _pause_in_rewrites() -> list[bool]:
    """Make rewrites of the file wait for ``go`` before each table's records (tables write only the file).

    Returns a flag to clear to stop pausing (the fold at exit does not wait).
    """
    pausing = [True]
    records_of = IndexedTable.json_chunks

    def pausing_records(table: IndexedTable, *args, **kwargs):
        if pausing[0]:  # asked for the records: the file's first bytes, up to the table's name, are written
            _answer("rewriting")
            _expect("go")
        yield from records_of(table, *args, **kwargs)

    IndexedTable.json_chunks = pausing_records
    return pausing


def commit(db: str) -> int:
    """Create, tick and fold as the test says on stdin (see the module's docstring); returns the run count."""
    repository_class = repository_for(db)
    pipelines = repository_class(Metadata.PIPELINES_MODEL)  # its checkpoint() folds the whole file, once
    pausing = _pause_in_rewrites()
    _answer("ready")
    runs: list[FaultFlow] = []
    while (command := sys.stdin.readline().strip()) != "exit":
        if command == "create":
            runs.append(FaultFlow(repository_class=repository_class))
            _answer(f"created {runs[-1].uuid}")
        elif command == "tick":
            runs[-1].start()
            _answer("ticked")
        elif command == "fold":
            pipelines.checkpoint()
            _answer("folded")
        else:
            raise SystemExit(f"unknown command {command!r}")
    pausing[0] = False
    return len(runs)


def main(argv: list[str] | None = None) -> int:
    """Command line of the driver."""
    parser = argparse.ArgumentParser(prog="python -m tests.faults.driver")
    commands = parser.add_subparsers(dest="command", required=True)
    work = commands.add_parser("orchestrate")
    work.add_argument("--db", required=True)
    work.add_argument("--lease", type=float, default=DEFAULT_LEASE_SECONDS)
    work.add_argument("--deadline", type=float, default=300.0)
    ticks = commands.add_parser("tick")
    ticks.add_argument("--db", required=True)
    write = commands.add_parser("commit")
    write.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    if args.command == "commit":
        print(f"created {commit(args.db)} runs", flush=True)
        return 0
    # Fold whenever the journal outgrows the file, however small: the files here are small,
    # and kills must land in rewrites too.
    checkpoints.MIN_JOURNAL_TO_FOLD = 0
    if args.command == "orchestrate":
        return 1 if orchestrate(args.db, lease_seconds=args.lease, deadline_seconds=args.deadline) else 0
    tick(args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
