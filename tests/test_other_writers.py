"""Other programs write the database file while prorch_nb has an unfolded journal: nothing is lost.

Each program runs in its own process (``tests/writers.py``): prorch_nb writers that
exit, are killed or stay alive with their journal unfolded, and plain TinyDB or
prorch 1.0.1 (with the seed's repository) inserting, updating and deleting records in
the file in between. What another program wrote is merged; where it changed a record
the journal changed too, prorch_nb refuses with an error naming the record and
overwrites nothing until told which version to keep.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import Status

ROOT = Path(__file__).resolve().parents[1]


def write(who: str, *args: str, db: Path, then: str = "exit", stdin: str | None = None) -> list[str]:
    """Run a writer to its end; its output lines."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.writers", who, "--db", str(db), "--then", then, *args],
        cwd=db.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, -9), result.stderr
    return result.stdout.split("\n")[:-1]


def in_file_alone(db: Path) -> dict[str, dict[str, dict]]:
    """Each table's records by uuid, as a program reading only the JSON file sees them."""
    tables = json.loads(db.read_text())
    return {name: {row["uuid"]: row for row in rows.values()} for name, rows in tables.items() if name != "_prorch_nb"}


def finished_steps(tables: dict, run: str) -> int:
    return sum(s["status"] == Status.FINISHED for s in tables["pipeline_steps"].values() if s["pipeline_uuid"] == run)


OUTSIDER = {"uuid": "outsider", "name": "Outsider", "status": "created", "metadata": {}}

#: A change another program makes, and what the file must show of it afterwards.
CHANGES = {
    "tinydb-insert": (("tinydb", "insert", "pipelines", json.dumps(OUTSIDER)), "inserted"),
    "tinydb-update": (("tinydb", "update", "pipelines", "{C}", '{"metadata": {"note": "by TinyDB"}}'), "updated"),
    "tinydb-delete": (("tinydb", "delete", "pipelines", "{C}"), "deleted"),
    "prorch-create": (("prorch", "create"), "prorch run"),
}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "database.json"  # the seed's repository, used by prorch 1.0.1, knows no other name


@pytest.mark.slow
@pytest.mark.parametrize("then", ["exit", "kill", "wait"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_another_programs_change_survives_the_next_fold(db, then, change):
    b, c = write("prorch_nb", "create", "2", db=db)  # both in the file: the writer folded at exit
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.writers", "prorch_nb", "--db", str(db), "--then", then, "work", b],
        cwd=db.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    new = worker.stdout.readline().strip()  # a new run and b are started: that is in the journal
    if then != "wait":
        worker.wait(timeout=300)
    assert Path(f"{db}.journal").exists() == (then != "exit")

    (who, *args), outcome = CHANGES[change]
    printed = write(who, *[arg.replace("{C}", c) for arg in args], db=db)

    if then == "wait":
        worker.communicate("go on\n", timeout=300)  # it commits again, then folds at exit
        assert worker.returncode == 0
    else:
        assert write("prorch_nb", "checkpoint", db=db) == []  # a new process folds: no error
    assert not Path(f"{db}.journal").exists()
    tables = in_file_alone(db)
    ticks = 2 if then == "wait" else 1
    assert finished_steps(tables, new) == finished_steps(tables, b) == ticks  # prorch_nb's commits kept
    pipelines = tables["pipelines"]
    if outcome == "inserted":
        assert pipelines["outsider"] == OUTSIDER
    elif outcome == "updated":
        assert pipelines[c]["metadata"] == {"note": "by TinyDB"} and pipelines[c]["status"] == Status.CREATED
    elif outcome == "deleted":
        assert c not in pipelines
    else:
        (seeded,) = printed
        assert pipelines[seeded]["name"] == "Seeded"
        assert finished_steps(tables, seeded) == 1
    assert set(pipelines) - {"outsider", *printed} == {b, new} | ({c} if outcome != "deleted" else set())


@pytest.mark.slow
@pytest.mark.parametrize("change", ["update", "delete"])
def test_a_record_changed_by_both_stops_prorch_nb_before_anything_is_overwritten(db, change):
    b, c = write("prorch_nb", "create", "2", db=db)
    write("prorch_nb", "work", b, db=db, then="kill")  # b's first tick is in the journal only
    if change == "update":
        write("tinydb", "update", "pipelines", b, '{"metadata": {"note": "by TinyDB"}}', db=db)
    else:
        write("tinydb", "delete", "pipelines", b, db=db)
    file_before, journal_before = db.read_bytes(), Path(f"{db}.journal").read_bytes()

    (error,) = write("prorch_nb", "checkpoint", db=db)
    what = "changed in the file and by prorch_nb" if change == "update" else "deleted from the file"
    assert error.startswith(f"error: StoreConflictError: {db}: another program changed records")
    assert f"pipelines record {b} (Simple): {what}" in error
    assert "keep='file'" in error and "keep='journal'" in error
    failed = subprocess.run(
        [sys.executable, "-m", "tests.writers", "prorch_nb", "--db", str(db), "work", c],
        cwd=db.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1 and "StoreConflictError" in failed.stderr  # no commit either
    assert (db.read_bytes(), Path(f"{db}.journal").read_bytes()) == (file_before, journal_before)


@pytest.mark.slow
@pytest.mark.parametrize("keep", ["file", "journal"])
def test_a_conflict_is_resolved_by_keeping_the_chosen_version(db, keep):
    b, _ = write("prorch_nb", "create", "2", db=db)
    write("prorch_nb", "work", b, db=db, then="kill")
    write("tinydb", "update", "pipelines", b, '{"metadata": {"note": "by TinyDB"}}', db=db)

    assert write("prorch_nb", "checkpoint", "--keep", keep, db=db) == []

    record = in_file_alone(db)["pipelines"][b]
    if keep == "file":
        assert (record["status"], record["metadata"]) == (Status.CREATED, {"note": "by TinyDB"})
    else:
        assert record["status"] == Status.PENDING and "note" not in record["metadata"]
    assert finished_steps(in_file_alone(db), b) == 1  # its steps, changed by prorch_nb alone, are kept
    assert write("prorch_nb", "checkpoint", db=db) == []  # resolved for good


@pytest.mark.slow
def test_prorch_ticking_its_own_run_while_a_journal_is_unfolded_loses_nothing(db):
    (seeded,) = write("prorch", "create", db=db)
    (b,) = write("prorch_nb", "create", "1", db=db)
    write("prorch_nb", "work", b, db=db, then="kill")
    write("prorch", "start", seeded, db=db)  # prorch 1.0.1 updates its own records in the file

    assert write("prorch_nb", "checkpoint", db=db) == []

    tables = in_file_alone(db)
    assert finished_steps(tables, seeded) == 2 and finished_steps(tables, b) == 1


@pytest.mark.slow
def test_what_prorch_1_0_1_can_do_with_a_file_prorch_nb_writes(db):
    """The README's claims: prorch runs its own runs in our file, but cannot load ours."""
    (seeded,) = write("prorch", "create", db=db)
    write("prorch_nb", "work", *write("prorch_nb", "create", "1", db=db), db=db)  # a prorch_nb run pending

    assert write("prorch", "start", seeded, db=db) == []  # its own run goes on
    (error,) = write("prorch", "orchestrate", db=db)
    assert error.startswith("TypeError: ") and "unexpected keyword argument" in error

    tables = in_file_alone(db)
    assert finished_steps(tables, seeded) == 2


@pytest.mark.slow
def test_the_command_line_reports_a_conflict_on_one_line_and_resolves_it(db):
    b, _ = write("prorch_nb", "create", "2", db=db)
    write("prorch_nb", "work", b, db=db, then="kill")
    write("tinydb", "update", "pipelines", b, '{"metadata": {"note": "by TinyDB"}}', db=db)

    def prorch_nb(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "prorch_nb", *args, "--db", str(db)]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    refused = prorch_nb("status")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("prorch-nb: error: ") and refused.stderr.count("\n") == 1
    assert f"pipelines record {b} (Simple): changed in the file and by prorch_nb" in refused.stderr
    resolved = prorch_nb("checkpoint", "--keep", "journal")
    assert (resolved.returncode, resolved.stdout) == (0, f"{db}: journal folded in\n")
    assert prorch_nb("status").returncode == 0
    assert in_file_alone(db)["pipelines"][b]["status"] == Status.PENDING
