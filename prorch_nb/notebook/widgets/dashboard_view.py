"""One reading of a dashboard's repository, rendered: header, summary, runs table and run choices."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from prorch_nb import registry
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.notebook.html_parts import skipped_note
from prorch_nb.notebook.runs_page import read_page
from prorch_nb.notebook.text import repository_name
from prorch_nb.notebook.widgets import render
from prorch_nb.store import Store
from prorch_nb.utils.clock import now_datetime
from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural

#: Label of the run chooser's empty choice.
NO_RUN = "— choose a run —"


@dataclass(frozen=True)
class DashboardView:
    """What a dashboard shows of its repository, as read once."""

    header: str
    summary: str
    due: str
    runs: str
    choices: tuple[tuple[str, str], ...]


def read_dashboard(
    repository_class: type[IRepository], limit: int, status: str | None, keep: Iterable[str | None] = ()
) -> DashboardView:
    """Read the counts, the page of the newest ``limit`` runs in ``status`` (all if ``None``) and the runs due next.

    The runs ``keep`` names (the chosen run) are listed among the choices even when the
    page does not show them.
    """
    page = read_page(Store(repository_class), limit, status, names=registry.PIPELINES, keep=filter(None, keep))
    where = repository_name(repository_class)
    counts = f"{plural(page.total, 'run')}, {page.by_status[Status.PENDING]} pending"
    rows = [run.record for run in (*page.runs, *page.kept)]
    return DashboardView(
        header=f"<b>Dashboard</b> · {html.escape(where)} · {counts}{skipped_note(where, page.skipped)}",
        summary=render.summary_table(page),
        due=render.due_table(page, now_datetime()),
        runs=render.runs_table(page),
        choices=((NO_RUN, ""), *((render.run_label(r.name, r.uuid, r.status), r.uuid) for r in rows)),
    )
