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


def test_a_tick_appends_to_the_journal_and_a_pass_folds_it_into_the_file(runs):
    db, repository_class = runs
    run = Simple(repository_class=repository_class)  # the first commit writes the file itself
    assert json.loads(db.read_text())["pipelines"]["1"]["status"] == Status.CREATED
    run.start()
    lines = journal_of(db).read_text().splitlines()
    assert {json.loads(line)["t"] for line in lines} == {"pipelines", "pipeline_steps"}
    assert json.loads(db.read_text())["pipelines"]["1"]["status"] == Status.CREATED  # not folded yet
    assert read_committed(db)["pipelines"]["1"]["status"] == Status.PENDING

    Orchestrator(OrchestratorConfig(repository_class=repository_class)).execute_pipelines()

    assert not journal_of(db).exists()
    assert json.loads(db.read_text()) == read_committed(db)
    assert [s["status"] for s in read_committed(db)["pipeline_steps"].values()] == [Status.FINISHED] * 2 + [
        Status.CREATED
    ]


def test_a_line_cut_short_by_a_crash_is_ignored_then_trimmed(runs):
    db, repository_class = runs
    run = Simple(repository_class=repository_class)
    run.start()
    with journal_of(db).open("a") as journal:
        journal.write('{"t":"pipelines","d":"1","r":{"uuid":')  # a writer killed mid-line
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
