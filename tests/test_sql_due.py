"""Runs that wait, on SQLite and PostgreSQL: the due_at column, passes that read only due runs, schema 1 -> 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from prorch_nb import FakeClock, InMemoryRepository, Metadata, Orchestrator, OrchestratorConfig, Status, use_clock
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.sql_engine import database_url
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.store import Store
from prorch_nb.utils.clock import as_datetime, utc_at
from tests import durable_pipelines as d
from tests.pipelines import Simple
from tests.sql_databases import POSTGRES_URL, fresh_prefix, postgres_repository, require_postgres, sqlite_repository

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The fake clock's start, far from any real time: a statement comparing with the database's clock would show.
START = as_datetime("2999-06-01T09:00:00+00:00").timestamp()


def at(seconds: float) -> str:
    """The stored time ``seconds`` after START."""
    return utc_at(START + seconds)


@contextmanager
def sql_repository(dialect: str, tmp_path):
    """A repository class on fresh tables of ``dialect``."""
    if dialect == "postgres":
        with postgres_repository() as repository:
            yield repository
    else:
        yield sqlite_repository(tmp_path)


def due_column(repository) -> dict[str, datetime | None]:
    """Each run's ``due_at`` column, by uuid (in UTC)."""
    database = repository(Metadata.PIPELINES_MODEL).database
    runs = database.tables.by_model[Metadata.PIPELINES_MODEL]
    rows = database.read(lambda c: c.execute(sa.select(runs.c.uuid, runs.c.due_at)).all())
    return {uuid: None if due is None else as_datetime(due) for uuid, due in rows}


def counting(repository):
    """A subclass of ``repository`` counting the uuids each read is for, and the calls of reads of many records."""

    class Counting(repository):
        read: Counter = Counter()

        def get(self, uuid):
            Counting.read[uuid] += 1
            return super().get(uuid)

        def statuses_of(self, uuids):
            Counting.read.update(uuids)
            return super().statuses_of(uuids)

        def search(self, filter):
            Counting.read[f"search {filter[0]}"] += 1
            return super().search(filter)

        def all(self):
            Counting.read["all"] += 1
            return super().all()

    return Counting


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_the_due_at_column_follows_the_record_in_utc(dialect, tmp_path):
    with use_clock(FakeClock(START)), sql_repository(dialect, tmp_path) as repository:
        run = d.Timer(repository_class=repository, context={"until": "2999-06-01T11:00:00+02:00"})
        assert due_column(repository) == {run.uuid: None}

        run.start()
        assert due_column(repository) == {run.uuid: as_datetime(at(0))}  # 11:00 at +02:00: START, in UTC
        runs = repository(Metadata.PIPELINES_MODEL)
        runs.update(run.uuid, {"due_at": "not a time"})  # by hand: due at every pass (its tick decides)
        assert due_column(repository) == {run.uuid: None} and runs.due_uuids(at(0)) == [run.uuid]
        run.send("approval", {"by": "ann"})
        assert due_column(repository) == {run.uuid: None} and run.refresh().record.due_at is None


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_a_pass_reads_no_run_that_waits_nor_its_steps(dialect, tmp_path):
    with use_clock(FakeClock(START)) as clock, sql_repository(dialect, tmp_path) as repository:
        waiting = [d.Timer(repository_class=repository, context={"until": at(600)}) for _ in range(3)]
        for run in waiting:
            run.start()
        engine = repository(Metadata.PIPELINES_MODEL).database.engine
        statements: list[str] = []

        def counted(_connection, _cursor, statement, *_):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", counted)
        try:
            idle = Orchestrator(OrchestratorConfig(repository_class=repository)).execute_pipelines()
            with_three = len(statements)
            for run in [d.Timer(repository_class=repository, context={"until": at(600)}) for _ in range(20)]:
                run.start()
                waiting.append(run)
            statements.clear()
            Orchestrator(OrchestratorConfig(repository_class=repository)).execute_pipelines()
            with_twenty_three = len(statements)
        finally:
            sa.event.remove(engine, "before_cursor_execute", counted)
        due = d.Timer(repository_class=repository, context={"until": at(5)})
        due.start()
        clock.advance(5)
        reading = counting(repository)

        report = Orchestrator(OrchestratorConfig(repository_class=reading)).execute_pipelines()

    assert (idle.outcomes, idle.held, with_three) == ([], [], with_twenty_three)  # as many statements for 23 as for 3
    assert [o.pipeline_uuid for o in report.outcomes] == [due.uuid] and report.held == []
    read_waiting = {run.uuid for run in waiting} | {uuid for run in waiting for uuid in run.record.step_uuids}
    assert not read_waiting & set(reading.read), reading.read
    assert not {key for key in reading.read if key == "all" or key.startswith("search")}
    assert report.outcomes[0].step_after == Status.FINISHED


# Schema version 1 -> 2 ------------------------------------------------------------------

#: The tables prorch_nb's schema version 1 made, as it made them.
V1_TABLES = """
CREATE TABLE {p}runs (uuid VARCHAR(64) NOT NULL PRIMARY KEY, seq {seq} NOT NULL, name TEXT, status VARCHAR(32),
    created_at VARCHAR(40), version INTEGER NOT NULL, record {json} NOT NULL);
CREATE INDEX {p}runs_by_status ON {p}runs (status, seq);
CREATE INDEX {p}runs_by_name ON {p}runs (name);
CREATE TABLE {p}steps (uuid VARCHAR(64) NOT NULL PRIMARY KEY, seq {seq} NOT NULL, name TEXT, status VARCHAR(32),
    created_at VARCHAR(40), version INTEGER NOT NULL, record {json} NOT NULL, pipeline_uuid VARCHAR(64),
    position INTEGER, claimed_by VARCHAR(255), lease_until {time});
CREATE INDEX {p}steps_by_pipeline ON {p}steps (pipeline_uuid, position);
CREATE INDEX {p}steps_by_status ON {p}steps (status);
CREATE TABLE {p}schema (version INTEGER NOT NULL);
INSERT INTO {p}schema (version) VALUES (1)
"""
V1_TYPES = {
    "sqlite": {"seq": "INTEGER", "json": "JSON", "time": "DATETIME"},
    "postgresql": {
        "seq": "BIGINT GENERATED BY DEFAULT AS IDENTITY",
        "json": "JSONB",
        "time": "TIMESTAMP WITH TIME ZONE",
    },
}


def runs_made_elsewhere() -> tuple[list[dict], list[dict], dict[str, str]]:
    """Run and step records of three runs, made in memory (at START): waiting until +600 s, until +5 s, finished.

    The finished one's ``due_at`` is a number, as a hand might write it: no time.
    """
    memory = InMemoryRepository.fresh()
    later, soon = (d.Timer(repository_class=memory, context={"until": at(s)}) for s in (600, 5))
    done = Simple(repository_class=memory)
    for run in (later, soon):
        run.start()
    while done.refresh().status != Status.FINISHED:
        done.start()
    store = Store(memory)
    store.pipelines.update(done.uuid, {"due_at": 29990601})
    return store.pipelines.all(), store.steps.all(), {"later": later.uuid, "soon": soon.uuid, "done": done.uuid}


def version_1_database(url: str, prefix: str, runs: list[dict], steps: list[dict]) -> None:
    """Schema version 1's tables under ``prefix``, holding ``runs`` and ``steps`` as version 1 stored them."""
    engine = sa.create_engine(database_url(url))
    dialect = engine.dialect.name
    record = "CAST(:record AS JSONB)" if dialect == "postgresql" else ":record"
    seq = "" if dialect == "postgresql" else ":seq"  # PostgreSQL's identity numbers them
    with engine.begin() as connection:
        for statement in V1_TABLES.format(p=prefix, **V1_TYPES[dialect]).split(";"):
            connection.exec_driver_sql(statement)
        for table, records, extra in (("runs", runs, ""), ("steps", steps, ", pipeline_uuid, position, claimed_by")):
            names = f"uuid{', seq' if seq else ''}, name, status, created_at, version, record{extra}"
            values = f":uuid{', ' + seq if seq else ''}, :name, :status, :created_at, 1, {record}"
            values += ", :pipeline_uuid, :position, :claimed_by" if extra else ""
            insert = sa.text(f"INSERT INTO {prefix}{table} ({names}) VALUES ({values})")
            for number, data in enumerate(records, start=1):
                columns = {key: data.get(key) for key in ("uuid", "name", "status", "created_at", "pipeline_uuid")}
                columns.update(position=data.get("position"), claimed_by=data.get("claimed_by"))
                connection.execute(insert, {**columns, "seq": number, "record": json.dumps(data)})
    engine.dispose()


@contextmanager
def version_1(dialect: str, tmp_path):
    """The URL and prefix of a schema version 1 database holding :func:`runs_made_elsewhere`, and those runs."""
    if dialect == "postgres":
        require_postgres()
    url = POSTGRES_URL if dialect == "postgres" else f"sqlite:///{tmp_path / 'v1.db'}"
    prefix = fresh_prefix()
    made = runs_made_elsewhere()
    try:
        version_1_database(url, prefix, made[0], made[1])
        yield url, prefix, made
    finally:
        SQLRepository.at(url, prefix=prefix)(Metadata.PIPELINES_MODEL).database.drop()


def schema_of(url: str, prefix: str) -> tuple[list[int], set[str], list[str]]:
    """The versions in the schema table, the runs' index names and its column names, as the database has them."""
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            versions = list(connection.scalars(sa.text(f"SELECT version FROM {prefix}schema")))
            inspector = sa.inspect(connection)
            indexes = {index["name"] for index in inspector.get_indexes(f"{prefix}runs")}
            columns = [column["name"] for column in inspector.get_columns(f"{prefix}runs")]
    finally:
        engine.dispose()
    return versions, indexes, columns


def by_uuid(records: list[dict]) -> dict[str, dict]:
    return {record["uuid"]: record for record in records}


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_a_version_1_database_is_migrated_on_first_use_and_its_runs_go_on(dialect, tmp_path):
    with use_clock(FakeClock(START)) as clock, version_1(dialect, tmp_path) as (url, prefix, made):
        runs, steps, uuid = made
        clock.advance(5)
        repository = SQLRepository.at(url, prefix=prefix)
        store = Store(repository)

        assert store.due_run_uuids(store.now()) == [uuid["soon"]]
        assert store.next_due() == at(5)
        assert schema_of(url, prefix)[0] == [2]
        assert f"{prefix}runs_due" in schema_of(url, prefix)[1] and "due_at" in schema_of(url, prefix)[2]
        due = {uuid["later"]: as_datetime(at(600)), uuid["soon"]: as_datetime(at(5)), uuid["done"]: None}
        assert due_column(repository) == due
        assert by_uuid(store.pipelines.all()) == by_uuid(runs) and by_uuid(store.steps.all()) == by_uuid(steps)

        clock.advance(595)
        report = Orchestrator(OrchestratorConfig(repository_class=repository)).run_until_done()
        assert report.next_due is None
        statuses = {name: store.pipeline(run_uuid).status for name, run_uuid in uuid.items()}
        assert statuses == {"later": Status.FINISHED, "soon": Status.FINISHED, "done": Status.FINISHED}


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_processes_opening_a_version_1_database_at_once_migrate_it_once(dialect, tmp_path):
    script = (
        "import sys\nfrom prorch_nb import SQLRepository\nfrom prorch_nb.store import Store\n"
        "print(Store(SQLRepository.at(sys.argv[1], prefix=sys.argv[2])).next_due())\n"
    )
    with version_1(dialect, tmp_path) as (url, prefix, _):
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, url, prefix], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        results = [process.communicate(timeout=300) for process in processes]

        assert [process.returncode for process in processes] == [0] * 4, [err.decode() for _, err in results]
        assert {out.decode().strip() for out, _ in results} == {at(5)}
        versions, _, columns = schema_of(url, prefix)
        assert versions == [2] and columns.count("due_at") == 1


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ("UPDATE prorch_schema SET version = 0", r"\(prorch_schema\) have schema version 0, which no prorch_nb writes"),
        ("DELETE FROM prorch_schema", r"prorch_schema holds no schema version"),
    ],
)
def test_a_schema_version_below_1_or_none_is_refused_by_name(tmp_path, change, refusal):
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    version_1_database(url, "prorch_", [], [])
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(change)
    engine.dispose()

    with pytest.raises(StoreFileError, match=refusal):
        Store(SQLRepository.at(url)).next_due()


def test_the_due_column_keeps_utc_on_sqlite_whatever_zone_a_time_names(tmp_path):
    repository = sqlite_repository(tmp_path)
    runs = repository(Metadata.PIPELINES_MODEL)
    runs.save({"uuid": "r", "name": "Timer", "status": Status.PENDING, "due_at": "2999-06-01T12:00:00+03:00"})

    assert runs.due_uuids("2999-06-01T08:59:59.999999+00:00") == []
    assert runs.due_uuids("2999-06-01T09:00:00.000000+00:00") == ["r"]
    assert runs.next_due() == datetime(2999, 6, 1, 9, tzinfo=timezone.utc).isoformat(timespec="microseconds")


def test_the_walk_goes_past_a_whole_batch_of_runs_other_hosts_hold():
    """next_pending looks at WALK_BATCH runs at a time: when another host holds them all, it looks further."""
    from prorch_nb.repositories.sql_database import WALK_BATCH

    with postgres_repository() as repository:
        store = Store(repository)
        runs = [Simple(repository_class=repository) for _ in range(WALK_BATCH + 2)]
        for run in runs:
            run.start()
        held_until = utc_at(as_datetime("2999-01-01T00:00:00+00:00").timestamp())
        with store.unit_of_work():
            for run in runs[: WALK_BATCH + 1]:
                step = store.step_progress(store.pipeline(run.uuid))[1]
                store.steps.update(step.uuid, {"claimed_by": "elsewhere:1:feed", "claimed_until": held_until})
        held: list[str] = []
        walked = list(store.runs_to_tick(held))
        assert walked == [runs[-1].uuid]
        assert held == [run.uuid for run in runs[:-1]]
