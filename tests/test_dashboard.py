"""The dashboard, driven by clicks: new runs, ticks, runs until done (in a thread), stopping, filtering."""

import html
import re

import pytest
from IPython.core.formatters import DisplayFormatter

from prorch_nb import InMemoryRepository, Orchestrator, OrchestratorConfig, Status, StopReason, TinyDBRepository
from prorch_nb.notebook import Dashboard
from prorch_nb.notebook.widgets.dashboard_view import NO_RUN
from prorch_nb.notebook.widgets.render import RUN_HEADERS
from prorch_nb.store import Store
from prorch_nb.styles import style_of
from tests import widget_pipelines
from tests.counting import counting_repository
from tests.pipelines import Broken, Simple
from tests.runs import run_in
from tests.widget_pipelines import PATIENCE, ChattyLater, Gated

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(params=["memory", "tinydb"])
def repository(request, tmp_path):
    """The thread-safe repositories (the seed's own TinyDB example is not)."""
    if request.param == "memory":
        return InMemoryRepository.fresh()
    return TinyDBRepository.at(tmp_path / "runs.json")


@pytest.fixture
def dashboard(repository):
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
    yield board
    widget_pipelines.RELEASE.set()  # never leave a background run waiting
    assert board.join(PATIENCE)
    board.close()


@pytest.fixture(autouse=True)
def _reset_gate():
    widget_pipelines.ENTERED.clear()
    widget_pipelines.RELEASE.clear()


def statuses(repository):
    return sorted(record.status for record in Store(repository).all_pipelines())


@pytest.mark.parametrize(("start_at_once", "status"), [(True, Status.PENDING), (False, Status.CREATED)])
def test_new_run_is_created_started_and_shown(start_at_once, status, dashboard, repository):
    dashboard.pipeline_choice.value = "Simple"
    dashboard.start_at_once.value = start_at_once
    dashboard.new_button.click()
    [record] = Store(repository).all_pipelines()
    assert (record.name, record.status) == ("Simple", status)
    assert dashboard.run_choice.value == record.uuid
    assert dashboard.panel is not None and dashboard.panel.pipeline_uuid == record.uuid
    assert dashboard.panel_box.children == (dashboard.panel,)
    assert record.uuid[:8] in dashboard.runs_view.value
    assert f"{style_of(status).glyph} {status}" in dashboard.runs_view.value
    assert "Simple" in dashboard.summary_view.value and "1 run, " in dashboard.header.value


def test_new_run_logs_what_its_first_hook_prints(dashboard, repository, capsys):
    dashboard.pipeline_choice.value = "Talkative"
    dashboard.new_button.click()
    [record] = Store(repository).all_pipelines()
    assert f"[Talkative {record.uuid[:8]} · Chatty] hello from Chatty" in dashboard.log_view.text
    assert capsys.readouterr().out == ""


def test_tick_shows_the_report_and_its_errors(dashboard, repository):
    run = Broken(repository_class=repository)
    run.start()
    dashboard.tick_button.click()
    assert [s.status for s in run.step_records()][1] == Status.FAILED
    report = html.unescape(dashboard.report_view.value)
    assert "<TickReport: 1 ticked, 1 advanced, 0 ended, 1 failed, 1 error>" in report
    assert "ValueError: disk full" in report and "<details><summary>Traceback</summary>" in report
    assert "Tick: <TickReport" in dashboard.log_view.text
    assert "✗ failed" not in dashboard.runs_view.value  # the run fails on its next tick
    dashboard.tick_button.click()
    assert "✗ failed" in dashboard.runs_view.value


def test_run_until_done_goes_to_the_end_in_a_thread(dashboard, repository):
    runs = [Simple(repository_class=repository) for _ in range(2)]
    for run in runs:
        run.start()
    dashboard.run_button.click()
    assert dashboard.join(PATIENCE)
    assert statuses(repository) == [Status.FINISHED, Status.FINISHED]
    assert (dashboard.progress.value, dashboard.progress.max) == (2, 2)
    assert dashboard.progress_label.value.startswith("pass 3, 2 ended — stopped: no pipeline is pending")
    assert dashboard.background.report.stopped_because == StopReason.NOTHING_PENDING
    assert not dashboard.run_button.disabled and not dashboard.tick_button.disabled
    assert dashboard.stop_button.disabled
    assert dashboard.runs_view.value.count("✓ finished") == 2


def test_stop_ends_the_run_after_the_pass_under_way(dashboard, repository):
    for _ in range(2):
        Gated(repository_class=repository).start()
    dashboard.run_button.click()
    assert widget_pipelines.ENTERED.wait(PATIENCE)  # the first pass is inside a hook
    assert dashboard.run_button.disabled and dashboard.tick_button.disabled and not dashboard.stop_button.disabled
    dashboard.stop_button.click()
    assert dashboard.stop_button.disabled
    widget_pipelines.RELEASE.set()
    assert dashboard.join(PATIENCE)
    assert dashboard.background.report.stopped_because == StopReason.REQUESTED
    assert len(dashboard.background.report.ticks) == 1
    assert statuses(repository) == [Status.PENDING, Status.PENDING]
    assert dashboard.progress.value < dashboard.progress.max == 2
    assert f"stopped: {StopReason.REQUESTED}" in dashboard.progress_label.value
    assert not dashboard.run_button.disabled


@pytest.mark.parametrize("status", Status.ALL)
def test_status_filter_shows_only_runs_in_that_status(status, dashboard, repository):
    runs = {each: run_in(each, repository)[0] for each in Status.ALL}
    dashboard.refresh_button.click()
    assert all(run.uuid[:8] in dashboard.runs_view.value for run in runs.values())
    dashboard.status_filter.value = status
    for each, run in runs.items():
        assert (run.uuid[:8] in dashboard.runs_view.value) == (each == status)
    assert [uuid for _, uuid in dashboard.run_choice.options] == ["", runs[status].uuid]
    headers = [f">{style_of(each).glyph} {each}</th>" for each in Status.ALL]
    assert [dashboard.summary_view.value.count(header) for header in headers] == [1] * len(Status.ALL)


def test_runs_table_is_limited_newest_first(repository):
    made = [Simple(repository_class=repository) for _ in range(5)]
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)), limit=3)
    table = board.runs_view.value
    assert [run.uuid[:8] in table for run in made] == [False, False, True, True, True]
    assert table.index(made[4].uuid[:8]) < table.index(made[2].uuid[:8])
    assert "… and 2 more (showing the newest 3)." in table
    assert len(board.run_choice.options) == 4 and board.run_choice.options[0] == (NO_RUN, "")


def test_a_panel_action_updates_the_dashboard(dashboard, repository):
    run = Simple(repository_class=repository)
    dashboard.refresh_button.click()
    dashboard.run_choice.value = run.uuid
    assert dashboard.panel.pipeline_uuid == run.uuid
    dashboard.panel.start_button.click()
    assert "▶ pending" in dashboard.runs_view.value and "1 pending" in dashboard.header.value
    dashboard.run_choice.value = ""
    assert dashboard.panel is None and dashboard.panel_box.children == ()


def test_snapshot_bundle_has_the_widget_view_and_a_static_page(dashboard, repository):
    run = Simple(repository_class=repository)
    run.start()
    dashboard.select(run.uuid)
    data, _ = DisplayFormatter().format(dashboard)
    assert data[WIDGET_VIEW]["model_id"] == dashboard.model_id
    page = data["text/html"]
    assert "prorch-summary-table" in page and "prorch-runs-table" in page and run.uuid[:8] in page
    assert "<svg" in page and "prorch-steps-table" in page  # the chosen run's panel
    assert data["text/plain"].splitlines()[0].endswith(": 1 run")


def test_a_pass_tags_what_each_hook_printed_with_its_run_and_step(dashboard, repository, capsys):
    runs = [ChattyLater(repository_class=repository) for _ in range(2)]
    for run in runs:
        run.start()  # Quick: prints nothing
    dashboard.tick_button.click()  # one pass: both runs' Chatty print the same lines
    lines = [line for line in dashboard.log_view.text.splitlines() if "Chatty]" in line]
    assert lines == [
        f"[ChattyLater {run.uuid[:8]} · Chatty] {text}" for run in runs for text in ("hello from Chatty", "second line")
    ]
    assert "[tick]" not in dashboard.log_view.text and capsys.readouterr().out == ""


def test_run_until_done_tags_what_hooks_print_in_its_thread(dashboard, repository):
    run = ChattyLater(repository_class=repository)
    run.start()
    dashboard.run_button.click()
    assert dashboard.join(PATIENCE)
    assert f"[ChattyLater {run.uuid[:8]} · Chatty] hello from Chatty" in dashboard.log_view.text
    assert "[pass 1]" not in dashboard.log_view.text


def test_a_refresh_reads_the_page_it_shows_not_every_run():
    repository = counting_repository()
    made = [Simple(repository_class=repository) for _ in range(30)]
    for run in made[:10]:
        run.start()
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)), limit=5)
    repository.reads.clear()
    board.refresh()
    reads = repository.reads
    assert "pipelines.all" not in reads and "steps.all" not in reads and "pipelines.get" not in reads
    assert (reads["pipelines.tally"], reads["pipelines.newest"]) == (1, 1)  # the counts, and the page read at once
    assert [uuid for _, uuid in board.run_choice.options[1:]] == [run.uuid for run in made[::-1][:5]]
    assert "30 runs, 10 pending" in board.header.value
    board.close()


def test_summary_and_runs_tables_have_one_header_row_and_only_statuses_coloured(dashboard, repository):
    run_in(Status.FAILED, repository)
    Simple(repository_class=repository)
    dashboard.refresh_button.click()
    summary, runs = dashboard.summary_view.value, dashboard.runs_view.value
    assert summary.count("<thead><tr>") == 1 and summary.count("</tr></thead>") == 1
    assert re.findall(r"<tr><th[^>]*>([^<]*)</th>", summary.split("</thead>")[1]) == ["Broken", "Simple"]
    headers = re.findall(r"<th([^>]*)>([^<]*)</th>", runs)
    assert [text for _, text in headers] == list(RUN_HEADERS)
    assert all(attributes == "" for attributes, _ in headers)  # a count column is not painted like a status
    assert re.search(r"<td>1/3</td>", runs)  # Broken: one of three steps finished
