"""The TinyDB file tells the truth: current when work is done, never stale, never mixed with a foreign journal."""

import json
import os
import shutil
import warnings

import pytest
from tinydb import TinyDB

from prorch_nb import Orchestrator, OrchestratorConfig, Status, StopReason, TinyDBRepository, checkpoint
from prorch_nb.exceptions.exceptions import StoreFileError, StoreWarning
from prorch_nb.repositories.database import Database, read_committed
from prorch_nb.store import Store
from tests.pipelines import Approval, Simple
from tests.test_other_writers import in_file_alone, write


@pytest.fixture
def db(tmp_path):
    return tmp_path / "runs.json"


def journal(db):
    return db.with_name(db.name + ".journal")


def forget_this_process(db):
    """As if another process went on from here: nothing of the file is cached."""
    Database._open.pop(os.path.realpath(db), None)


def pipelines_in(db) -> set[str]:
    return {record.uuid for record in Store(TinyDBRepository.at(db)).all_pipelines()}


# The file is current --------------------------------------------------------------------


def test_the_file_alone_is_current_when_run_until_done_returns(db):
    runs = TinyDBRepository.at(db)
    created = [Simple(repository_class=runs) for _ in range(3)]
    for run in created:
        run.start()
    assert journal(db).exists()

    Orchestrator(OrchestratorConfig(repository_class=runs)).run_until_done()

    assert not journal(db).exists()
    assert {uuid: r["status"] for uuid, r in in_file_alone(db)["pipelines"].items()} == dict.fromkeys(
        (run.uuid for run in created), Status.FINISHED
    )


def test_the_file_alone_is_current_when_run_until_done_returns_with_runs_waiting(db):
    runs = TinyDBRepository.at(db)
    run = Approval(repository_class=runs)
    run.start()

    report = Orchestrator(OrchestratorConfig(repository_class=runs)).run_until_done()

    assert report.stopped_because == StopReason.WAITING and not journal(db).exists()
    (step,) = [s for s in in_file_alone(db)["pipeline_steps"].values() if s["name"] == "WaitForApproval"]
    assert step["status"] == Status.PENDING and step["metadata"]["checks"] >= 1


def test_a_pass_that_finds_nothing_pending_folds_what_others_committed(db):
    runs = TinyDBRepository.at(db)
    run = Simple(repository_class=runs)
    run.cancel("not needed")  # committed to the journal, nothing pending
    assert journal(db).exists()

    report = Orchestrator(OrchestratorConfig(repository_class=runs)).execute_pipelines()

    assert not report.outcomes and not journal(db).exists()
    assert in_file_alone(db)["pipelines"][run.uuid]["status"] == Status.CANCELLED


def test_checkpoint_on_request(db):
    runs = TinyDBRepository.at(db)
    run = Simple(repository_class=runs)
    run.start()
    checkpoint(runs)
    assert not journal(db).exists() and in_file_alone(db)["pipelines"][run.uuid]["status"] == Status.PENDING
    checkpoint(runs)  # nothing to fold: nothing happens


def test_checkpoint_soon_folds_in_the_background(db):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs).start()
    database = Database.at(db)
    database.checkpoint_soon(delay=0)
    database._timer.join(timeout=300)
    assert not journal(db).exists()


# Other programs' changes are seen at once -------------------------------------------------


def test_a_change_made_by_tinydb_after_this_process_last_committed_is_kept(db):
    """This process appended last (its catch-up used to skip the file): it must still see TinyDB's insert."""
    runs = TinyDBRepository.at(db)
    first = Simple(repository_class=runs)
    first.start()  # this process wrote the journal last
    with TinyDB(db) as other:
        other.table("pipelines").insert({"uuid": "outsider", "name": "Outsider", "status": "created"})

    assert "outsider" in pipelines_in(db)  # seen at once, without a new process
    Simple(repository_class=runs).start()
    checkpoint(runs)

    assert {"outsider", first.uuid} < set(in_file_alone(db)["pipelines"])


def test_a_change_that_keeps_the_files_size_and_time_is_kept_by_the_next_fold(db):
    """An edit whose signature (inode, size, mtime) looks unchanged: the fold compares the content."""
    runs = TinyDBRepository.at(db)
    untouched = Simple(repository_class=runs, context={"note": "aaaa"})
    checkpoint(runs)
    Simple(repository_class=runs).start()  # in the journal
    stat = db.stat()
    with db.open("r+b") as other:  # a program editing the file in place, within one clock tick
        edited = other.read().replace(b'"aaaa"', b'"bbbb"')
        other.seek(0)
        other.write(edited)
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (db.stat().st_size, db.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    checkpoint(runs)

    assert in_file_alone(db)["pipelines"][untouched.uuid]["context"] == {"note": "bbbb"}


def test_a_write_by_another_program_during_the_first_commit_into_its_file_is_kept(db):
    """The first commit into a file prorch_nb never wrote rewrites it whole: never over what TinyDB just wrote."""
    with TinyDB(db) as other:
        other.table("pipelines").insert({"uuid": "first", "name": "First", "status": "created"})
    database = Database.at(db)

    refused = r"runs\.json: another program wrote it .* nothing of the change"
    with pytest.raises(StoreFileError, match=refused), database.unit_of_work():
        database.insert("pipelines", {"uuid": "ours", "name": "Ours", "status": "created"})
        with TinyDB(db) as other:  # TinyDB takes no lock: it writes in the middle of the unit
            other.table("pipelines").insert({"uuid": "second", "name": "Second", "status": "created"})

    assert set(in_file_alone(db)["pipelines"]) == {"first", "second"}
    assert database.get("pipelines", "ours") is None  # rolled back, in memory too
    with database.unit_of_work():  # tried again: on top of what TinyDB wrote
        database.insert("pipelines", {"uuid": "ours", "name": "Ours", "status": "created"})
    assert set(in_file_alone(db)["pipelines"]) == {"first", "second", "ours"}


def test_a_relative_path_names_the_file_in_the_working_folder_of_the_moment(tmp_path, monkeypatch):
    """The default ``database.json`` follows the working folder, as TinyDB's own relative paths do."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    in_a = Simple(repository_class=TinyDBRepository)
    monkeypatch.chdir(tmp_path / "b")
    in_b = Simple(repository_class=TinyDBRepository)

    assert pipelines_in(tmp_path / "a" / "database.json") == {in_a.uuid}
    assert pipelines_in(tmp_path / "b" / "database.json") == {in_b.uuid}


# Starting over: a journal never lands on a file it does not belong to --------------------


def test_deleting_the_file_of_a_killed_writer_starts_afresh(db):
    write("prorch_nb", "create", "3", db=db, then="kill")  # two of the runs are in the journal only
    db.unlink()

    with pytest.warns(StoreWarning, match=r"runs\.json\.journal belongs to a version of .* that is gone"):
        fresh = Simple(repository_class=TinyDBRepository.at(db))

    assert pipelines_in(db) == {fresh.uuid}
    assert not journal(db).exists() and len(list(db.parent.glob("runs.json.journal.orphan-*"))) == 1
    assert set(in_file_alone(db)["pipelines"]) == {fresh.uuid}


def test_deleting_the_file_in_the_live_process_that_wrote_it_starts_afresh(db):
    runs = TinyDBRepository.at(db)
    for _ in range(3):
        Simple(repository_class=runs).start()
    db.unlink()  # a notebook cell starts over

    with pytest.warns(StoreWarning, match="set aside"):
        fresh = Simple(repository_class=runs)

    assert pipelines_in(db) == {fresh.uuid}
    checkpoint(runs)
    assert set(in_file_alone(db)["pipelines"]) == {fresh.uuid}


def test_an_emptied_file_is_refused_and_removing_it_starts_afresh(db):
    write("prorch_nb", "create", "3", db=db, then="kill")
    db.write_text("")

    with pytest.raises(StoreFileError, match="remove it to start a new database"):
        pipelines_in(db)
    db.unlink()
    forget_this_process(db)
    with pytest.warns(StoreWarning):
        fresh = Simple(repository_class=TinyDBRepository.at(db))
    assert pipelines_in(db) == {fresh.uuid}


def test_a_file_replaced_by_an_older_copy_does_not_take_the_newer_journal(db):
    (kept,) = write("prorch_nb", "create", "1", db=db)
    backup = db.with_name("backup.json")
    shutil.copy(db, backup)
    write("prorch_nb", "work", kept, db=db, then="kill")  # a newer generation, and its journal
    checkpoint(TinyDBRepository.at(db))
    write("prorch_nb", "work", kept, db=db, then="kill")
    forget_this_process(db)
    shutil.copy(backup, db)  # restored over the file, in place

    with pytest.warns(StoreWarning, match="ignored"):
        assert [s.status for s in Store(TinyDBRepository.at(db)).steps_of(kept)] == [Status.CREATED] * 3
    assert journal(db).exists()  # a reader never moves it


def test_a_journal_already_folded_by_a_killed_rewrite_is_dropped_without_a_word(db):
    runs = TinyDBRepository.at(db)
    run = Simple(repository_class=runs)
    run.start()
    folded = journal(db).read_bytes()
    checkpoint(runs)
    journal(db).write_bytes(folded)  # the rewrite was killed after its rename, before removing the journal
    forget_this_process(db)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert next(s.status for s in Store(runs).steps_of(run.uuid)) == Status.FINISHED
        Simple(repository_class=runs)  # a writer removes it
    assert read_committed(db)["pipelines"]
    assert journal(db).read_bytes() != folded


def test_commits_after_another_process_was_killed_in_its_fold_are_kept(db):
    """The killed fold left a journal already in the file: this process must not append to it."""
    runs = TinyDBRepository.at(db)
    first = Simple(repository_class=runs)
    first.start()  # this process appends to the journal, and keeps it open
    write("prorch_nb", "checkpoint", db=db, then="kill")
    assert journal(db).exists()

    assert next(s.status for s in Store(runs).steps_of(first.uuid)) == Status.FINISHED  # read, as a reader
    first.start()  # a commit: into a new journal, extending the new file
    forget_this_process(db)

    assert [s.status for s in Store(runs).steps_of(first.uuid)][:2] == [Status.FINISHED] * 2


def test_read_committed_leaves_out_the_files_generation(db):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs).start()
    assert set(read_committed(db)) == {"pipelines", "pipeline_steps"}
    assert "_prorch_nb" in json.loads(db.read_text())


def test_a_click_in_the_run_panel_brings_the_file_up_to_date_in_the_background(db):
    runs = TinyDBRepository.at(db)
    run = Simple(repository_class=runs)
    panel = run.panel()

    panel.start_button.click()  # returns without folding: the fold waits in a timer thread
    timer = Database.at(db)._timer
    assert timer is not None
    timer.join(timeout=300)

    assert not journal(db).exists()
    assert in_file_alone(db)["pipelines"][run.uuid]["status"] == Status.PENDING
