"""Which optional methods a repository provides is decided in one place, for every kind of class."""

import gc
import weakref
from typing import ClassVar

import prorch_nb
from prorch_nb import Orchestrator, OrchestratorConfig, SavedItem, Status, TinyDBRepository
from prorch_nb.interfaces.repository import OPTIONAL_METHODS, implements
from prorch_nb.store import Store
from tests.pipelines import Simple

#: What only repositories that several workers share provide (SQL), and only a journalled file (TinyDB).
SHARED_ONLY = {"statuses_of", "renew_claim", "next_pending", "lock_run", "now", "wait_for_change"}
FILE_ONLY = {"batch", "checkpoint", "checkpoint_soon"}
PROVIDED = {
    "memory": set(OPTIONAL_METHODS) - SHARED_ONLY - FILE_ONLY,
    "tinydb": set(OPTIONAL_METHODS) - SHARED_ONLY | {"wait_for_change"},  # looks at the file
    "seed_example": set(),
    "sqlite": set(OPTIONAL_METHODS) - FILE_ONLY,
    "postgres": set(OPTIONAL_METHODS) - FILE_ONLY,
}


class DictRepository:
    """The seed's four methods and nothing else, on no base class."""

    tables: ClassVar[dict[str, dict[str, dict]]] = {}

    def __init__(self, model):
        self.rows = self.tables.setdefault(model, {})

    def get(self, uuid):
        return self.rows.get(uuid)

    def save(self, data):
        self.rows[data["uuid"]] = dict(data)
        return SavedItem(identifier=len(self.rows))

    def update(self, uuid, data):
        self.rows[uuid].update(data)

    def search(self, filter):
        field, value = filter
        return [row for row in self.rows.values() if row.get(field) == value]


def test_each_repository_of_the_contract_matrix_provides_what_it_defines(repository_class, request):
    kind = request.node.callspec.params["repository_class"]

    provided = {method for method in OPTIONAL_METHODS if implements(repository_class, method)}

    assert provided == PROVIDED[kind]


def test_a_class_with_only_the_four_methods_and_no_base_class_runs_to_the_end():
    assert not any(implements(DictRepository, method) for method in OPTIONAL_METHODS)
    runs = [Simple(repository_class=DictRepository) for _ in range(2)]
    for run in runs:
        run.start()

    report = Orchestrator(OrchestratorConfig(repository_class=DictRepository)).run_until_done()
    prorch_nb.checkpoint(DictRepository)  # nothing to fold: the interface's default

    store = Store(DictRepository)
    assert [o.pipeline_uuid for o in report.ended] == [run.uuid for run in runs]
    assert [record.status for record in store.all_pipelines()] == [Status.FINISHED] * 2
    assert store.status_of(runs[0].record) == Status.FINISHED
    assert len(store.all_steps()) == sum(len(run.step_records()) for run in runs)


def test_a_repository_class_made_for_a_file_is_not_kept_alive_by_prorch_nb(tmp_path):
    """``TinyDBRepository.at`` makes a class per call: a loop calling it must not pile classes up."""
    runs = TinyDBRepository.at(tmp_path / "runs.json")
    run = Simple(repository_class=runs)
    run.start()
    assert Store(runs).all_pipelines()[0].uuid == run.uuid
    gone = weakref.ref(runs)

    del runs, run
    gc.collect()

    assert gone() is None
