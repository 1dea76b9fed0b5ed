"""Workers on several hosts share one PostgreSQL database; one dies in a hook, the others finish.

Each worker (``tests.faults.driver orchestrate``) names another host in its claims
(``PRORCH_NB_HOST``), so none may take the others' processes for dead ones of its own:
a dead worker's claim can only run out. The first worker is killed with SIGKILL while
an ``on_start`` of it runs (seen in the hooks' journal, not guessed from time).
"""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from prorch_nb import Status
from prorch_nb.claims import HOST_ENV
from prorch_nb.store import Store
from tests.faults.workload import (
    HOOK_SECONDS_ENV,
    JOURNAL_ENV,
    PREFIX_ENV,
    analyse_journal,
    create_runs,
    note_killed,
    read_journal,
    read_runs,
)
from tests.sql_databases import POSTGRES_URL, postgres_repository
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 3.0


@pytest.mark.slow
def test_a_dead_hosts_claim_is_taken_over_only_when_its_lease_has_run_out(tmp_path, monkeypatch):
    with postgres_repository() as repository:
        monkeypatch.setenv(PREFIX_ENV, repository.prefix)
        journal = tmp_path / "hooks.log"
        uuids = create_runs(POSTGRES_URL, 12)
        env = {**os.environ, "PYTHONPATH": str(ROOT), JOURNAL_ENV: str(journal)}
        command = [sys.executable, "-m", "tests.faults.driver", "orchestrate", "--db", POSTGRES_URL]
        command += ["--lease", str(LEASE_SECONDS)]
        pauses = {"a": "300", "b": "0.05:0.2", "c": "0.05:0.2"}  # the first worker is surely in a hook when killed
        workers = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, HOST_ENV: f"host-{name}", HOOK_SECONDS_ENV: pause},
                stdout=subprocess.PIPE,
            )
            for name, pause in pauses.items()
        ]
        try:
            victim = workers[0]
            open_hook = wait_for(lambda: _open_hook_of(journal, victim.pid))  # it is inside an on_start
            claim = wait_for(lambda: Store(repository).step(open_hook))  # the victim's, its lease as renewed so far
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=300)
            note_killed(journal, victim.pid, time.time())
            last = Store(repository).step(open_hook)
            if last.claimed_by == claim.claimed_by:  # no survivor took it yet: the lease as the victim left it
                claim = last
            lease_end = datetime.fromisoformat(claim.claimed_until).timestamp()  # at most the one that ran out
            for survivor in workers[1:]:
                assert survivor.wait(timeout=300) == 0
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()

        runs = read_runs(POSTGRES_URL)
        assert {uuid: run.status for uuid, run in runs.items()} == dict.fromkeys(uuids, Status.FINISHED)
        entries = read_journal(journal)
        report = analyse_journal(entries)
        assert report.concurrent_duplicates == []
        takeover = next(e for e in entries if e.step == open_hook and e.event == "begin" and e.pid != victim.pid)
        assert takeover.at >= lease_end  # not a moment before the dead worker's lease ran out


def _open_hook_of(journal: Path, pid: int) -> str | None:
    """A step whose on_start ``pid`` began and has not ended, if any."""
    open_steps: dict[str, int] = {}
    for entry in read_journal(journal):
        if entry.pid == pid and entry.hook == "on_start":
            open_steps[entry.step] = open_steps.get(entry.step, 0) + (1 if entry.event == "begin" else -1)
    return next((step for step, count in open_steps.items() if count > 0), None)


@pytest.mark.slow
def test_workers_whose_connections_are_cut_reconnect_and_lose_nothing(tmp_path, monkeypatch):
    with postgres_repository() as repository:
        monkeypatch.setenv(PREFIX_ENV, repository.prefix)
        journal = tmp_path / "hooks.log"
        uuids = create_runs(POSTGRES_URL, 20)
        name = f"prorch-{repository.prefix}"
        url = f"{POSTGRES_URL}?application_name={name}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), JOURNAL_ENV: str(journal), HOOK_SECONDS_ENV: "0.02:0.1"}
        command = [sys.executable, "-m", "tests.faults.driver", "orchestrate", "--db", url]
        workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE) for _ in range(2)]
        cut = 0
        try:
            while any(worker.poll() is None for worker in workers) and cut < 200:
                if read_journal(journal):  # they are working: cut every connection they have
                    cut += _terminate_backends(name)
                time.sleep(0.05)
            for worker in workers:
                worker.wait(timeout=300)
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()

        assert cut > 0
        runs = read_runs(POSTGRES_URL)
        assert {uuid: run.status for uuid, run in runs.items()} == dict.fromkeys(uuids, Status.FINISHED)
        assert analyse_journal(read_journal(journal)).concurrent_duplicates == []


def _terminate_backends(application_name: str) -> int:
    """End every server process serving connections of ``application_name``; how many there were."""
    import sqlalchemy as sa

    from prorch_nb.repositories.sql_engine import database_url

    engine = sa.create_engine(database_url(POSTGRES_URL))
    activity = sa.table("pg_stat_activity", sa.column("pid"), sa.column("application_name"))
    ended = sa.select(sa.func.pg_terminate_backend(activity.c.pid)).where(
        activity.c.application_name == application_name
    )
    with engine.begin() as connection:
        count = len(connection.execute(ended).all())
    engine.dispose()
    return count
