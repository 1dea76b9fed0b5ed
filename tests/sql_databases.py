"""SQL databases for the tests: SQLite in a test's folder, PostgreSQL on the machine's server.

PostgreSQL's URL comes from ``PRORCH_NB_TEST_POSTGRES`` (default: the server every
development and CI machine runs, ``postgresql://postgres@127.0.0.1:5432/test``). Each test
gets tables of its own (a fresh prefix) and drops them at its end. Without a server a
PostgreSQL test skips with one line saying so, unless ``PRORCH_NB_REQUIRE_POSTGRES=1``
(set by ``.ci/run``): then it fails.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from prorch_nb.repositories.sql_repository import SQLRepository

POSTGRES_URL = os.environ.get("PRORCH_NB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here, or ``None`` if it answers."""
    try:
        import sqlalchemy as sa

        from prorch_nb.repositories.sql_engine import database_url

        engine = sa.create_engine(database_url(POSTGRES_URL))
        with engine.connect() as connection:
            connection.execute(sa.select(1))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at PRORCH_NB_TEST_POSTGRES ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return None


def require_postgres() -> None:
    """Skip (or, under CI, fail) the calling test if PostgreSQL does not answer."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("PRORCH_NB_REQUIRE_POSTGRES") == "1":
        pytest.fail(problem)
    pytest.skip(problem)


def fresh_prefix() -> str:
    """Table names of one test's own."""
    return f"t{uuid.uuid4().hex[:10]}_"


@contextmanager
def postgres_repository(prefix: str | None = None) -> Iterator[type[SQLRepository]]:
    """A repository class on fresh PostgreSQL tables, dropped afterwards."""
    require_postgres()
    repository = SQLRepository.at(POSTGRES_URL, prefix=prefix or fresh_prefix())
    try:
        yield repository
    finally:
        repository("PIPELINE").database.drop()


def sqlite_repository(folder: Path) -> type[SQLRepository]:
    """A repository class on a SQLite file in ``folder``."""
    return SQLRepository.at(f"sqlite:///{folder / 'runs.db'}")


def with_password(where: str) -> str:
    """The test server's URL on a port nothing listens on, with a password in its ``where``: user part or query."""
    from prorch_nb.repositories.sql_engine import database_url

    url = database_url(POSTGRES_URL).set(port=1)
    secret = url.update_query_dict({"password": "s3cr3t-pw"}) if where == "query" else url.set(password="s3cr3t-pw")
    return secret.render_as_string(hide_password=False)
