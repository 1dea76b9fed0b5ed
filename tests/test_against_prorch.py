"""prorch_nb against prorch 1.0.1, tick by tick.

Each script in ``tests/scenarios/`` runs twice in a subprocess, in a fresh folder (its
``database.json`` lands there): once importing ``prorch`` and once ``prorch_nb``. It
prints what every hook does and, after creation and after every tick, the stored status
of every pipeline and step. The two outputs must be the same line for line.

The scenarios keep clear of the reference's known defects (class-level metadata, hooks
that raise, metadata written in ``on_start`` and read in a later ``on_continue``): those
are covered by the engine's own tests.
"""

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sql_databases import POSTGRES_URL, postgres_repository

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ROOTS = ("prorch", "prorch_nb")


def run_script(script: str, root: str, folder: Path, *args: str, database: dict[str, str] | None = None) -> list[str]:
    """Output lines of ``tests/scenarios/<script>.py <root> <args>`` run in ``folder``.

    ``database``: the environment that puts prorch_nb's runs in a SQL database.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PRORCH_ROOT")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if root == "prorch_nb":
        env["PYTHONPATH"] = str(REPO_ROOT)
        env.update(database or {})
    result = subprocess.run(
        [sys.executable, str(SCENARIOS / f"{script}.py"), root, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{script} {args} under {root} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.splitlines()


def pipeline_statuses(state_line: str) -> list[str]:
    """``['finished', 'pending@1', ...]`` from a state line, one per stored pipeline."""
    return re.findall(r"P\d+ \S+ (\S+) \[", state_line)


def rows(tables: dict, name: str) -> list[dict]:
    """The records of a TinyDB table in storage order."""
    table = tables[name]
    return [table[key] for key in sorted(table, key=int)]


def test_reference_is_prorch_1_0_1():
    assert importlib.metadata.version("prorch") == "1.0.1"


# Same lines under both roots -----------------------------------------------------------

SCENARIO_CASES = [
    # script, extra argv, final status of each pipeline (as prorch 1.0.1 leaves it)
    pytest.param("backup_seed", (), ["finished"], id="seed-backup-automation"),
    pytest.param("mixins", (), ["finished", "pending@1", "pending@0"], id="one-or-no-mixin"),
    pytest.param("finish_in_on_start", (), ["finished"], id="finish-in-on-start"),
    pytest.param("waiting", (), ["finished"], id="wait-several-ticks"),
    pytest.param("fail_and_cancel", ("fail",), ["failed", "failed", "finished"], id="step-fails"),
    pytest.param("fail_and_cancel", ("cancel",), ["cancelled", "cancelled", "finished"], id="step-cancels"),
    pytest.param(
        "orchestrator", (), ["finished", "created", "finished", "finished", "finished"], id="orchestrator-passes"
    ),
    pytest.param("cross_pipeline", (), ["finished", "finished"], id="step-waits-on-another-pipeline"),
]


@pytest.fixture(params=["seed-repository", "sqlite", "postgres"])
def prorch_nb_database(request, tmp_path):
    """Where prorch_nb's runs go: the seed's repository (as prorch's do), SQLite or PostgreSQL."""
    if request.param == "seed-repository":
        yield None
    elif request.param == "sqlite":
        yield {"PRORCH_NB_SCENARIO_DB": f"sqlite:///{tmp_path / 'scenario.db'}", "PRORCH_NB_SCENARIO_DB_PREFIX": "s_"}
    else:
        with postgres_repository() as repository:
            yield {"PRORCH_NB_SCENARIO_DB": POSTGRES_URL, "PRORCH_NB_SCENARIO_DB_PREFIX": repository.prefix}


@pytest.mark.parametrize(("script", "args", "final"), SCENARIO_CASES)
def test_same_ticks_as_prorch(script, args, final, tmp_path, prorch_nb_database):
    reference = run_script(script, "prorch", tmp_path / "prorch", *args)
    ours = run_script(script, "prorch_nb", tmp_path / "prorch_nb", *args, database=prorch_nb_database)

    assert ours == reference
    assert reference[0].startswith(" 0 created: P0 ")
    assert reference[-1].split(": ", 1)[0].endswith("final")
    assert pipeline_statuses(reference[-1]) == final
    assert not [line for line in reference if "SHOULD NOT RUN" in line]


# A database written by prorch 1.0.1, carried on by prorch_nb ---------------------------

SEED_PIPELINE_FIELDS = ["metadata", "name", "status", "uuid"]
SEED_STEP_FIELDS = ["metadata", "name", "pipeline_uuid", "status", "uuid"]


@pytest.fixture(scope="module")
def old_database(tmp_path_factory) -> Path:
    """database.json left by prorch 1.0.1: P0 on a pending step, P1 never started,
    P2 finished, P3 between two steps."""
    folder = tmp_path_factory.mktemp("written_by_prorch")
    lines = run_script("old_database", "prorch", folder, "write")
    assert pipeline_statuses(lines[-1]) == ["pending@1", "created", "finished", "pending@0"]
    return folder / "database.json"


def test_old_prorch_database_has_only_the_seed_fields(old_database):
    tables = json.loads(old_database.read_text())
    assert [sorted(record) for record in rows(tables, "pipelines")] == [SEED_PIPELINE_FIELDS] * 4
    assert [sorted(record) for record in rows(tables, "pipeline_steps")] == [SEED_STEP_FIELDS] * 11


@pytest.mark.parametrize("store", ["default", "seed"], ids=["prorch_nb-TinyDBRepository", "seed-example-repository"])
def test_old_prorch_database_continues_to_the_end(store, old_database, tmp_path):
    before = json.loads(old_database.read_text())
    shutil.copy(old_database, tmp_path / "database.json")

    lines = run_script("old_database", "prorch_nb", tmp_path, "continue", store)

    old_pipelines, old_steps = rows(before, "pipelines"), rows(before, "pipeline_steps")
    loaded = [f"loaded P{i} {record['name']} {record['status']} True" for i, record in enumerate(old_pipelines)]
    assert lines[: len(loaded)] == loaded
    after_orchestrator = next(line for line in lines if " after the orchestrator: " in line)
    assert pipeline_statuses(after_orchestrator) == ["finished", "created", "finished", "finished"]
    assert "P0 WaitForGo.on_start" not in "\n".join(lines)  # started by prorch: only continued

    after = json.loads((tmp_path / "database.json").read_text())
    new_pipelines, new_steps = rows(after, "pipelines"), rows(after, "pipeline_steps")
    assert [p["status"] for p in new_pipelines] == ["finished"] * 4
    assert [s["status"] for s in new_steps] == ["finished"] * 11
    for old, new in zip(old_pipelines + old_steps, new_pipelines + new_steps, strict=True):
        assert {key: new[key] for key in old if key not in ("status", "metadata")} == {
            key: value for key, value in old.items() if key not in ("status", "metadata")
        }


def test_old_prorch_database_continues_alike_under_both_roots(old_database, tmp_path):
    outputs = {}
    for root in ROOTS:
        shutil.copytree(old_database.parent, tmp_path / root)
        outputs[root] = run_script("old_database", root, tmp_path / root, "continue", "passes")

    assert outputs["prorch_nb"] == outputs["prorch"]
    assert pipeline_statuses(outputs["prorch"][-1]) == ["finished"] * 4
