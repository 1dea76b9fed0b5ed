"""Opening a SQL database: its URL (shown without secrets), its engine, SQLite's transactions.

prorch_nb keeps runs in PostgreSQL through psycopg 3 (``postgresql://``) or in SQLite
(``sqlite:///runs.db``); any other URL is refused before a connection is tried.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

#: The URL schemes prorch_nb runs on -> the SQLAlchemy driver it uses for each.
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}
_EXAMPLES = "postgresql://user@host/db or sqlite:///runs.db"


def database_url(url: str) -> sa.URL:
    """The SQLAlchemy URL of ``url``, with the driver prorch_nb uses; never echoes ``url`` (it may hold a password).

    Raises ``ValueError`` for text that is no URL, or a URL of a database prorch_nb does not run on.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"not a database URL; expected e.g. {_EXAMPLES}") from None
    driver = DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"prorch_nb keeps runs in PostgreSQL or SQLite, not {parsed.drivername!r}; use {_EXAMPLES}")
    return parsed.set(drivername=driver)


def shown(url: sa.URL) -> str:
    """``url`` as errors and displays show it: every password hidden, in the query string too."""
    secrets = {key: "***" for key in url.query if "password" in key.lower()}
    text = url.update_query_dict(secrets).render_as_string(hide_password=True)
    return text.replace("%2A%2A%2A", "***")


def advisory_lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key for ``name`` (a signed 64-bit number)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine that checks connections before use (a restarted server costs no error).

    A SQLite transaction begun with the execution option ``prorch_immediate`` takes the
    database's write lock at once (``BEGIN IMMEDIATE``): writers queue instead of failing.
    """
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"timeout": 60, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_connected)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_connected(connection: Any, _: Any) -> None:
    connection.isolation_level = None  # transactions begun by _sqlite_begin, not by the driver
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get("prorch_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
