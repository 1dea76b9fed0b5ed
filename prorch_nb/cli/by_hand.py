"""``prorch-nb send`` and ``prorch-nb resume``: what a person does to a stored run from a shell.

Neither imports the run's module: a signal and a resume only write records, and the
worker that ticks the run runs its hooks. A run is named by its uuid or a unique start of it.
"""

from __future__ import annotations

import json
from typing import Any

from prorch_nb.cli.opening import CliError, Database, open_store, select_run
from prorch_nb.cli.status import error_line
from prorch_nb.cli.terminal import one_line
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.exceptions.exceptions import RecordNotFoundError
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.record_checks import all_records, checked_pipelines
from prorch_nb.store import Store
from prorch_nb.utils.uuids import short_uuid


def send(db: Database, given: str, name: str, value: Any, *, note: str | None) -> str:
    """Send ``value`` to the run ``given`` as the signal ``name``; one line saying what was done."""
    if not name:
        raise CliError("NAME is empty: a signal needs a name, e.g. approval")
    run = _stored_run(db, given)
    run.send(name, value, note=note)
    shown = json.dumps(value, ensure_ascii=False)
    where = f"{_named(run)} ({run.status})"
    return one_line(f"sent {name} = {shown} to {where}; a step waiting for it wakes at the run's next tick")


def resume(db: Database, given: str, *, note: str | None) -> str:
    """Take the failed or cancelled run ``given`` back to pending; one line saying what was done."""
    run = _stored_run(db, given)
    ended = run.status
    step = run.resume(note)
    if step is None:
        return one_line(f"resumed {_named(run)}, {ended}: pending again, its next step starts at its next tick")
    cause = step.history[-1].get("resumed_from")
    why = f" ({error_line(cause)})" if cause else ""
    return one_line(
        f"resumed {_named(run)}, {ended}: pending again from step {step.name}{why}, "
        "which runs on_start at the run's next tick"
    )


def json_value(text: str) -> Any:
    """``send``'s VALUE read as JSON; a :class:`CliError` naming it if it is not (NaN and Infinity are not)."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise CliError(
            f"VALUE {text!r} is not JSON ({exc}); write a text as a JSON string ('\"ship it\"') or use --text"
        ) from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


def _stored_run(db: Database, given: str) -> Pipeline:
    """The run ``given`` names, as a run of no class of its own: its module is not imported."""
    store = open_store(db)
    record = _run_record(store, given, db)
    run = Pipeline._from_record(record, store)
    run.name = record.name  # for messages; a class would give it
    return run


def _run_record(store: Store, given: str, db: Database) -> PipelineData:
    if not given:
        raise CliError("UUID is empty: name a run by its uuid or a unique start of it")
    try:
        return store.pipeline(given)
    except RecordNotFoundError:
        records, _ = checked_pipelines(all_records(store.pipelines))
        return select_run(records, given, db)


def _named(run: Pipeline) -> str:
    return f"{run.name} {short_uuid(run.uuid)}"
