import logging

import pytest

from prorch_nb import FakeClock, InMemoryRepository, TinyDBRepository, use_clock
from tests import durable_pipelines, pipelines
from tests.seed_repository import SeedTinyDBRepository
from tests.sql_databases import postgres_repository, sqlite_repository

REPOSITORIES = ["memory", "tinydb", "seed_example", "sqlite", "postgres"]


@pytest.fixture(params=REPOSITORIES)
def repository_class(request, tmp_path, monkeypatch):
    """Every repository the engine must work with, each on fresh storage."""
    monkeypatch.chdir(tmp_path)
    if request.param == "postgres":
        with postgres_repository() as repository:
            yield repository
        return
    yield {
        "memory": lambda: InMemoryRepository.fresh(),
        "tinydb": lambda: TinyDBRepository.at(tmp_path / "runs.json"),
        "seed_example": lambda: SeedTinyDBRepository,
        "sqlite": lambda: sqlite_repository(tmp_path),
    }[request.param]()


@pytest.fixture
def tinydb_class(tmp_path):
    return TinyDBRepository.at(tmp_path / "runs.json")


@pytest.fixture(autouse=True)
def _clear_flags():
    """What the test pipelines remember between runs (approvals, failures to come) starts empty."""
    pipelines.APPROVALS.clear()
    durable_pipelines.clear_flags()


@pytest.fixture
def clock():
    """A fake clock, the engine's during the test, starting at ``durable_pipelines.START``."""
    with use_clock(FakeClock(durable_pipelines.START)) as fake:
        yield fake


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def widget_callback_errors():
    """Fail the test if ipywidgets swallowed an exception raised by a widget callback.

    Outside IPython, ipywidgets' CallbackDispatcher (button clicks) and _show_traceback
    (messages from the browser) catch the exception and log "Exception in callback ..."
    as a warning on traitlets' logger; a test would pass without noticing. Yields the list
    of records (a test provoking one on purpose clears it).
    """
    from traitlets.log import get_logger

    handler = _Collect()
    logger = get_logger()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    if handler.records:
        pytest.fail("ipywidgets swallowed a callback exception:\n" + "\n".join(map(handler.format, handler.records)))
