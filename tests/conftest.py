import pytest

from prorch_nb import InMemoryRepository, TinyDBRepository
from tests import pipelines
from tests.seed_repository import SeedTinyDBRepository

REPOSITORIES = ["memory", "tinydb", "seed_example"]


@pytest.fixture(params=REPOSITORIES)
def repository_class(request, tmp_path, monkeypatch):
    """Every repository the engine must work with, each on fresh storage."""
    monkeypatch.chdir(tmp_path)
    return {
        "memory": lambda: InMemoryRepository.fresh(),
        "tinydb": lambda: TinyDBRepository.at(tmp_path / "runs.json"),
        "seed_example": lambda: SeedTinyDBRepository,
    }[request.param]()


@pytest.fixture
def tinydb_class(tmp_path):
    return TinyDBRepository.at(tmp_path / "runs.json")


@pytest.fixture(autouse=True)
def _clear_approvals():
    pipelines.APPROVALS.clear()
