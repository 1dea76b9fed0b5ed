"""The TinyDB store's journal: commits are appended, folded into the file, and read back."""

import json

import pytest

from prorch_nb import Orchestrator, OrchestratorConfig, Status, TinyDBRepository
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.database import Database, read_committed
from prorch_nb.store import Store
from tests.pipelines import Simple


@pytest.fixture
def runs(tmp_path):
    return tmp_path / "runs.json", TinyDBRepository.at(tmp_path / "runs.json")


def journal_of(db):
    return db.with_name(db.name + ".journal")


def test_a_tick_appends_to_the_journal_which_a_fold_writes_into_the_file(runs):
    db, repository_class = runs
    run = Simple(repository_class=repository_class)  # the first commit writes the file itself
    assert json.loads(db.read_text())["pipelines"]["1"]["status"] == Status.CREATED
    run.start()
    header, *units = [json.loads(line) for line in journal_of(db).read_text().splitlines()]
    assert header["extends"] == json.loads(db.read_text())["_prorch_nb"]["1"]["generation"]
    assert {table for unit in units for table, *_ in unit} == {"pipelines", "pipeline_steps"}
    assert {uuid for unit in units for _, uuid, *_ in unit} >= {run.uuid}  # records named by uuid
    assert json.loads(db.read_text())["pipelines"]["1"]["status"] == Status.CREATED  # not folded yet
    assert read_committed(db)["pipelines"]["1"]["status"] == Status.PENDING
    Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines()
    assert journal_of(db).exists()  # a small journal stays: folding is compaction, not commit

    Database.at(db).checkpoint()

    assert not journal_of(db).exists()
    on_disk = json.loads(db.read_text())
    del on_disk["_prorch_nb"]  # the file's generation
    assert on_disk == read_committed(db)
    assert [s["status"] for s in read_committed(db)["pipeline_steps"].values()] == [Status.FINISHED] * 2 + [
        Status.CREATED
    ]


def test_a_journal_due_for_folding_is_folded_at_the_end_of_a_pass_not_inside(runs, monkeypatch):
    db, repository_class = runs
    for run in (Simple(repository_class=repository_class), Simple(repository_class=repository_class)):
        run.start()
    monkeypatch.setattr(Database, "_outgrown", lambda self: self.journal.position > 0)  # due at once
    database = Database.at(db)
    folds = []
    original = Database._rewrite
    monkeypatch.setattr(
        Database, "_rewrite", lambda self, *args: (folds.append(database._batches), original(self, *args))[1]
    )

    Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines()

    assert folds == [0]  # once, after both runs ticked, outside the pass
    assert not journal_of(db).exists()
    assert [r["status"] for r in json.loads(db.read_text())["pipeline_steps"].values()].count(Status.FINISHED) == 4


def test_a_line_cut_short_by_a_crash_is_ignored_then_trimmed(runs):
    db, repository_class = runs
    run = Simple(repository_class=repository_class)
    run.start()
    with journal_of(db).open("a") as journal:
        journal.write('[["pipelines","1",null,{"uuid":')  # a writer killed mid-line
    assert read_committed(db)["pipelines"]["1"]["status"] == Status.PENDING

    Database._open.clear()  # another process: nothing cached
    run.start()
    assert journal_of(db).read_text().endswith("\n")
    assert all(json.loads(line) for line in journal_of(db).read_text().splitlines())
    assert [s.status for s in Store(repository_class).steps_of(run.uuid)][:2] == [Status.FINISHED] * 2


def test_a_corrupt_journal_line_is_an_error_naming_the_journal(runs):
    db, repository_class = runs
    Simple(repository_class=repository_class).start()
    text = journal_of(db).read_text()
    journal_of(db).write_text("not json\n" + text)
    Database._open.clear()

    with pytest.raises(StoreFileError, match=r"runs\.json\.journal: the journal line at byte 0 is corrupt"):
        Store(repository_class).all_pipelines()
    assert journal_of(db).read_text() == "not json\n" + text  # left untouched
    journal_of(db).unlink()  # the process that wrote it would otherwise warn at exit, failing to fold it
