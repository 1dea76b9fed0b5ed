"""``prorch-nb demo``: the backup automation pipeline, run to its end tick by tick."""

from __future__ import annotations

import sys

from prorch_nb.cli.opening import CliError, Database
from prorch_nb.cli.terminal import Terminal, header, local_time, plain
from prorch_nb.orchestrator.orchestrator import Orchestrator, OrchestratorConfig
from prorch_nb.store import Store
from prorch_nb.utils.constants import Status
from prorch_nb.utils.durations import duration_between
from prorch_nb.utils.history import ended_at, started_at
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid


def demo(db: Database, terminal: Terminal) -> None:
    """Create a run in ``db`` (earlier runs are kept), tick it to its end, print a table of it."""
    # Imported here: registering the example's names in every command would refuse a
    # user's module that defines steps of the same names (``prorch-nb run``).
    from prorch_nb.examples.backup import BackupAutomationPipeline

    if not db.is_url and not db.path.parent.is_dir():
        raise CliError(f"cannot create {db}: there is no folder {db.path.parent}")
    repository_class = db.repository()
    earlier = len(Store(repository_class).all_pipelines())  # a corrupt file stops the demo here, untouched
    kept = f" (keeping {plural(earlier, 'earlier run')})" if earlier else ""
    print(f"Demo database: {db if db.is_url else db.path.resolve()}{kept}")
    run = BackupAutomationPipeline(repository_class=repository_class)
    print(f"Created run {short_uuid(run.uuid)} of {run.name}: {', '.join(s.name for s in run.step_records())}\n")

    print("tick 1: run.start()", flush=True)
    print(f"  -> {run.start()}")
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=repository_class))
    tick = 1
    while run.refresh().status not in Status.ENDED:
        tick += 1
        print(f"tick {tick}: orchestrator.execute_pipelines()", flush=True)
        report = orchestrator.execute_pipelines()
        for outcome in report.outcomes:
            print(f"  -> {outcome}")
        for error in report.errors:
            print(f"  error: {error}", file=sys.stderr)
        if not report.changed:
            break

    print(f"\nRun {short_uuid(run.uuid)} {run.status} after {plural(tick, 'tick')}:\n")
    steps = run.step_records()
    rows = [header("#", "NAME", "STATUS", "STARTED", "ENDED", "DURATION")]
    for number, item in [("", run), *((f"{n}", step) for n, step in enumerate(steps, start=1))]:
        started, ended = started_at(item.history), ended_at(item.history)
        times = plain(
            local_time(started, precise=True), local_time(ended, precise=True), duration_between(started, ended)
        )
        rows.append([*plain(number, item.name or ""), terminal.mark(item.status), *times])
    print("\n".join(terminal.table(rows, indent="  ")))
    prefix = f" --prefix {db.prefix}" if db.prefix else ""
    print(f"\nSee it again with: prorch-nb status --db {db}{prefix}")
