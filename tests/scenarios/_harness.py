"""Shared by the scenario scripts: the import root, the seed's repository, the state lines.

A scenario script runs as ``python tests/scenarios/<name>.py <root>`` (or with the root
in ``$PRORCH_ROOT``), in a fresh working folder: ``database.json`` lands there. Every
line it prints must be the same under ``prorch`` (1.0.1) and ``prorch_nb``.
"""

import importlib
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

# The repository root, for the seed's repository class in tests/seed_repository.py (the
# script's own folder, tests/scenarios, is all Python puts on sys.path).
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

from tests.seed_repository import seed_repository

ROOTS = ("prorch", "prorch_nb")
#: A database URL: prorch_nb's runs go there (SQLRepository) instead of the seed's repository.
SQL_ENV = "PRORCH_NB_SCENARIO_DB"

#: The seed README's module paths, and the names each exports.
MODULES = {
    "pipeline.pipeline": ["Pipeline"],
    "step.step": ["Step"],
    "mixins.on_start": ["OnStartMixin"],
    "mixins.on_continue": ["OnContinueMixin"],
    "decorators.decorators": ["register_pipeline", "register_step"],
    "dataclasses.orchestrator": ["SavedItem", "OrchestratorConfig"],
    "interfaces.repository": ["IRepository"],
    "utils.constants": ["Metadata", "Status"],
    "orchestrator.orchestrator": ["Orchestrator"],
}

#: Passes made so far (``pipeline.start()`` or ``execute_pipelines()``); steps that
#: wait for the outside world look at it instead of at their metadata.
clock = SimpleNamespace(tick=0)


def root() -> str:
    name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PRORCH_ROOT", "")
    if name not in ROOTS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(ROOTS)}}} (or set PRORCH_ROOT)")
    return name


def load_api(name: str | None = None) -> SimpleNamespace:
    """The seed's public names, imported from ``<root>.<module path>``."""
    name = name or root()
    api = SimpleNamespace(root=name)
    for path, names in MODULES.items():
        module = importlib.import_module(f"{name}.{path}")
        for attr in names:
            setattr(api, attr, getattr(module, attr))
    api.TinyDBRepository = sql_repository() if name == "prorch_nb" and SQL_ENV in os.environ else seed_repository(name)
    return api


def sql_repository() -> type:
    """prorch_nb's SQL repository on the database ``$PRORCH_NB_SCENARIO_DB`` (tables ``$..._PREFIX``)."""
    from prorch_nb.repositories.sql_repository import SQLRepository

    return SQLRepository.at(os.environ[SQL_ENV], prefix=os.environ[f"{SQL_ENV}_PREFIX"])


# Reading database.json ---------------------------------------------------------------


def _rows(tables: dict, name: str) -> list[dict]:
    table = tables.get(name, {})
    return [table[key] for key in sorted(table, key=int)]


def stored(path: str = "database.json") -> list[tuple[dict, list[dict]]]:
    """(pipeline, its steps) as committed: pipelines by creation, steps in storage order."""
    if SQL_ENV in os.environ:  # prorch_nb's SQL repository: its tables in order of creation
        repository = sql_repository()
        pipelines, steps = repository("PIPELINE").all(), repository("STEP").all()
    elif not os.path.exists(path):
        return []
    else:
        if os.path.exists(path + ".journal"):  # prorch_nb's default store, between folds
            from prorch_nb.repositories.database import read_committed

            tables = read_committed(path)
        else:
            with open(path, encoding="utf-8") as handle:
                tables = json.load(handle)
        pipelines, steps = _rows(tables, "pipelines"), _rows(tables, "pipeline_steps")
    return [(p, [s for s in steps if s["pipeline_uuid"] == p["uuid"]]) for p in pipelines]


def label(pipeline_uuid: str) -> str:
    """``P<n>``: the pipeline's place in creation order."""
    for index, (pipeline, _) in enumerate(stored()):
        if pipeline["uuid"] == pipeline_uuid:
            return f"P{index}"
    return "P?"


def state() -> str:
    """Every stored pipeline: status (with its current step's index while pending) and steps."""
    parts = []
    for index, (pipeline, steps) in enumerate(stored()):
        status = pipeline["status"]
        if status == "pending":
            uuids = [s["uuid"] for s in steps]
            current = (pipeline.get("metadata") or {}).get("current_step")
            status += f"@{uuids.index(current) if current in uuids else '?'}"
        inner = " ".join(f"{s['name']}={s['status']}" for s in steps)
        parts.append(f"P{index} {pipeline['name']} {status} [{inner}]")
    return "; ".join(parts) or "(empty)"


# Driving and reporting ---------------------------------------------------------------


def show(what: str) -> None:
    print(f"{clock.tick:>2} {what}: {state()}")


def say(step, hook: str, text: str) -> None:
    """What a step's hook does, tagged with its pipeline and the pass number."""
    print(f"   {label(step.pipeline_uuid)} {step.name}.{hook}: {text}")


def start(pipeline, tag: str) -> None:
    """One tick by hand: ``pipeline.start()``."""
    clock.tick += 1
    print(f"-- pass {clock.tick}: start {tag}")
    pipeline.start()
    show(f"after start {tag}")


def orchestrate(api, repository_class) -> None:
    """One orchestrator pass over every pending pipeline."""
    clock.tick += 1
    print(f"-- pass {clock.tick}: orchestrator")
    api.Orchestrator(config=api.OrchestratorConfig(repository_class=repository_class)).execute_pipelines()
    show("after orchestrator")


def done(api) -> None:
    """Last line; and proof that only the chosen root was imported."""
    other = "prorch_nb" if api.root == "prorch" else "prorch"
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(ROOTS))
    if loaded != [api.root]:
        sys.exit(f"{api.root} run imported {loaded}, {other} should not be loaded")
    show("final")
