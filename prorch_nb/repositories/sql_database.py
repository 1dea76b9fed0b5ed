"""One SQL database as this process sees it: an engine, the tables of a prefix, units of work.

Every unit of work is one transaction on a connection of its own thread (SQLite begins it
``IMMEDIATE``: one writer at a time, readers go on in WAL mode). A write of a record the
unit has read is a compare-and-set on the ``version`` it read: if someone else changed the
record meanwhile, :class:`ConcurrentChangeError` is raised and the unit rolled back. A
committed unit that wrote on PostgreSQL sends a ``NOTIFY`` that sleeping workers wake on
(:mod:`.sql_listener`).

Statements are SQLAlchemy Core expressions with bound parameters. Errors name the
database without its password, and the table and record a write was for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from prorch_nb.exceptions.exceptions import ConcurrentChangeError, StoreFileError
from prorch_nb.interfaces.repository import columns_of
from prorch_nb.repositories.sql_columns import ColumnsQuery
from prorch_nb.repositories.sql_engine import advisory_lock_key, create_engine, database_url, shown
from prorch_nb.repositories.sql_listener import ChangeListener, channel_name
from prorch_nb.repositories.sql_migrations import create_or_check
from prorch_nb.repositories.sql_schema import define, due_at_column
from prorch_nb.repositories.sql_unit import Seen, SQLUnit, UnitState
from prorch_nb.utils import clock
from prorch_nb.utils.clock import as_datetime
from prorch_nb.utils.constants import Metadata, Status

T = TypeVar("T")
PIPELINE, STEP = Metadata.PIPELINES_MODEL, Metadata.STEP_MODEL

#: Record fields that have a column of their own (all tables / steps only).
COLUMNS = ("uuid", "name", "status", "created_at")
STEP_COLUMNS = ("pipeline_uuid", "position", "claimed_by")


class SQLDatabase:
    """The engine and tables of one database URL and prefix, shared by every repository on them."""

    _open: ClassVar[dict[tuple[str, str, str | None], SQLDatabase]] = {}
    _engines: ClassVar[dict[str, sa.Engine]] = {}  #: one engine (and pool) per URL, whatever the prefix
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: tuple[str, str, str | None], url: sa.URL, engine: sa.Engine) -> None:
        self.key = key
        prefix, schema = key[1], key[2]
        self.where = shown(url)
        self.dialect = url.get_backend_name()
        self.prefix, self.schema = prefix, schema
        self.channel = channel_name(schema, prefix)
        self.engine = engine
        self.tables = define(prefix, schema)
        self._local = threading.local()
        self._ready = False
        self._ready_lock = threading.Lock()
        self._unit = SQLUnit(self)
        self._listener = ChangeListener(url, self.channel, self.where) if self.dialect == "postgresql" else None

    @classmethod
    def at(cls, url: str, prefix: str, schema: str | None) -> SQLDatabase:
        """The shared database object of this URL, prefix and schema."""
        key = (url, prefix, schema)
        with cls._open_lock:
            if key not in cls._open:
                parsed = database_url(url)
                if url not in cls._engines:
                    cls._engines[url] = create_engine(parsed)
                cls._open[key] = cls(key, parsed, cls._engines[url])
            return cls._open[key]

    def drop(self) -> None:
        """Drop this prefix's tables (and forget them in this process): for tests and tear-downs."""
        if self._listener is not None:
            self._listener.close()
        with self.translated_errors():
            self.tables.metadata.drop_all(self.engine)
        with self._open_lock:
            self._open.pop(self.key, None)

    # Units of work ------------------------------------------------------------------

    def unit_of_work(self) -> SQLUnit:
        """One transaction for the changes inside; nested units join the outermost."""
        self.ensure_ready()
        return self._unit

    @property
    def state(self) -> UnitState:
        """This thread's unit of work (``depth`` 0: none open)."""
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = UnitState()
        return state

    @contextmanager
    def connection(self, *, writing: bool = False, about: str = "") -> Iterator[sa.Connection]:
        """The open unit's connection, or a short transaction of its own (``writing``: a write one).

        ``about`` names what the statements are for in an error (a table and record).
        """
        self.ensure_ready()
        state = self.state
        if state.connection is not None:
            with self.translated_errors(about):
                yield state.connection
            return
        with (
            self.translated_errors(about),
            self.engine.connect() as connection,
            connection.execution_options(prorch_immediate=writing).begin(),
        ):
            yield connection

    def read(self, query: Callable[[sa.Connection], T]) -> T:
        """``query(connection)`` in the open unit, or in a transaction of its own.

        Outside a unit, a read whose connection was lost (a restarted server, a cut
        connection) is made once more on a new one: reading twice does no harm.
        """
        self.ensure_ready()
        state = self.state
        if state.connection is not None:
            with self.translated_errors():
                return query(state.connection)
        try:
            return self._read_once(query)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise self._translated(exc) from exc
        try:
            return self._read_once(query)
        except sa.exc.DBAPIError as exc:
            raise self._translated(exc) from exc

    def _read_once(self, query: Callable[[sa.Connection], T]) -> T:
        with self.engine.connect() as connection, connection.begin():
            return query(connection)

    @contextmanager
    def translated_errors(self, about: str = "") -> Iterator[None]:
        """Database errors as :class:`StoreFileError` naming the database (never its password) and ``about``."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise self._translated(exc, about) from exc

    def _translated(self, exc: sa.exc.DBAPIError, about: str = "") -> StoreFileError:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        return StoreFileError(f"{self.where}: {about + ': ' if about else ''}{type(exc.orig).__name__}: {detail}")

    def ensure_ready(self) -> None:
        """Create or check the tables, once per process."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with (  # one process at a time (SQLite: its write lock, at once), so that two never both create
                self.translated_errors(),
                self.engine.connect() as connection,
                connection.execution_options(prorch_immediate=True).begin(),
            ):
                if self.dialect == "postgresql":
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_key(self.channel))))
                    if self.schema:
                        connection.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
                create_or_check(connection, self.tables, self.where)
            self._ready = True

    # Records ------------------------------------------------------------------------

    def get(self, model: str, uuid: str) -> dict[str, Any] | None:
        state = self.state
        if state.depth and uuid in state.locked and model == PIPELINE:
            record = state.locked[uuid]  # read with its row's lock by lock_run: it cannot have changed
        else:
            table = self.tables.by_model[model]
            row = self.read(
                lambda c: c.execute(sa.select(table.c.record, table.c.version).where(table.c.uuid == uuid)).first()
            )
            if row is None:
                return None
            record = row.record
            state.saw(model, uuid, row.version, record.get("status"), record.get("claimed_by"))
        return dict(record)

    def status_of(self, model: str, uuid: str) -> Any:
        seen = self._seen(model, uuid)
        return None if seen is None else seen.status

    def tally(self, model: str) -> dict[tuple[Any, Any], int]:
        """Records per (name, status), counted by the database."""
        table = self.tables.by_model[model]
        query = sa.select(table.c.name, table.c.status, sa.func.count()).group_by(table.c.name, table.c.status)
        return {(name, status): count for name, status, count in self.read(lambda c: c.execute(query).all())}

    def newest(self, model: str, limit: int, status: str | None) -> list[dict[str, Any]]:
        """The ``limit`` records created last (of ``status``), newest first."""
        table = self.tables.by_model[model]
        query = sa.select(table.c.record).order_by(table.c.seq.desc()).limit(limit)
        if status is not None:
            query = query.where(table.c.status == status)
        return [dict(record) for record in self.read(lambda c: c.scalars(query).all())]

    def soonest_due(self, model: str, limit: int) -> list[tuple[Any, str]]:
        """``(uuid, due_at)`` of the ``limit`` pending records due first, by the database.

        Runs from their indexed ``due_at`` column; other records from their JSON (``due_at`` a string).
        """
        table = self.tables.by_model[model]
        if "due_at" in table.c:
            query = sa.select(table.c.uuid, table.c.due_at).where(
                table.c.status == Status.PENDING, table.c.due_at.is_not(None)
            )
            order = [table.c.due_at, table.c.seq]
        else:
            if self.dialect == "postgresql":
                due = table.c.record.op("->>")(sa.literal("due_at", sa.Text))
                is_text = sa.func.jsonb_typeof(table.c.record.op("->")(sa.literal("due_at", sa.Text))) == "string"
            else:
                due = sa.func.json_extract(table.c.record, "$.due_at")
                is_text = sa.func.json_type(table.c.record, "$.due_at") == "text"
            query = sa.select(table.c.uuid, due).where(table.c.status == Status.PENDING, is_text)
            order = [due, table.c.seq]
        found = self.read(lambda c: c.execute(query.order_by(*order).limit(limit)).all())
        return [(uuid, at if isinstance(at, str) else _stored_time(at)) for uuid, at in found]

    def statuses_of(self, model: str, uuids: list[str]) -> list[Any]:
        """Several records' statuses in one query, in the order of ``uuids`` (each one seen by the unit)."""
        table = self.tables.by_model[model]
        query = sa.select(table.c.uuid, *self._seen_columns(table)).where(table.c.uuid.in_(uuids))
        found = {row.uuid: row for row in self.read(lambda c: c.execute(query).all())}
        for row in found.values():
            self.state.saw(model, row.uuid, *row[1:])
        return [found[uuid].status if uuid in found else None for uuid in uuids]

    def claim_of(self, model: str, uuid: str) -> Any:
        """The record's ``claimed_by`` (a step's claim)."""
        seen = self._seen(model, uuid)
        return None if seen is None else seen.claimed_by

    def _seen(self, model: str, uuid: str) -> Seen | None:
        """What the unit has seen of a record, read now if it has not (``None``: no such record)."""
        seen = self.state.seen_of(model, uuid)
        if seen is not None:
            return seen
        table = self.tables.by_model[model]
        query = sa.select(*self._seen_columns(table)).where(table.c.uuid == uuid)
        row = self.read(lambda c: c.execute(query).first())
        if row is None:
            return None
        seen = Seen(row.version, row.status, row.claimed_by if "claimed_by" in row._fields else None)
        self.state.saw(model, uuid, *seen)
        return seen

    @staticmethod
    def _seen_columns(table: sa.Table) -> list[sa.Column]:
        claimed = [table.c.claimed_by] if "claimed_by" in table.c else []
        return [table.c.version, table.c.status, *claimed]

    def search(self, model: str, field: str, value: Any) -> list[dict[str, Any]]:
        table = self.tables.by_model[model]
        if field not in table.c:  # not a column: compared in Python, as TinyDB would
            return [record for record in self.all(model) if record.get(field) == value]
        matching = sa.select(table.c.record).where(table.c[field] == value).order_by(table.c.seq)
        return [dict(record) for record in self.read(lambda c: c.scalars(matching).all())]

    def search_uuids(self, model: str, field: str, value: Any) -> list[Any]:
        table = self.tables.by_model[model]
        if field not in table.c:
            return [record.get("uuid") for record in self.search(model, field, value)]
        matching = sa.select(table.c.uuid).where(table.c[field] == value).order_by(table.c.seq)
        return self.read(lambda c: c.scalars(matching).all())

    def all(self, model: str) -> list[dict[str, Any]]:
        """Every record, in order of creation: fetched as JSON text and decoded in one go (views read them all)."""
        table = self.tables.by_model[model]
        text = (
            sa.cast(table.c.record, sa.Text)
            if self.dialect == "postgresql"
            else sa.type_coerce(table.c.record, sa.Text)
        )
        texts = self.read(lambda c: c.scalars(sa.select(text).order_by(table.c.seq)).all())
        return json.loads("[" + ",".join(texts) + "]")

    def columns(self, model: str, fields: Sequence[str]) -> list[list[Any]]:
        """Some fields of every record, in order of creation: in one query (:mod:`.sql_columns`), else from ``all``."""
        if ColumnsQuery.can_read(fields):
            query = ColumnsQuery(self.tables.by_model[model], self.dialect, fields)
            found = query.decoded(self.read(lambda c: c.execute(query.select).all()))
            if found is not None:
                return found
        return columns_of(self.all(model), fields)

    def insert(self, model: str, data: dict[str, Any]) -> int:
        """Store a new record; its ``seq`` (order of creation)."""
        table = self.tables.by_model[model]
        values = {**_columns(table, data), "version": 1, "record": data}
        if self.dialect == "sqlite":  # no identity columns there: one writer at a time takes the next number
            values["seq"] = sa.select(sa.func.coalesce(sa.func.max(table.c.seq), 0) + 1).scalar_subquery()
        with self.connection(writing=True, about=f"{table.name} record {data.get('uuid')}") as connection:
            seq = connection.execute(table.insert().values(values).returning(table.c.seq)).scalar_one()
        self.state.wrote(model, data["uuid"], 1, data)
        return int(seq)

    def update(self, model: str, uuid: str, data: dict[str, Any]) -> None:
        """Merge ``data`` into the record ``uuid``: compare-and-set on the version this unit read."""
        table = self.tables.by_model[model]
        seen = self.state.seen_of(model, uuid)
        expected = seen.version if seen is not None else None
        with self.connection(writing=True, about=f"{table.name} record {uuid}") as connection:
            if self.dialect == "postgresql":
                merged: Any = table.c.record.op("||")(sa.literal(data, type_=JSONB()))
            else:
                current = connection.execute(
                    sa.select(table.c.record, table.c.version).where(table.c.uuid == uuid)
                ).first()
                if current is None:
                    return
                expected = current.version if expected is None else expected
                merged = {**current.record, **data}
            statement = (
                table.update()
                .where(table.c.uuid == uuid)
                .values(record=merged, version=table.c.version + 1, **_columns(table, data))
                .returning(table.c.version)
            )
            if expected is not None:
                statement = statement.where(table.c.version == expected)
            version = connection.execute(statement).scalar()
        if version is None:
            if expected is None:
                return  # no such record: nothing to merge into, as TinyDB does
            raise ConcurrentChangeError(
                f"{self.where}: {table.name} record {uuid} was changed by someone else since it was read; "
                "this change was not saved"
            )
        self.state.wrote(model, uuid, version, data)

    def renew_claim(self, uuid: str, claimant: str, until: str) -> bool:
        """Extend a step's claim if ``claimant`` holds it; the version stays (its worker's writes go on).

        A takeover that read the lease as run out before this renewal still wins (the lease
        had run out): the late worker's next write is refused, as its claim is gone.
        """
        table = self.tables.by_model[STEP]
        if self.dialect == "postgresql":
            path = sa.literal(["claimed_until"], type_=ARRAY(sa.Text()))
            record = sa.func.jsonb_set(table.c.record, path, sa.func.to_jsonb(sa.cast(sa.literal(until), sa.Text())))
        else:
            record = sa.func.json_set(table.c.record, "$.claimed_until", until)
        renewed = (
            table.update()
            .where(table.c.uuid == uuid, table.c.claimed_by == claimant, table.c.status.in_(Status.OPEN))
            .values(record=record, lease_until=datetime.fromisoformat(until))
        )
        with self.connection(writing=True) as connection:
            return connection.execute(renewed).rowcount == 1

    def due_uuids(self, now: str) -> list[Any]:
        """The uuids of the pending runs due at ``now`` (their ``due_at`` column null or not later), oldest first."""
        runs = self.tables.by_model[PIPELINE]
        due = sa.select(runs.c.uuid).where(runs.c.status == Status.PENDING, _due(runs, as_datetime(now)))
        return self.read(lambda c: c.scalars(due.order_by(runs.c.seq)).all())

    def next_due(self) -> str | None:
        """The earliest ``due_at`` of the pending runs, as records store times (``None`` if none waits)."""
        runs = self.tables.by_model[PIPELINE]
        earliest = sa.select(sa.func.min(runs.c.due_at)).where(runs.c.status == Status.PENDING)
        found = self.read(lambda c: c.execute(earliest).scalar())
        return None if found is None else _stored_time(found)

    def next_pending(self, after: str | None, host: str) -> tuple[str, Any, Any] | None:
        """The oldest pending run due now after ``after`` no other host's live claim holds (see ``IRepository``).

        On PostgreSQL, runs whose row another worker's unit has locked are passed over too
        (``SKIP LOCKED``); the row is not kept locked: the tick locks it again. The runs are
        looked at :data:`WALK_BATCH` at a time, in order, so that the claims of only those
        are checked, whatever plan the database picks.
        """
        while True:
            found, last = self._next_pending_among(after, host)
            if found is not None or last is None:
                return found
            after = last  # every run of the batch is held: the next batch

    def _next_pending_among(self, after: str | None, host: str) -> tuple[tuple[str, Any, Any] | None, str | None]:
        """The run ``next_pending`` gives among the next batch of due runs, and the batch's last run if it was full."""
        runs, steps = self.tables.by_model[PIPELINE], self.tables.by_model[STEP]
        now = self._now_in_sql()
        batch = sa.select(runs.c.uuid, runs.c.seq).where(runs.c.status == Status.PENDING, _due(runs, now))
        if after is not None:
            batch = batch.where(runs.c.seq > sa.select(runs.c.seq).where(runs.c.uuid == after).scalar_subquery())
        batch = batch.order_by(runs.c.seq).limit(WALK_BATCH).subquery()
        open_claimed = sa.and_(
            steps.c.pipeline_uuid == runs.c.uuid, steps.c.status.in_(Status.OPEN), steps.c.claimed_by.is_not(None)
        )
        here = steps.c.claimed_by.startswith(f"{host}:", autoescape=True)
        claim_here = sa.select(steps.c.claimed_by).where(open_claimed, here).limit(1).scalar_subquery()
        lease_here = sa.select(steps.c.lease_until).where(open_claimed, here).limit(1).scalar_subquery()
        query = sa.select(runs.c.uuid, claim_here, lease_here).where(runs.c.uuid.in_(sa.select(batch.c.uuid)))
        if self.dialect == "postgresql":  # another host's claim can only run out, in the database's time
            held_elsewhere = sa.exists().where(open_claimed, ~here, steps.c.lease_until > now)
            query = query.where(~held_elsewhere).with_for_update(of=runs, skip_locked=True)
        last = sa.select(batch.c.uuid).order_by(batch.c.seq).offset(WALK_BATCH - 1).limit(1)

        def walk(connection: sa.Connection) -> tuple[Any, Any]:
            row = connection.execute(query.order_by(runs.c.seq).limit(1)).first()
            return row, None if row is not None else connection.execute(last).scalar()

        row, full = self.read(walk)
        return (None if row is None else (row[0], row[1], row[2])), full

    def lock_run(self, uuid: str) -> bool:
        """Lock a run's row for this unit unless another unit holds it (``False``: busy, skip it)."""
        if self.dialect != "postgresql":
            return True  # SQLite's unit holds the only write lock already
        table = self.tables.by_model[PIPELINE]
        record = sa.select(table.c.record, table.c.version, sa.func.now().label("now")).where(table.c.uuid == uuid)
        locked = record.with_for_update(skip_locked=True)
        with self.connection() as connection:
            row = connection.execute(locked).first()
            if row is not None:  # the tick reads the record and the time next: no more queries for them
                state = self.state
                state.locked[uuid], state.now = row.record, row.now
                state.saw(PIPELINE, uuid, row.version, row.record.get("status"))
                return True
            return connection.execute(sa.select(table.c.uuid).where(table.c.uuid == uuid)).first() is None

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until a unit commits a change here (PostgreSQL's NOTIFY) or ``timeout`` passes; whether one did.

        On SQLite, or if listening fails, this only sleeps (on the engine's clock): callers look
        anyway after ``timeout``.
        """
        if self._listener is None:
            clock.sleep(timeout)
            return False
        return self._listener.wait(timeout)

    def now(self) -> datetime:
        """The database's time (leases are measured in it on every host); SQLite's is this machine's.

        Inside a unit it is the time its transaction began, asked once (PostgreSQL's now()).
        A clock installed by :func:`~prorch_nb.utils.clock.use_clock` replaces both.
        """
        if self.dialect != "postgresql" or clock.fake_clock() is not None:
            return clock.now_datetime()
        state = self.state
        if state.now is None:
            now = self.read(lambda c: c.execute(sa.select(sa.func.now())).scalar_one())
            if not state.depth:
                return now
            state.now = now
        return state.now

    def _now_in_sql(self) -> sa.ColumnElement[datetime]:
        """:meth:`now` in a statement: PostgreSQL's ``now()``, or the time of this process's clock."""
        if self.dialect == "postgresql" and clock.fake_clock() is None:
            return sa.func.now()
        return sa.literal(clock.now_datetime(), sa.DateTime(timezone=True))


#: Runs ``next_pending`` looks at in one statement: only their claims are checked.
WALK_BATCH = 8


def _due(runs: sa.Table, now: Any) -> sa.ColumnElement[bool]:
    """Whether a run is due at ``now``: it waits for no time, or not later than ``now``."""
    return sa.or_(runs.c.due_at.is_(None), runs.c.due_at <= now)


def _columns(table: sa.Table, data: dict[str, Any]) -> dict[str, Any]:
    """The column values ``data`` sets (only the fields it has)."""
    names = COLUMNS + (STEP_COLUMNS if "pipeline_uuid" in table.c else ())
    values = {name: data[name] for name in names if name in data}
    if "lease_until" in table.c and "claimed_until" in data:
        until = data["claimed_until"]
        values["lease_until"] = datetime.fromisoformat(until) if isinstance(until, str) else None
    if "due_at" in table.c and "due_at" in data:
        values["due_at"] = due_at_column(data["due_at"])
    return values


def _stored_time(moment: datetime) -> str:
    """A ``due_at`` column's value as records store times (UTC, microseconds)."""
    return as_datetime(moment).isoformat(timespec="microseconds")
