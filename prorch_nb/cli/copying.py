"""``prorch-nb copy``: runs from one database to another (a notebook's file to a shared database, or back)."""

from __future__ import annotations

from prorch_nb.cli.opening import CliError, Database, open_store
from prorch_nb.copying import copy_runs


def copy(source: Database, target: Database) -> str:
    """Copy every run of ``source`` into ``target``; one line saying what was done."""
    if source == target:
        raise CliError(f"--from and --to are the same database ({source})")
    open_store(source)  # it must exist and read
    report = copy_runs(source.repository(), target.repository())
    return f"{source} -> {target}: {report}"
