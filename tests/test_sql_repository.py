"""What the SQL repository does beyond the engine's contract suite (which runs on it too)."""

import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from prorch_nb import Orchestrator, OrchestratorConfig, Status, TinyDBRepository
from prorch_nb.copying import copy_runs
from prorch_nb.exceptions.exceptions import ConcurrentChangeError, StoreFileError
from prorch_nb.repositories.sql_engine import database_url
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.store import Store
from tests.pipelines import Approval, Simple
from tests.sql_databases import POSTGRES_URL, fresh_prefix, postgres_repository, sqlite_repository, with_password

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def records(repository_class):
    store = Store(repository_class)
    return (
        sorted(store.pipelines.all(), key=lambda r: r["uuid"]),
        sorted(store.steps.all(), key=lambda r: r["uuid"]),
    )


@pytest.fixture
def postgres():
    with postgres_repository() as repository:
        yield repository


def test_runs_copied_to_sqlite_and_postgresql_and_back_are_the_same_runs(tmp_path, postgres):
    notebook = TinyDBRepository.at(tmp_path / "notebook.json")
    done, waiting = Simple(repository_class=notebook, context={"source": "orders"}), Approval(repository_class=notebook)
    Orchestrator(OrchestratorConfig(repository_class=notebook)).run_until_done()
    done.start()
    waiting.start()
    Orchestrator(OrchestratorConfig(repository_class=notebook)).run_until_done()
    embedded = sqlite_repository(tmp_path)

    first = copy_runs(notebook, embedded)
    again = copy_runs(notebook, embedded)
    copy_runs(embedded, postgres)
    back = TinyDBRepository.at(tmp_path / "back.json")
    copy_runs(postgres, back)

    assert (first.copied, again.copied, again.same) == (8, 0, 8)
    assert records(notebook) == records(embedded) == records(postgres) == records(back)
    Orchestrator(OrchestratorConfig(repository_class=postgres)).run_until_done()  # the copies go on running
    assert Store(postgres).pipeline(waiting.uuid).status == Status.PENDING


def test_a_copy_never_overwrites_what_the_target_changed_since(tmp_path):
    notebook, embedded = TinyDBRepository.at(tmp_path / "notebook.json"), sqlite_repository(tmp_path)
    run = Simple(repository_class=notebook)
    copy_runs(notebook, embedded)
    Simple(repository_class=embedded, pipeline_uuid=run.uuid).start()  # it moves on in the shared database

    report = copy_runs(notebook, embedded)

    assert report.copied == 0 and run.uuid in report.kept
    assert Store(embedded).pipeline(run.uuid).status == Status.PENDING
    assert "left as the target has them" in str(report)


def test_prefixes_keep_projects_apart_in_one_database(postgres):
    with postgres_repository() as other:
        mine = Simple(repository_class=postgres)
        theirs = Simple(repository_class=other)
        assert [r.uuid for r in Store(postgres).all_pipelines()] == [mine.uuid]
        assert [r.uuid for r in Store(other).all_pipelines()] == [theirs.uuid]


def test_a_postgresql_schema_holds_the_tables_when_asked(postgres):
    schema = fresh_prefix().rstrip("_")
    repository = SQLRepository.at(POSTGRES_URL, schema=schema)
    try:
        run = Simple(repository_class=repository)
        engine = sa.create_engine(database_url(POSTGRES_URL))
        with engine.connect() as connection:
            assert sa.inspect(connection).has_table("prorch_runs", schema=schema)
        engine.dispose()
        assert Store(repository).pipeline(run.uuid).status == Status.CREATED
    finally:
        repository("PIPELINE").database.drop()
        drop_schema(schema)


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Simple(repository_class=SQLRepository.at(url))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE prorch_schema SET version = 99"))
    engine.dispose()
    SQLRepository.at(url)("PIPELINE").database.__class__._open.clear()

    with pytest.raises(StoreFileError, match=r"schema version 99, newer than this prorch_nb knows \(2\)"):
        Simple(repository_class=SQLRepository.at(url))


@pytest.mark.parametrize("where", ["user", "query"])
def test_a_password_never_shows(postgres, where):
    secret_url = with_password(where)
    assert "s3cr3t-pw" in secret_url
    repository = SQLRepository.at(secret_url, prefix=fresh_prefix())

    with pytest.raises(StoreFileError) as refused:
        Simple(repository_class=repository)

    shown = [repr(repository), repository.__name__, repr(repository("PIPELINE")), str(refused.value)]
    assert all("s3cr3t-pw" not in text for text in shown), shown
    assert "***" in repository.__name__ and ":1/" in str(refused.value)


def test_a_bad_url_is_refused_without_echoing_it():
    with pytest.raises(ValueError, match="not a database URL") as refused:
        SQLRepository.at("not a url with s3cr3t")
    assert "s3cr3t" not in str(refused.value)


@pytest.mark.parametrize("url", ["mysql://bob:s3cr3t@host/db", "postgresql+asyncpg://host/db", "oracle://h/db"])
def test_a_database_prorch_nb_does_not_run_on_is_refused_by_name(url):
    with pytest.raises(ValueError, match=r"keeps runs in PostgreSQL or SQLite, not '\w+(\+\w+)?'") as refused:
        SQLRepository.at(url)
    assert "s3cr3t" not in str(refused.value)


def test_without_sqlalchemy_the_error_says_what_to_install():
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "from prorch_nb import SQLRepository\n"
        "try:\n    SQLRepository.at('sqlite:///x.db')\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (
        result.stdout.strip()
        == "SQLRepository needs SQLAlchemy: pip install 'prorch-nb[postgres]' (SQLAlchemy 2 and psycopg 3)"
    )


def test_a_write_based_on_a_stale_read_is_refused(postgres):
    run = Simple(repository_class=postgres)
    store = Store(postgres)

    changed = f"record {run.uuid} was changed by someone else"
    with pytest.raises(ConcurrentChangeError, match=changed), store.unit_of_work():
        store.pipelines.get(run.uuid)
        other = threading.Thread(
            target=lambda: Store(postgres).pipelines.update(run.uuid, {"metadata": {"by": "the other"}})
        )
        other.start()  # commits on a connection of its own while this unit is open
        other.join()
        store.pipelines.update(run.uuid, {"metadata": {"by": "this unit"}})

    assert store.pipeline(run.uuid).metadata == {"by": "the other"}


def test_a_worker_sleeping_on_postgresql_wakes_when_a_run_is_created(postgres):
    database = postgres("PIPELINE").database
    assert database.wait_for_change(0.01) is False  # listening from now on: nothing happened yet
    woken = []
    waiter = threading.Thread(target=lambda: woken.append(database.wait_for_change(300)))
    waiter.start()
    Simple(repository_class=postgres)
    waiter.join(timeout=300)
    assert woken == [True]


def test_a_pass_passes_over_runs_other_hosts_hold_and_takes_over_dead_local_claims(postgres):
    from prorch_nb.claims import this_host
    from prorch_nb.report import StopReason
    from tests.pipelines import Approval

    held, dead, free = (Approval(repository_class=postgres) for _ in range(3))
    for run in (held, dead, free):
        run.start()  # its first step finished: the waiting step is next
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid of no live process
    lease = "2999-01-01T00:00:00.000000+00:00"
    store = Store(postgres)
    for run, claimant in ((held, "far-away/pidns1:7:beef"), (dead, f"{this_host()}:{gone.pid}:dead")):
        with store.unit_of_work():
            store.steps.update(run.step_records()[1].uuid, {"claimed_by": claimant, "claimed_until": lease})

    report = Orchestrator(OrchestratorConfig(repository_class=postgres)).execute_pipelines()

    assert {o.pipeline_uuid for o in report.outcomes} == {dead.uuid, free.uuid}  # the dead claim is taken over
    assert report.held == [held.uuid]  # its worker is alive elsewhere, as far as anyone can tell
    assert Orchestrator(OrchestratorConfig(repository_class=postgres)).run_until_done().stopped_because in (
        StopReason.WAITING,
    )


def test_a_long_schema_and_prefix_still_wake_a_sleeping_worker(postgres):
    """PostgreSQL cuts channel names at 63 bytes: a long schema and prefix get a shortened one of their own."""
    schema, prefix = "s" + "x" * 40, fresh_prefix() + "y" * 29
    repository = SQLRepository.at(POSTGRES_URL, prefix=prefix, schema=schema)
    other = SQLRepository.at(POSTGRES_URL, prefix=prefix[:-1] + "z", schema=schema)
    database = repository("PIPELINE").database
    try:
        assert len(database.channel.encode()) <= 63 and database.channel != other("PIPELINE").database.channel
        assert database.wait_for_change(0.01) is False  # listening from now on
        woken = []
        waiter = threading.Thread(target=lambda: woken.append(database.wait_for_change(300)))
        waiter.start()
        Simple(repository_class=repository)
        waiter.join(timeout=300)
        assert woken == [True]
    finally:
        database.drop()
        other("PIPELINE").database.drop()
        drop_schema(schema)


def test_a_run_locked_by_the_unit_is_read_as_the_unit_last_wrote_it(postgres):
    run = Simple(repository_class=postgres)
    store = Store(postgres)

    with store.unit_of_work():
        assert store.pipelines.lock_run(run.uuid)
        store.pipelines.update(run.uuid, {"metadata": {"note": "written in the unit"}})
        assert store.pipelines.get(run.uuid)["metadata"] == {"note": "written in the unit"}


def test_processes_using_a_new_sqlite_file_at_once_all_create_their_runs(tmp_path):
    """Each creates the tables if they are missing: one at a time, under SQLite's write lock."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    script = (
        "import sys\nfrom prorch_nb import SQLRepository\nfrom tests.pipelines import Simple\n"
        "print(Simple(repository_class=SQLRepository.at(sys.argv[1])).uuid)\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    results = [process.communicate(timeout=300) for process in processes]

    assert [process.returncode for process in processes] == [0] * 6, [err.decode() for _, err in results]
    created = {out.decode().strip() for out, _ in results}
    assert {r.uuid for r in Store(SQLRepository.at(url)).all_pipelines()} == created


def test_a_refused_write_names_the_table_and_the_record(postgres):
    run = Simple(repository_class=postgres)

    with pytest.raises(StoreFileError, match=rf"{postgres.prefix}runs record {run.uuid}: UniqueViolation"):
        postgres("PIPELINE").save({"uuid": run.uuid, "name": "again", "status": Status.CREATED})


def drop_schema(schema: str) -> None:
    """Drop a PostgreSQL schema a test made, with what it holds."""
    engine = sa.create_engine(database_url(POSTGRES_URL))
    with engine.begin() as connection:
        connection.execute(sa.schema.DropSchema(schema, cascade=True))
    engine.dispose()
