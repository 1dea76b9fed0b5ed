"""kill -9 trials: ``python -m tests.faults.kill_trials --trials 200 [--workers 2] [--seed S]``.

Each trial adds a few started FaultFlow runs to a database file (one file serves
``--trials-per-db`` trials), starts ``--workers`` worker processes (``tests.faults.driver
orchestrate``) whose on_start hooks pause for one of ``--hook-seconds``, waits until
they are ready and SIGKILLs the first. Where the kill is aimed goes round, trial after
trial (:data:`TARGETS`): after a random delay (seeded) about as long as the work (the
kill lands anywhere, or after the worker ended); in a hook (the on_starts wait at a gate
until the kill: the victim is killed in its first one); outside hooks and writes (this
process holds the store's lock from before the workers start: the victim is killed once
it waits for the lock; TinyDB files only). The other workers go on and must take its claims over. Then an
orchestrator in this process (same host: dead claims are taken over at once) runs until
nothing is pending.

Measures, over all trials: where the kill landed (``killed in hook``: an on_start of the
victim had begun and not ended; ``in flush``: it left a temporary file; ``elsewhere``:
engine code between hooks and passes; ``done before kill``: the worker had ended);
``aimed at hooks``/``at the lock`` (trials of those two kinds) and ``landed where aimed``
(of those, the ones whose kill landed in a hook, or elsewhere, as aimed);
``ended by survivors`` (trials the other workers finished alone); ``recovered`` (trials
after which every run was finished); ``stuck``/``lost runs``; ``corrupt files`` (checks
right after the kill and after recovery); ``skipped on start``, ``concurrent
duplicates``, ``on start reruns`` (allowed after a kill), ``context missing`` and
``journal inconsistencies`` (see ``workload.py``); ``temporary files left`` by kills.

Prints a table, then a last line ``SUMMARY {json}`` for tests. Exit status 0 when every
trial recovered with no corrupt file, no lost or stuck run, no skipped or concurrently
duplicated on_start and no lost context; 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from prorch_nb import Metadata, Status
from tests.faults.driver import orchestrate
from tests.faults.workload import (
    GATE_ENV,
    HOOK_SECONDS_ENV,
    JOURNAL_ENV,
    PREFIX_ENV,
    analyse_journal,
    check_file,
    create_runs,
    is_url,
    note_killed,
    read_journal,
    read_runs,
    repository_for,
    skipped_on_start,
    unknown_steps,
)

ROOT = Path(__file__).resolve().parents[2]
#: Where the kill of each trial is aimed, in turn (the module's docstring says how).
TARGETS = ("random", "hook", "lock")
#: Seconds to wait for a victim to reach where its kill is aimed (only so that nothing hangs forever).
PATIENCE = 300.0


@dataclass
class Summary:
    """Counts over all trials (the module's docstring says what each means)."""

    trials: int = 0
    killed_in_hook: int = 0
    killed_in_flush: int = 0
    killed_elsewhere: int = 0
    done_before_kill: int = 0
    aimed_at_hooks: int = 0
    aimed_at_the_lock: int = 0
    landed_where_aimed: int = 0
    ended_by_survivors: int = 0
    recovered: int = 0
    runs: int = 0
    stuck_runs: int = 0
    lost_runs: int = 0
    corrupt_files: int = 0
    skipped_on_start: int = 0
    concurrent_duplicates: int = 0
    on_start_reruns: int = 0
    context_missing: int = 0
    journal_inconsistencies: int = 0
    worker_errors: int = 0
    temporary_files_left: int = 0
    seconds: float = 0.0

    def ok(self) -> bool:
        """Whether every trial recovered with nothing lost, corrupt, skipped or doubled."""
        bad = (
            self.stuck_runs,
            self.lost_runs,
            self.corrupt_files,
            self.skipped_on_start,
            self.concurrent_duplicates,
            self.context_missing,
            self.journal_inconsistencies,
            self.worker_errors,
        )
        return self.recovered == self.trials and not any(bad)

    def table(self) -> str:
        """The counts as an aligned two-column table."""
        rows = [(name.replace("_", " "), value) for name, value in asdict(self).items()]
        width = max(len(name) for name, _ in rows)
        lines = [f"{'measure':<{width}}  value", f"{'-' * width}  -----"]
        lines += [
            f"{name:<{width}}  {value:.1f}" if isinstance(value, float) else f"{name:<{width}}  {value}"
            for name, value in rows
        ]
        return "\n".join(lines)


def _quiet_orchestrate(db: Path | str, deadline_seconds: float) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return orchestrate(str(db), lease_seconds=900.0, deadline_seconds=deadline_seconds)


def _temporary_files(db: Path | str) -> list[Path]:
    if is_url(db):
        return []
    return sorted(db.parent.glob(f"{db.name}.*.tmp"))


def _open_hooks_of(journal: Path, pid: int, since: int) -> int:
    """How many on_start runs of ``pid`` have a ``begin`` and no ``end``/``error``.

    Only journal lines from ``since`` on count: an earlier process may have had the same pid.
    """
    entries = [entry for entry in read_journal(journal)[since:] if entry.pid == pid and entry.hook == "on_start"]
    return sum(1 if entry.event == "begin" else -1 for entry in entries)


def _waits_for_a_lock(pid: int) -> bool:
    """Whether process ``pid`` is blocked waiting for a file lock (Linux's ``/proc/locks``)."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "->" and fields[5] == str(pid):
            return True
    return False


def _wait_until(condition) -> None:
    """Poll ``condition`` until it holds or :data:`PATIENCE` passed (a kill then lands where it may)."""
    deadline = time.monotonic() + PATIENCE
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.002)


def _unfinished(db: Path | str, uuids: list[str]) -> tuple[list[str], list[str]]:
    """Of ``uuids``: those missing from ``db``, and those not finished with every step."""
    runs = read_runs(db)
    lost = [uuid for uuid in uuids if uuid not in runs]
    stuck = [
        uuid
        for uuid in uuids
        if uuid in runs
        and (runs[uuid].status != Status.FINISHED or any(s.status != Status.FINISHED for s in runs[uuid].steps))
    ]
    return lost, stuck


def trial(db: Path | str, journal: Path, rng: random.Random, args: argparse.Namespace, summary: Summary) -> list[str]:
    """One kill-and-recover trial; returns the uuids of the runs it added.

    With ``--workers`` above 1 the first worker is killed and the others go on: they
    must take its claims over and end every run before the recovering orchestrator runs.
    """
    target = TARGETS[summary.trials % len(TARGETS)]
    if target == "lock" and is_url(db):
        target = "random"  # a database's own locking: there is no file lock to hold the workers at
    uuids = create_runs(db, args.runs_per_trial)
    temporary_before = set(_temporary_files(db))
    hook_seconds = rng.choice(args.hook_seconds)
    env = {**os.environ, "PYTHONPATH": str(ROOT), JOURNAL_ENV: str(journal), HOOK_SECONDS_ENV: f"0:{2 * hook_seconds}"}
    gate = Path(args.folder) / f"gate-{summary.trials}"
    if target == "hook":
        env[GATE_ENV] = str(gate)  # every on_start waits until the gate file exists: after the victim's kill
    command = [sys.executable, "-m", "tests.faults.driver", "orchestrate", "--db", str(db), "--deadline", "300"]
    since = len(read_journal(journal))  # the journal's lines from before this trial's workers
    with contextlib.ExitStack() as held:
        if target == "lock":  # no worker can write (nor so start a hook) until the victim is killed
            held.enter_context(repository_for(db)(Metadata.STEP_MODEL).unit_of_work())
        with open(Path(args.folder) / "worker-stderr.log", "ab") as stderr:
            workers = [
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr)
                for _ in range(args.workers)
            ]
        ready = [worker.stdout.readline().strip() == b"ready" for worker in workers if worker.stdout]
        victim = workers[0]
        if target == "hook":
            _wait_until(lambda: victim.poll() is not None or _open_hooks_of(journal, victim.pid, since) > 0)
        elif target == "lock":
            _wait_until(lambda: victim.poll() is not None or _waits_for_a_lock(victim.pid))
        else:  # about as long as the worker needs for the new runs: most kills land while it works
            time.sleep(rng.uniform(0, args.delay_base + 3 * args.runs_per_trial * hook_seconds))
        killed_at = time.time()
        if victim.poll() is None:
            os.kill(victim.pid, signal.SIGKILL)
        code = victim.wait()
        if code == -signal.SIGKILL:
            note_killed(journal, victim.pid, killed_at)
    if target == "hook":
        gate.touch()
    summary.corrupt_files += check_file(db) is not None
    for survivor in workers[1:]:
        summary.worker_errors += survivor.wait() != 0
    for worker in workers:
        if worker.stdout:
            worker.stdout.close()
    if len(workers) > 1:
        summary.ended_by_survivors += _unfinished(db, uuids) == ([], [])
    left = set(_temporary_files(db)) - temporary_before  # only a killed writer leaves one
    summary.temporary_files_left += len(left)
    landed = None
    if code == -signal.SIGKILL:
        if _open_hooks_of(journal, victim.pid, since) > 0:
            summary.killed_in_hook += 1
            landed = "hook"
        elif left:
            summary.killed_in_flush += 1
        else:
            summary.killed_elsewhere += 1
            landed = "lock"  # neither in a hook nor in a write: where a kill aimed at the lock lands
    elif code == 0 and all(ready):
        summary.done_before_kill += 1
    else:
        summary.worker_errors += 1
    if target != "random":
        summary.aimed_at_hooks += target == "hook"
        summary.aimed_at_the_lock += target == "lock"
        summary.landed_where_aimed += landed == target
    summary.worker_errors += _quiet_orchestrate(db, args.recovery_deadline)
    summary.corrupt_files += check_file(db) is not None
    lost, stuck = _unfinished(db, uuids)
    summary.lost_runs += len(lost)
    summary.stuck_runs += len(stuck)
    summary.recovered += not lost and not stuck
    summary.trials += 1
    return uuids


def run_trials(args: argparse.Namespace) -> Summary:
    """All trials in ``args.folder``; the journal is analysed once at the end."""
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    journal = folder / "journal.log"
    os.environ[JOURNAL_ENV] = str(journal)  # the recovering orchestrator journals its hooks too
    os.environ[HOOK_SECONDS_ENV] = "0"
    rng = random.Random(args.seed)
    summary = Summary()
    started = time.monotonic()
    databases: list[Path | str] = []
    if args.database:  # tables of this series' own, in a shared database
        os.environ[PREFIX_ENV] = args.prefix or f"kill{os.getpid()}_"
    for number in range(args.trials):
        db = args.database or folder / f"runs-{number // args.trials_per_db}.json"
        if db not in databases:
            databases.append(db)
        trial(db, journal, rng, args, summary)
        if args.progress and (number + 1) % 20 == 0:
            print(f"{number + 1} trials, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    entries = read_journal(journal)
    report = analyse_journal(entries)
    runs = {uuid: run for db in databases for uuid, run in read_runs(db).items()}
    summary.runs = len(runs)
    summary.skipped_on_start = len(skipped_on_start(runs, report))
    summary.concurrent_duplicates = len(report.concurrent_duplicates)
    summary.on_start_reruns = len(report.reruns)
    summary.context_missing = len(report.context_missing)
    summary.journal_inconsistencies = (
        len(report.unmatched_ends) + len(report.unfinished) + len(unknown_steps(runs, entries))
    )
    summary.seconds = time.monotonic() - started
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of the script."""
    parser = argparse.ArgumentParser(prog="python -m tests.faults.kill_trials", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=int(os.environ.get("PRORCH_FAULT_TRIALS", "200")))
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--folder", help="where the files go (default: a new temporary folder)")
    parser.add_argument("--workers", type=int, default=1, help="workers per trial; the first one is killed")
    parser.add_argument("--runs-per-trial", type=int, default=4)
    parser.add_argument("--trials-per-db", type=int, default=25)
    parser.add_argument("--database", help="a database URL (PostgreSQL, SQLite) instead of TinyDB files")
    parser.add_argument("--prefix", help="with --database: the tables' prefix (default: one of this process's own)")
    parser.add_argument(
        "--hook-seconds", type=float, nargs="+", default=[0.0, 0.001, 0.005, 0.02], help="on_start pauses to pick from"
    )
    parser.add_argument(
        "--delay-base", type=float, default=0.03, help="the kill comes 0 to this + 3 x runs x hook seconds after ready"
    )
    parser.add_argument("--recovery-deadline", type=float, default=PATIENCE)
    parser.add_argument("--progress", action="store_true", help="a line on stderr every 20 trials")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the trials, print the table and the summary line."""
    args = parse_args(argv)
    if args.folder is None:
        args.folder = tempfile.mkdtemp(prefix="prorch-kill-trials-")
    summary = run_trials(args)
    print(f"kill -9 trials, {args.workers} worker(s) each, in {args.folder} (seed {args.seed})")
    print(summary.table())
    print("SUMMARY " + json.dumps(asdict(summary)), flush=True)
    return 0 if summary.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
