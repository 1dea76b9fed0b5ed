"""Crash safety and several processes on one TinyDB file: real files, processes and SIGKILL.

The workload (``tests/faults/workload.py``) journals every hook call; the assertions are
about the database file and that journal. The slow tests also run in CI (``.ci/run``).
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from prorch_nb import Metadata, Orchestrator, OrchestratorConfig, Status, TinyDBRepository
from prorch_nb.claims import new_claimant
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.database import Database, read_committed
from prorch_nb.repositories.json_file import parse_database
from prorch_nb.store import Store
from tests.faults import workload
from tests.faults.driver import orchestrate
from tests.faults.workload import (
    DIE_AT_ENV,
    GATE_ENV,
    HOOK_SECONDS_ENV,
    JOURNAL_ENV,
    WITH_ON_START,
    FaultFlow,
    analyse_journal,
    check_file,
    create_runs,
    note_killed,
    pending_count,
    read_journal,
    read_runs,
    skipped_on_start,
    unknown_steps,
)
from tests.sql_databases import POSTGRES_URL, postgres_repository
from tests.waiting import PATIENCE

ROOT = Path(__file__).resolve().parents[1]
TRIALS = int(os.environ.get("PRORCH_FAULT_TRIALS", "200"))
POSTGRES_TRIALS = int(os.environ.get("PRORCH_FAULT_POSTGRES_TRIALS", "100"))


def worker_env(journal: Path, hook_seconds: str = "0", gate: Path | None = None, **extra: str) -> dict[str, str]:
    """Environment of a worker process: the package importable, hooks journalled (and held by ``gate``)."""
    held = {GATE_ENV: str(gate)} if gate else {}
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        JOURNAL_ENV: str(journal),
        HOOK_SECONDS_ENV: hook_seconds,
        **held,
        **extra,
    }


def spawn(*args: str, env: dict[str, str], stdin: bool = False) -> subprocess.Popen:
    """``python ARGS`` in the repository's root, output captured as text (``stdin``: a pipe to write to)."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def recover(db: Path, journal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh orchestrator in this process, journalled, until no run is pending."""
    monkeypatch.setenv(JOURNAL_ENV, str(journal))
    monkeypatch.setenv(HOOK_SECONDS_ENV, "0")
    assert orchestrate(str(db), lease_seconds=900.0, deadline_seconds=60.0) == 0


def unfinished(runs: dict[str, workload.RunState]) -> list[str]:
    """Uuids of runs that are not finished or have a step that is not."""
    return [
        run.uuid
        for run in runs.values()
        if run.status != Status.FINISHED or any(step.status != Status.FINISHED for step in run.steps)
    ]


# Several workers on one file ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_cli_workers_run_every_on_start_exactly_once(tmp_path, workers):
    db, journal = tmp_path / "runs.json", tmp_path / "journal.log"
    uuids = create_runs(db, 200)
    command = ["-m", "prorch_nb", "run", "--db", str(db), "--module", "tests.faults.workload", "--interval", "0.05"]
    procs = [spawn(*command, env=worker_env(journal, "0.003:0.012")) for _ in range(workers)]
    problems = []
    try:
        deadline = time.monotonic() + 300
        while (problem := check_file(db)) or pending_count(db):
            if problem:
                problems.append(problem)
            assert time.monotonic() < deadline, "the workers did not end every run in time"
            time.sleep(0.02)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=120) for proc in procs]

    assert [proc.returncode for proc in procs] == [0] * workers, outputs
    assert [err for _, err in outputs] == [""] * workers
    assert problems == []
    runs = read_runs(db)
    assert sorted(runs) == sorted(uuids)
    assert unfinished(runs) == []
    entries = read_journal(journal)
    report = analyse_journal(entries)
    assert report.concurrent_duplicates == []
    assert report.reruns == []  # nothing crashed: every on_start ran exactly once
    assert skipped_on_start(runs, report) == []
    assert report.consistent()
    assert unknown_steps(runs, entries) == set()
    with_on_start = {step.uuid for run in runs.values() for step in run.steps if step.name in WITH_ON_START}
    assert dict(report.on_start_ends) == dict.fromkeys(with_on_start, 1)
    assert report.context_missing == []


@pytest.mark.slow
@pytest.mark.parametrize("worker", ["process", "thread"])
def test_reading_never_waits_for_a_running_hook(tmp_path, worker, monkeypatch):
    """A worker's on_start is held open (until this test creates a gate file) while this
    test reads the store 30 times: every read completes, with the hook still running."""
    db, journal, gate = tmp_path / "runs.json", tmp_path / "journal.log", tmp_path / "gate"
    create_runs(db, 1)
    repository_class = TinyDBRepository.at(db)
    if worker == "process":
        proc = spawn("-m", "tests.faults.driver", "orchestrate", "--db", str(db), env=worker_env(journal, gate=gate))
        assert proc.stdout.readline() == "ready\n"
    else:
        monkeypatch.setenv(JOURNAL_ENV, str(journal))
        monkeypatch.setenv(GATE_ENV, str(gate))
        thread = threading.Thread(
            target=orchestrate, args=(str(db),), kwargs={"lease_seconds": 900.0, "deadline_seconds": 300.0}
        )
        thread.start()
    try:
        wait_until_a_hook_begins(journal)
        for _ in range(30):
            store = Store(repository_class)
            assert len(store.all_pipelines()) == 1
            assert len(store.all_steps()) == 4
        held = not any(entry.event == "end" for entry in read_journal(journal))
    finally:
        gate.touch()
        if worker == "process":
            assert proc.wait(timeout=300) == 0, proc.stderr.read()
        else:
            thread.join(timeout=300)

    assert held  # the 30 reads were made while the hook was still running
    assert unfinished(read_runs(db)) == []


@pytest.mark.slow
def test_a_long_hook_neither_blocks_other_writers_nor_hides_its_start(tmp_path):
    """While a worker's on_start is held open, another process (a notebook) sees the step
    started, and adds a run: the write completes while the hook still runs."""
    db, journal, gate = tmp_path / "runs.json", tmp_path / "journal.log", tmp_path / "gate"
    (uuid,) = create_runs(db, 1)
    proc = spawn("-m", "tests.faults.driver", "orchestrate", "--db", str(db), env=worker_env(journal, gate=gate))
    try:
        wait_until_a_hook_begins(journal, proc)
        seen = [step.status for step in read_runs(db)[uuid].steps]
        create_runs(db, 1, start=False)
        held = not any(entry.event == "end" for entry in read_journal(journal))
    finally:
        gate.touch()
        proc.communicate(timeout=300)

    assert held
    assert seen == [Status.FINISHED, Status.PENDING, Status.CREATED, Status.CREATED]


def wait_until_a_hook_begins(journal: Path, proc: subprocess.Popen | None = None) -> None:
    """Wait until the journal shows an on_start begun (the worker is inside a hook)."""
    deadline = time.monotonic() + 300
    while not any(entry.event == "begin" for entry in read_journal(journal)):
        assert time.monotonic() < deadline and (proc is None or proc.poll() is None), "no hook ever began"
        time.sleep(0.01)


# kill -9 -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("store", "workers", "trials"),
    [("tinydb", 1, TRIALS), ("tinydb", 2, max(TRIALS // 4, 1)), ("postgres", 2, POSTGRES_TRIALS)],
)
def test_kill_9_at_random_moments_then_every_run_ends(tmp_path, store, workers, trials):
    """``tests/faults/kill_trials.py``: a worker is killed in each trial, after a random delay
    in one trial of three, in a hook in the next and, in the third, outside hooks and writes.

    One worker: a restarted orchestrator (this host) ends every run. Two: the surviving
    worker takes the dead one's claims over and ends every run itself. PRORCH_FAULT_TRIALS
    (default 200) sets the number of one-worker trials; a quarter of it the two-worker ones.
    On PostgreSQL (``PRORCH_FAULT_POSTGRES_TRIALS``, default 100 trials, two workers) the
    kills aimed at the file store's lock are made after a random delay instead.
    """
    command = ["-m", "tests.faults.kill_trials", "--trials", str(trials), "--workers", str(workers)]
    with contextlib.ExitStack() as stack:
        if store == "postgres":  # on tables of the test's own, on the machine's PostgreSQL
            database = stack.enter_context(postgres_repository())
            command += ["--database", POSTGRES_URL, "--prefix", database.prefix]
        result = subprocess.run(
            [sys.executable, *command, "--seed", "7", "--folder", str(tmp_path)],
            cwd=ROOT,
            env=worker_env(tmp_path / "unused"),
            capture_output=True,
            text=True,
            timeout=3600,
        )
    print(result.stdout)
    summary = json.loads(result.stdout.splitlines()[-1].removeprefix("SUMMARY "))

    assert summary["trials"] == trials
    assert summary["recovered"] == trials
    if workers > 1:
        assert summary["ended_by_survivors"] == trials
    # Where a kill after a random delay lands depends on the machine's load: it is only
    # printed. One trial in three aims its kill at a hook (the hooks wait at a gate), one at
    # the store's lock (outside hooks and writes): those land there, whatever the load.
    aimed = (len(range(1, trials, 3)), len(range(2, trials, 3)) if store == "tinydb" else 0)
    assert (summary["aimed_at_hooks"], summary["aimed_at_the_lock"]) == aimed
    assert summary["landed_where_aimed"] == sum(aimed)
    assert summary["runs"] == 4 * trials
    for measure in [
        "stuck_runs",
        "lost_runs",
        "corrupt_files",
        "skipped_on_start",
        "concurrent_duplicates",
        "context_missing",
        "journal_inconsistencies",
        "worker_errors",
    ]:
        assert summary[measure] == 0, (measure, result.stdout)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["orchestrate", "tick"])
@pytest.mark.parametrize(
    "point",
    ["FaultFetch:begin", "FaultFetch:end", "FaultTransform:end", "FaultTransform:finish", "FaultPublish:finish"],
)
def test_kill_9_at_a_precise_point_of_a_hook(tmp_path, monkeypatch, mode, point):
    """A worker SIGKILLs itself inside an on_start; a restarted orchestrator ends the run.

    ``mode``: an orchestrator (passes in a batch) or plain ``run.start()`` calls, as in a
    notebook, where every unit of work is written at once.
    """
    db, journal = tmp_path / "runs.json", tmp_path / "journal.log"
    (uuid,) = create_runs(db, 1)
    proc = spawn("-m", "tests.faults.driver", mode, "--db", str(db), env=worker_env(journal, **{DIE_AT_ENV: point}))
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    note_killed(journal, proc.pid, time.time())  # it killed itself before this moment
    step_name = point.split(":")[0]
    step_uuid = next(step.uuid for step in read_runs(db)[uuid].steps if step.name == step_name)
    assert [e.event for e in read_journal(journal) if e.step == step_uuid and e.hook == "on_start"][-1] in (
        "begin",
        "end",
    )
    assert check_file(db) is None

    recover(db, journal, monkeypatch)

    assert check_file(db) is None
    runs = read_runs(db)
    assert unfinished(runs) == []
    report = analyse_journal(read_journal(journal))
    assert report.concurrent_duplicates == []
    assert skipped_on_start(runs, report) == []
    assert report.consistent()
    assert report.context_missing == []


def test_a_step_ended_by_its_hook_is_never_seen_without_the_context_that_hook_wrote(tmp_path, monkeypatch):
    """FaultTransform writes ``context["result"]`` then finishes; another worker (a thread
    here) ticks the run before the hook returns: it must find the result in the context."""
    db, journal = tmp_path / "runs.json", tmp_path / "journal.log"
    monkeypatch.setenv(JOURNAL_ENV, str(journal))
    repository_class = TinyDBRepository.at(db)
    (uuid,) = create_runs(db, 1)
    run = FaultFlow(repository_class=repository_class, pipeline_uuid=uuid)
    while read_runs(db)[uuid].steps[1].status != Status.FINISHED:
        run.start()

    def other_worker_ticks(step, point):
        if (step.name, point) == ("FaultTransform", "finish"):
            other = threading.Thread(target=FaultFlow(repository_class=repository_class, pipeline_uuid=uuid).start)
            other.start()
            other.join()

    monkeypatch.setattr(workload, "AT_POINT", other_worker_ticks)
    run.start()  # starts FaultTransform; the other worker starts FaultPublish meanwhile
    monkeypatch.setattr(workload, "AT_POINT", None)
    while run.refresh().status == Status.PENDING:
        run.start()

    report = analyse_journal(read_journal(journal))
    assert sum(report.on_start_ends.values()) == 3
    assert report.context_missing == []
    assert read_committed(db)["pipelines"]["1"]["context"]["result"] == workload.result_for(uuid)


# Claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["dead local process", "live local process", "other host"])
def test_a_claim_is_taken_over_when_its_process_is_dead_or_its_lease_has_passed(tmp_path, monkeypatch, owner):
    db, journal = tmp_path / "runs.json", tmp_path / "journal.log"
    monkeypatch.setenv(JOURNAL_ENV, str(journal))
    repository_class = TinyDBRepository.at(db)
    (uuid,) = create_runs(db, 1)
    FaultFlow(repository_class=repository_class, pipeline_uuid=uuid).start()  # FaultAdmit finishes
    fetch = read_runs(db)[uuid].steps[1]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    if owner == "dead local process":
        sleeper.kill()
        sleeper.wait()
    this_host = new_claimant().rsplit(":", 2)[0]
    host = "elsewhere.example" if owner == "other host" else this_host
    lease = datetime.now(timezone.utc) + timedelta(hours=1)
    steps = repository_class(Metadata.STEP_MODEL)
    with steps.unit_of_work():  # a worker started FaultFetch and died, hung or is far away
        steps.update(
            fetch.uuid,
            {
                "status": Status.PENDING,
                "on_start_done": False,
                "claimed_by": f"{host}:{sleeper.pid}:0badc0de",
                "claimed_until": lease.isoformat(),
            },
        )
    taken_at_once = owner == "dead local process"
    orchestrator = Orchestrator(OrchestratorConfig(repository_class=repository_class))
    try:
        first = orchestrator.execute_pipelines().outcomes
        began_at_once = analyse_journal(read_journal(journal)).on_start_begins[fetch.uuid]
        if not taken_at_once:
            with steps.unit_of_work():  # the lease passes (its end moved into the past, not waited for)
                past = datetime.now(timezone.utc) - timedelta(seconds=1)
                steps.update(fetch.uuid, {"claimed_until": past.isoformat()})
        orchestrator.execute_pipelines()
    finally:
        sleeper.kill()
        sleeper.wait()

    assert [outcome.busy for outcome in first] == [not taken_at_once]
    assert began_at_once == (1 if taken_at_once else 0)
    report = analyse_journal(read_journal(journal))
    assert report.on_start_begins[fetch.uuid] == 1  # taken over once, by this orchestrator
    assert report.on_start_ends[fetch.uuid] == 1
    assert read_runs(db)[uuid].steps[1].on_start_done is True


@pytest.mark.slow
def test_a_live_worker_in_another_pid_namespace_keeps_its_claim(tmp_path, monkeypatch):
    """Workers in containers sharing the host name but not the pids (``--network host``):
    the claim of the worker inside names a pid that does not exist outside. It must not
    be taken for a dead local worker's claim, or on_start runs twice at once. The hook
    inside is held open (gate file) while an orchestrator outside makes a pass."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--pid", "--fork", "true"]).returncode:
        pytest.skip("needs unshare --pid")
    db, journal, gate = tmp_path / "runs.json", tmp_path / "journal.log", tmp_path / "gate"
    (uuid,) = create_runs(db, 1)
    FaultFlow(repository_class=TinyDBRepository.at(db), pipeline_uuid=uuid).start()  # FaultFetch is next
    pid = next(pid for pid in range(3, 10_000) if not Path(f"/proc/{pid}").exists())
    forks = f"i=0; while [ $i -lt {pid - 2} ]; do /bin/true; i=$((i+1)); done"  # the worker gets `pid` inside
    inside = f"{forks}; {sys.executable} -m tests.faults.driver tick --db {db}"  # no batch: claims written at once
    env = worker_env(journal, gate=gate)
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "sh", "-c", inside], cwd=ROOT, env=env)
    try:
        wait_until_a_hook_begins(journal, proc)
        assert [entry.pid for entry in read_journal(journal)] == [pid]
        monkeypatch.setenv(JOURNAL_ENV, str(journal))  # a hook run outside would show as a duplicate
        outside = Orchestrator(OrchestratorConfig(repository_class=TinyDBRepository.at(db))).execute_pipelines()
        held = not any(entry.event == "end" for entry in read_journal(journal))  # the pass was made during the hook
    finally:
        gate.touch()
        assert proc.wait(timeout=300) == 0
    recover(db, journal, monkeypatch)

    assert held
    assert [outcome.busy for outcome in outside.outcomes] == [True]  # the claim inside was kept
    report = analyse_journal(read_journal(journal))
    assert report.concurrent_duplicates == []
    assert report.reruns == []
    assert unfinished(read_runs(db)) == []


# Corrupt files ---------------------------------------------------------------------------

CORRUPTIONS = {
    "truncated": (lambda good: good[: len(good) // 2], "not valid JSON, the file is truncated or corrupt"),
    "garbage": (lambda good: bytes(range(256)) * 3, "not valid JSON"),
    "empty": (lambda good: b"", "the file is empty (0 bytes)"),
    "blank": (lambda good: b" \n\n", "the file is empty (3 bytes)"),
    "a list": (lambda good: b"[]", "expected a JSON object of tables, found list"),
    "a table that is a list": (
        lambda good: b'{"pipelines": [], "pipeline_steps": {}}',
        "table 'pipelines' should map document ids to records, found list",
    ),
    "a record that is a string": (
        lambda good: b'{"pipelines": {"1": "x"}, "pipeline_steps": {}}',
        "table 'pipelines', document 1: expected a record (object), found str",
    ),
}


def good_database(folder: Path) -> bytes:
    """The bytes of a database with one started run, written in another file (journal folded in)."""
    create_runs(folder / "good.json", 1)
    Database.at(folder / "good.json").checkpoint()
    return (folder / "good.json").read_bytes()


def attempts(repository_class: type) -> dict:
    """Ways of reading and writing the store: each must raise StoreFileError."""
    return {
        "read pipelines": lambda: Store(repository_class).all_pipelines(),
        "get a record": lambda: repository_class(Metadata.PIPELINES_MODEL).get("x"),
        "create a run": lambda: FaultFlow(repository_class=repository_class),
        "save a record": lambda: repository_class(Metadata.PIPELINES_MODEL).save({"uuid": "u", "name": "n"}),
        "update a record": lambda: repository_class(Metadata.STEP_MODEL).update("x", {"status": "finished"}),
        "orchestrate": lambda: Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines(),
    }


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cached"])
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_file_raises_a_clear_error_and_is_never_overwritten(tmp_path, corruption, cached):
    """``cached``: this process had read the file before someone else corrupted it."""
    corrupt, problem = CORRUPTIONS[corruption]
    good = good_database(tmp_path)
    db = tmp_path / "runs.json"
    repository_class = TinyDBRepository.at(db)
    db.write_bytes(good)
    if cached:
        assert len(Store(repository_class).all_pipelines()) == 1
        time.sleep(0.01)  # a new modification time even on coarse clocks
    bad = corrupt(good)
    db.write_bytes(bad)

    for action, attempt in attempts(repository_class).items():
        with pytest.raises(StoreFileError) as raised:
            attempt()
        message = str(raised.value)
        assert message.startswith(f"{db}: "), (action, message)
        assert problem in message, (action, message)
        assert db.read_bytes() == bad, action
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "good.json",
        "good.json.lock",
        "runs.json",
        "runs.json.lock",
    ]

    db.write_bytes(good)  # repaired by hand: usable again
    assert [record.status for record in Store(repository_class).all_pipelines()] == [Status.PENDING]


@pytest.mark.parametrize("corruption", ["truncated", "empty", "a table that is a list"])
@pytest.mark.parametrize("command", ["status", "run"])
def test_the_cli_reports_a_corrupt_file_on_one_line(tmp_path, command, corruption):
    corrupt, problem = CORRUPTIONS[corruption]
    db = tmp_path / "runs.json"
    bad = corrupt(good_database(tmp_path))
    db.write_bytes(bad)
    args = ["--db", str(db)] + (["--module", "tests.faults.workload", "--once"] if command == "run" else [])

    result = subprocess.run(
        [sys.executable, "-m", "prorch_nb", command, *args],
        cwd=ROOT,
        env=worker_env(tmp_path / "journal.log"),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"prorch-nb: error: {db}: ")
    assert problem in result.stderr
    assert db.read_bytes() == bad


# Atomic replacement -----------------------------------------------------------------------


class Writer:
    """A ``tests.faults.driver commit`` process, told what to do line by line."""

    def __init__(self, db: Path, journal: Path) -> None:
        self.proc = spawn("-m", "tests.faults.driver", "commit", "--db", str(db), env=worker_env(journal), stdin=True)
        assert self.answer() == "ready"

    def tell(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def answer(self) -> str:
        line = self.proc.stdout.readline()
        assert line, f"the writer ended: {self.proc.stderr.read()}"
        return line.strip()


#: The committed state as the test reads it: each run's status and its steps' statuses, by uuid.
State = dict[str, tuple[str, tuple[str, ...]]]


def read_state(db: Path) -> State:
    """What a reader sees now: the file alone must parse (never partial), then file and journal."""
    parse_database(db.read_bytes(), str(db))  # raises if the file is ever partial
    return {uuid: (run.status, tuple(step.status for step in run.steps)) for uuid, run in read_runs(db).items()}


#: Rounds of the interleaving below; each adds one run per writer.
ROUNDS = 10


@pytest.mark.slow
def test_a_reader_never_sees_a_partial_file_and_concurrent_writers_lose_nothing(tmp_path):
    """Two processes write (a unit of work per write, as notebooks do) while this one reads
    the file, and the committed state (file and journal), after every commit and while a
    writer is halfway through rewriting the file.

    Each round, writer ``w`` creates a run and ticks it twice, then folds its journal into
    the file; halfway through that rewrite (file lock held) the other writer ``o`` is told
    to create a run, which must wait for the lock; then ``o`` ticks its run twice and folds.
    """
    db = tmp_path / "runs.json"
    create_runs(db, 1)
    expected = read_state(db)
    writers = [Writer(db, tmp_path / "journal.log"), Writer(db, tmp_path / "journal.log")]
    reads: list[State] = []  # every state read, in order
    pauses = []  # (command, how many times the writer paused in a rewrite while doing it)

    def check() -> None:
        """Read a few times: each read must see exactly the committed state ``expected``."""
        for _ in range(3):
            reads.append(read_state(db))
            assert reads[-1] == expected

    def finish(writer: Writer, command: str, paused: int = 0) -> str:
        """The writer's answer to ``command``, reading (and letting it go on) whenever it pauses in a rewrite."""
        while (answer := writer.answer()) == "rewriting":
            paused += 1
            check()  # the old file, whole, and the same committed state
            writer.tell("go")
        pauses.append((command, paused))
        return answer

    def do(writer: Writer, command: str) -> str:
        writer.tell(command)
        return finish(writer, command)

    F, P, C = Status.FINISHED, Status.PENDING, Status.CREATED
    try:
        for number in range(ROUNDS):
            w, o = writers[number % 2], writers[1 - number % 2]
            uuid = do(w, "create").removeprefix("created ")
            expected[uuid] = (C, (C, C, C, C))
            check()
            assert do(w, "tick") == "ticked"
            expected[uuid] = (P, (P, C, C, C))  # FaultAdmit started, waits a tick
            check()
            assert do(w, "tick") == "ticked"
            expected[uuid] = (P, (F, C, C, C))
            check()
            w.tell("fold")
            assert w.answer() == "rewriting"  # w holds the file lock, halfway through the new file
            check()
            o.tell("create")  # o must wait for the lock: its run cannot be committed yet
            check()
            w.tell("go")
            assert finish(w, "fold", paused=1) == "folded"
            other = finish(o, "create").removeprefix("created ")
            expected[other] = (C, (C, C, C, C))
            check()
            for after_tick in [(P, (P, C, C, C)), (P, (F, C, C, C))]:
                assert do(o, "tick") == "ticked"
                expected[other] = after_tick
                check()
            assert do(o, "fold") == "folded"
            check()
        for writer in writers:
            writer.tell("exit")
        outputs = [writer.proc.communicate(timeout=PATIENCE) for writer in writers]
    finally:
        for writer in writers:
            writer.proc.kill()
            writer.proc.wait()

    assert [writer.proc.returncode for writer in writers] == [0, 0], outputs
    assert [out for out, _ in outputs] == [f"created {ROUNDS} runs\n"] * 2
    assert [command for command, paused in pauses if paused] == ["fold"] * (2 * ROUNDS)  # each rewrote the file
    checks = 8 * ROUNDS + sum(paused for _, paused in pauses)  # after each command, and halfway through rewrites
    assert len(reads) == 3 * checks
    versions = [state for number, state in enumerate(reads) if not number or state != reads[number - 1]]
    assert len(versions) == 6 * ROUNDS  # every version each round made (2 runs created, ticked twice each)
    counts = [len(state) for state in reads]
    assert counts == sorted(counts)  # never an older version after a newer one
    assert len(expected) == 1 + 2 * ROUNDS
    assert read_state(db) == expected  # no writer lost another's run
