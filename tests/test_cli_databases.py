"""The command line on a database URL: demo, status, a worker woken by NOTIFY, copy, and no password shown."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import Status, TinyDBRepository
from prorch_nb.store import Store
from tests.pipelines import Simple
from tests.sql_databases import POSTGRES_URL, postgres_repository, sqlite_repository, with_password
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]


def prorch_nb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "prorch_nb", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    """(URL, prefix, repository class) of fresh tables."""
    if request.param == "sqlite":
        repository = sqlite_repository(tmp_path)
        yield repository.url, repository.prefix, repository
    else:
        with postgres_repository() as repository:
            yield POSTGRES_URL, repository.prefix, repository


def test_demo_and_status_on_a_database(database, tmp_path):
    url, prefix, repository = database

    demo = prorch_nb("demo", "--db", url, "--prefix", prefix, cwd=tmp_path)
    status = prorch_nb("status", "--db", url, "--prefix", prefix, cwd=tmp_path)

    assert demo.returncode == 0, demo.stderr
    assert status.returncode == 0, status.stderr
    (run,) = Store(repository).all_pipelines()
    assert run.status == Status.FINISHED
    assert status.stdout.startswith(f"1 pipeline in {repository('PIPELINE').database.where}: 1 finished")


def test_a_worker_on_postgresql_wakes_as_soon_as_a_run_changes(tmp_path):
    with postgres_repository() as repository:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "prorch_nb", "run", "--db", POSTGRES_URL, "--prefix", repository.prefix]
        command += ["--module", "tests.pipelines", "--interval", "3000"]
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert "orchestrating" in worker.stdout.readline()  # it did its first round: now it sleeps
            run = Simple(repository_class=repository)
            run.start()  # a NOTIFY: the worker wakes long before its interval of 3000 s
            wait_for(lambda: run.refresh().status == Status.FINISHED)
        finally:
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err
    assert out.rstrip().endswith("stopped")


def test_copy_from_a_notebooks_file_to_a_database_and_back(database, tmp_path):
    url, prefix, _ = database
    notebook = TinyDBRepository.at(tmp_path / "notebook.json")
    runs = [Simple(repository_class=notebook) for _ in range(2)]
    runs[0].start()

    there = prorch_nb("copy", "--from", "notebook.json", "--to", url, "--prefix", prefix, cwd=tmp_path)
    again = prorch_nb("copy", "--from", "notebook.json", "--to", url, "--prefix", prefix, cwd=tmp_path)
    back = prorch_nb("copy", "--from", url, "--to", "back.json", "--prefix", prefix, cwd=tmp_path)

    assert (there.returncode, again.returncode, back.returncode) == (0, 0, 0), there.stderr + again.stderr
    assert there.stdout.endswith(": 8 records copied, 0 already there\n")
    assert again.stdout.endswith(": 0 records copied, 8 already there\n")
    copied = Store(TinyDBRepository.at(tmp_path / "back.json"))
    assert [r.uuid for r in copied.all_pipelines()] == [r.uuid for r in Store(notebook).all_pipelines()]
    assert [s.status for s in copied.steps_of(runs[0].uuid)] == [s.status for s in runs[0].step_records()]


@pytest.mark.parametrize("where", ["user", "query"])
def test_a_password_in_a_url_is_never_printed(tmp_path, where):
    secret = with_password(where)

    result = prorch_nb("status", "--db", secret, cwd=tmp_path)

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("prorch-nb: error: ") and "s3cr3t-pw" not in result.stderr
    assert "***" in result.stderr


def test_a_worker_on_sqlite_runs_what_is_pending_and_exits_with_once(tmp_path):
    repository = sqlite_repository(tmp_path)
    runs = [Simple(repository_class=repository) for _ in range(3)]
    for run in runs:
        run.start()

    worker = prorch_nb("run", "--db", repository.url, "--module", "tests.pipelines", "--once", cwd=ROOT)

    assert worker.returncode == 0, worker.stderr
    assert [run.refresh().status for run in runs] == [Status.FINISHED] * 3


def test_a_database_prorch_nb_does_not_run_on_is_one_line_on_stderr(tmp_path):
    result = prorch_nb("status", "--db", "mysql://bob@host/db", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "prorch-nb: error: prorch_nb keeps runs in PostgreSQL or SQLite, not 'mysql'; "
        "use postgresql://user@host/db or sqlite:///runs.db\n"
    )
