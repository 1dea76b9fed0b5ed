"""The TinyDB store fails loudly and writes only what it should: disk full, permissions, links, readers."""

import contextlib
import fcntl
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import Status, TinyDBRepository, checkpoint
from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.database import Database, read_committed
from prorch_nb.store import Store
from tests.pipelines import Simple
from tests.test_other_writers import ROOT, write


@pytest.fixture
def db(tmp_path):
    return tmp_path / "runs.json"


def sidecar(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file of a folder: inode, modification time and bytes."""
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes()) for path in folder.iterdir()}


# A full disk ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_unit_cut_short_by_a_full_disk_is_never_replayed_and_its_hook_runs_again(db):
    errors = write("prorch_nb", "handoff", "16000", db=db)

    assert errors == [f"StoreFileError: {db}.journal: cannot be written: File too large"]  # said, not swallowed
    tables = read_committed(db)
    (run,) = tables["pipelines"].values()
    first, second = sorted(tables["pipeline_steps"].values(), key=lambda step: step["position"])
    assert [first["status"], second["status"], run["status"]] == [Status.FINISHED] * 3
    assert second["metadata"] == {"blob_length": 40_000}  # the blob was handed on: no step ran without it
    assert [entry["status"] for entry in first["history"]] == [Status.CREATED, Status.PENDING, Status.FINISHED]
    assert not sidecar(db, ".journal").exists()  # run_until_done folded it: the file alone says so too


@pytest.mark.slow
def test_a_fold_that_fails_after_a_commit_warns_and_the_commit_stands(db):
    raised, warning = write("prorch_nb", "fold-fails", "20", db=db)

    assert raised == "0 raised"  # no caller is told a stored creation failed
    assert warning.startswith(f"{db}: the journal could not be folded into the file (every commit is safe in")
    assert warning.endswith(f"{db}: cannot be written: File too large")
    assert len(read_committed(db)["pipelines"]) == 70


@pytest.mark.slow
def test_an_explicit_checkpoint_that_cannot_write_raises_naming_the_database(db):
    write("prorch_nb", "work", *write("prorch_nb", "create", "1", db=db), db=db, then="kill")
    journal = sidecar(db, ".journal").read_bytes()

    (error,) = write("prorch_nb", "checkpoint", "--limit", "100", db=db)

    assert error == f"error: StoreFileError: {db}: cannot be written: File too large"
    assert sidecar(db, ".journal").read_bytes() == journal
    assert [path.name for path in db.parent.iterdir() if path.name.endswith(".tmp")] == []


# Permissions, links, temporary files -----------------------------------------------------


def test_the_journal_lock_and_rewritten_file_keep_the_databases_permissions(db):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs)
    os.chmod(db, 0o600)
    umask = os.umask(0o022)
    os.umask(umask)

    Simple(repository_class=runs).start()
    assert stat.S_IMODE(sidecar(db, ".journal").stat().st_mode) == 0o600
    checkpoint(runs)

    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(sidecar(db, ".lock").stat().st_mode) == 0o600  # made before the chmod, matched since
    assert os.umask(umask) == umask  # never changed


def test_a_symlinked_database_stays_a_link_to_a_current_file(tmp_path):
    real = tmp_path / "data" / "runs.json"
    real.parent.mkdir()
    link = tmp_path / "runs.json"
    link.symlink_to(real)
    by_link, by_real = TinyDBRepository.at(link), TinyDBRepository.at(real)

    run = Simple(repository_class=by_link)
    run.start()
    assert Database.at(link) is Database.at(real)  # one lock, one journal
    assert sidecar(real, ".journal").exists() and not sidecar(link, ".journal").exists()
    assert next(s.status for s in Store(by_real).steps_of(run.uuid)) == Status.FINISHED
    checkpoint(by_link)

    assert link.is_symlink() and link.resolve() == real
    assert json.loads(link.read_text())["pipelines"]["1"]["status"] == Status.PENDING


@pytest.mark.parametrize("suffix", [".journal", ".lock"])
def test_no_file_is_created_through_a_dangling_link_beside_the_database(db, tmp_path, suffix):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs)
    checkpoint(runs)
    target = tmp_path / "elsewhere" / "planted"
    target.parent.mkdir()
    sidecar(db, suffix).unlink(missing_ok=True)
    sidecar(db, suffix).symlink_to(target)
    Database._open.pop(str(db), None)  # a new process

    with pytest.raises(StoreFileError, match=rf"{db}: its (journal|lock file) .* is a symbolic link"):
        Simple(repository_class=runs).start()
    assert not target.exists()


def test_only_the_stores_own_stale_temporary_files_are_swept(db):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs).start()
    notes = sidecar(db, ".notes.tmp")
    notes.write_text("mine")
    stale = sidecar(db, ".prorch_nb-0badc0de.tmp")
    stale.write_text("{")  # left by a rewrite that was killed

    checkpoint(runs)

    assert notes.read_text() == "mine" and not stale.exists()


# Readers never write -----------------------------------------------------------------------


READERS = {
    "status": [sys.executable, "-m", "prorch_nb", "status", "--db", "{db}"],
    "read_committed": [
        sys.executable,
        "-c",
        "from prorch_nb.repositories.database import read_committed as r; r('{db}')",
    ],
    "frames": [
        sys.executable,
        "-c",
        "import prorch_nb as p; from prorch_nb.notebook import frames as f; "
        "f.steps_frame(p.TinyDBRepository.at('{db}')); f.pipelines_frame(p.TinyDBRepository.at('{db}'))",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_a_reader_takes_no_lock_and_leaves_every_file_as_it_was(db, reader):
    write("prorch_nb", "work", *write("prorch_nb", "create", "1", db=db), db=db, then="kill")  # a journal is left
    sidecar(db, ".lock").unlink()
    before = snapshot(db.parent)

    result = subprocess.run(
        [part.replace("{db}", str(db)) for part in READERS[reader]],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert snapshot(db.parent) == before


@pytest.mark.slow
def test_a_reader_never_waits_for_the_lock_another_process_holds(db):
    write("prorch_nb", "create", "1", db=db)
    descriptor = os.open(sidecar(db, ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # a writer in the middle of a unit, for as long as it likes
    try:
        result = subprocess.run(
            [sys.executable, "-m", "prorch_nb", "status", "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.close(descriptor)
    assert result.returncode == 0 and "1 pipeline in" in result.stdout


# Durability ----------------------------------------------------------------------------


def test_durability_commit_syncs_every_unit_and_process_does_not(db, monkeypatch):
    synced = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), real(fd))[1])
    lazy = TinyDBRepository.at(db)
    Simple(repository_class=lazy).start()
    assert synced == []

    careful = TinyDBRepository.at(db.with_name("careful.json"), durability="commit")
    Simple(repository_class=careful)  # the first commit writes the file itself, fsynced
    Simple(repository_class=careful).start()  # creation, then the tick's two units: journal lines
    assert len(synced) == 3


def test_an_unknown_durability_is_refused_naming_the_choices(db):
    with pytest.raises(ValueError, match="durability must be one of 'process', 'commit', not 'always'"):
        TinyDBRepository.at(db, durability="always")


def test_a_folded_journal_is_let_go_so_its_space_is_freed(db):
    runs = TinyDBRepository.at(db)
    Simple(repository_class=runs).start()
    checkpoint(runs)

    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the descriptor listdir itself used is gone already
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
    assert not [path for path in held if path.startswith(str(sidecar(db, ".journal")))]
