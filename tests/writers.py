"""Programs that write one database file, each in its own process: ``python -m tests.writers WHO ...``.

``prorch_nb --db F create N [--then exit|kill]``
    Create N ``Simple`` runs and print their uuids, one per line; exit (folding at exit)
    or kill itself (the runs after the first stay in the unfolded journal).
``prorch_nb --db F work UUID... --then {exit,kill,wait}``
    Create one ``Simple`` run and start it, start each run UUID once, print the new
    run's uuid; then exit normally (the journal is folded at exit), kill itself with
    SIGKILL (the journal stays unfolded), or wait for a line on stdin, start every run
    it touched once more and exit.
``prorch_nb --db F handoff LIMIT``
    Create a ``HandOff`` run; tick it with files limited to LIMIT bytes (a disk that
    fills up), then without a limit run the orchestrator until done; print the errors,
    one per line.
``prorch_nb --db F fold-fails N``
    Create N runs, each commit followed by a fold that fails (files limited to the
    size of the file); print how many creations raised, and the last warning.
``prorch_nb --db F checkpoint [--keep file|journal] [--limit BYTES] [--then kill]``
    Fold the journal into the file (files limited to BYTES: a full disk; killed right
    after the new file replaced the old one, the journal not yet removed); a failure is
    printed as one ``error: <type>: ...`` line.
``tinydb --db F insert TABLE JSON`` / ``update TABLE UUID JSON`` / ``delete TABLE UUID``
    Plain TinyDB, opened for the one change and closed.
``prorch`` (working folder: the database's, which must be ``database.json``)
    prorch 1.0.1 with the seed's repository: ``create`` prints the uuid of a new run of
    its own ``Seeded`` pipeline started once; ``start UUID`` ticks that run once more;
    ``orchestrate`` makes one orchestrator pass and prints ``orchestrated`` or the error.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys


def prorch_nb_writer(args: argparse.Namespace) -> None:
    from prorch_nb import TinyDBRepository, checkpoint
    from prorch_nb.exceptions.exceptions import ProrchError
    from tests.pipelines import Simple

    runs = TinyDBRepository.at(args.db)
    if args.action == "create":
        for _ in range(int(args.values[0])):
            print(Simple(repository_class=runs).uuid, flush=True)
        if args.then == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return
    if args.action == "checkpoint":
        if args.limit:
            limit_file_sizes(args.limit)
        if args.then == "kill":  # killed between the rename of the new file and the journal's removal
            from prorch_nb.repositories.journal import Journal

            Journal.remove = lambda self: os.kill(os.getpid(), signal.SIGKILL)
        try:
            checkpoint(runs, keep=args.keep)
        except ProrchError as exc:
            print(f"error: {type(exc).__name__}: {exc}", flush=True)
        return
    if args.action == "handoff":
        handoff(runs, int(args.values[0]))
        return
    if args.action == "fold-fails":
        fold_fails(runs, int(args.values[0]))
        return
    new = Simple(repository_class=runs)
    touched = [new, *(Simple(repository_class=runs, pipeline_uuid=uuid) for uuid in args.values)]
    for run in touched:
        run.start()
    print(new.uuid, flush=True)
    if args.then == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if args.then == "wait":
        sys.stdin.readline()
        for run in touched:
            run.start()


def limit_file_sizes(limit: int) -> None:
    """Writes past ``limit`` bytes fail with EFBIG, as on a full disk (SIGXFSZ ignored)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def handoff(runs: type, limit: int) -> None:
    from prorch_nb import Orchestrator, OrchestratorConfig
    from prorch_nb.exceptions.exceptions import StoreFileError
    from tests.pipelines import HandOff

    run = HandOff(repository_class=runs)
    limit_file_sizes(limit)
    try:
        run.start()  # its first step hands on more than the disk can take
    except StoreFileError as exc:
        print(f"{type(exc).__name__}: {exc}", flush=True)
    limit_file_sizes(resource.RLIM_INFINITY)  # space freed
    for error in Orchestrator(OrchestratorConfig(repository_class=runs)).run_until_done().errors:
        print(error, flush=True)


def fold_fails(runs: type, count: int) -> None:
    import warnings

    from prorch_nb import checkpoint
    from prorch_nb.repositories.database import Database
    from tests.pipelines import Simple

    for _ in range(50):
        Simple(repository_class=runs)
    checkpoint(runs)
    limit_file_sizes(os.path.getsize(runs.path))  # the journal can grow a little, a rewrite cannot be written
    Database._outgrown = lambda self: True  # every commit is followed by a fold
    raised = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(count):
            try:
                Simple(repository_class=runs)
            except Exception:
                raised += 1
    print(f"{raised} raised", flush=True)
    print(caught[-1].message if caught else "no warning", flush=True)


def tinydb_writer(args: argparse.Namespace) -> None:
    from tinydb import TinyDB, where

    action, table_name, *values = args.values
    with TinyDB(args.db) as db:
        table = db.table(table_name)
        if action == "insert":
            table.insert(json.loads(values[0]))
        elif action == "update":
            table.update(json.loads(values[1]), where("uuid") == values[0])
        else:
            table.remove(where("uuid") == values[0])


def prorch_writer(args: argparse.Namespace) -> None:
    from prorch.decorators.decorators import register_pipeline, register_step
    from prorch.mixins.on_start import OnStartMixin
    from prorch.pipeline.pipeline import Pipeline
    from prorch.step.step import Step

    from tests.seed_repository import seed_repository

    @register_step
    class Hello(OnStartMixin, Step):
        name = "Hello"

        def on_start(self):
            self.finish()

    @register_pipeline
    class Seeded(Pipeline):
        name = "Seeded"
        steps = [Hello, Hello]

    repository = seed_repository("prorch")
    if args.action == "create":
        run = Seeded(repository_class=repository)
        run.start()
        print(run.uuid, flush=True)
    elif args.action == "start":
        Seeded(repository_class=repository, pipeline_uuid=args.values[0]).start()
    else:
        from prorch.dataclasses.orchestrator import OrchestratorConfig
        from prorch.orchestrator.orchestrator import Orchestrator

        try:
            Orchestrator(config=OrchestratorConfig(repository_class=repository)).execute_pipelines()
            print("orchestrated", flush=True)
        except Exception as exc:
            print(f"{type(exc).__name__}: {exc}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.writers")
    parser.add_argument("who", choices=["prorch_nb", "tinydb", "prorch"])
    parser.add_argument("--db", default="database.json")
    parser.add_argument("--then", choices=["exit", "kill", "wait"], default="exit")
    parser.add_argument("--keep", choices=["file", "journal"])
    parser.add_argument("--limit", type=int)
    parser.add_argument("action")
    parser.add_argument("values", nargs="*")
    args = parser.parse_args()
    if args.who == "tinydb":
        args.values = [args.action, *args.values]
    {"prorch_nb": prorch_nb_writer, "tinydb": tinydb_writer, "prorch": prorch_writer}[args.who](args)


if __name__ == "__main__":
    main()
