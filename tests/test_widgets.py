"""The run panel, driven by clicks: repository state and what the widgets show, on every repository."""

import html
import json
import re
import sys
import threading
from pathlib import Path

import ipywidgets
import pytest
from IPython.core.formatters import DisplayFormatter
from ipywidgets.embed import dependency_state

from prorch_nb import InMemoryRepository, Orchestrator, OrchestratorConfig, Status, load_pipeline, subscribe
from prorch_nb.notebook import Dashboard, PipelinePanel
from prorch_nb.notebook.jupyter import INSTALL_HINT
from prorch_nb.notebook.widgets.log import capture_stdout
from prorch_nb.styles import style_of
from tests.counting import counting_repository
from tests.pipelines import Approval, Broken, Simple
from tests.runs import FiftySteps
from tests.widget_pipelines import Talkative

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REPO_ROOT = Path(__file__).resolve().parents[1]
FINISHED, FAILED = style_of(Status.FINISHED), style_of(Status.FAILED)


def buttons(panel):
    """Which of Start, Continue, Cancel are enabled."""
    return {b.description: not b.disabled for b in (panel.start_button, panel.continue_button, panel.cancel_button)}


def shown(widget):
    return html.unescape(widget.value)


def started_and_continued(run):
    """A panel on ``run`` after a click on Start, then one on Continue."""
    panel = PipelinePanel(run)
    panel.start_button.click()
    panel.continue_button.click()
    return panel


def test_start_then_continue_to_the_end(repository_class):
    run = Simple(repository_class=repository_class)
    panel = PipelinePanel(run)
    assert buttons(panel) == {"Start": True, "Continue": False, "Cancel": True}
    assert "· created" in shown(panel.status_line) and "not started" in shown(panel.status_line)

    panel.start_button.click()
    assert run.refresh().status == Status.PENDING
    assert [s.status for s in run.step_records()] == [Status.FINISHED, Status.CREATED, Status.CREATED]
    assert buttons(panel) == {"Start": False, "Continue": True, "Cancel": True}
    assert f'fill="{FINISHED.fill}"' in panel.diagram.value
    assert "✓ finished" in panel.table.value and FINISHED.fill in panel.table.value
    assert "step 1/3 <b>Quick</b>" in panel.status_line.value

    for _ in range(3):
        panel.continue_button.click()
    assert run.refresh().status == Status.FINISHED
    assert buttons(panel) == {"Start": False, "Continue": False, "Cancel": False}
    assert panel.table.value.count("✓ finished") == 3
    assert "ended finished" in panel.log_view.text


def test_what_hooks_print_is_logged_under_their_step(repository_class, capsys):
    panel = PipelinePanel(Talkative(repository_class=repository_class))
    panel.start_button.click()
    assert "[Chatty] hello from Chatty\n[Chatty] second line" in panel.log_view.text
    assert "[Chatty] hello from Chatty" in shown(panel.log_view.widget)
    assert capsys.readouterr().out == ""  # captured for the panel, not printed to the cell


def test_hook_error_shows_with_its_traceback_and_stays(repository_class):
    run = Broken(repository_class=repository_class)
    panel = started_and_continued(run)
    assert [s.status for s in run.step_records()][1] == Status.FAILED
    box = shown(panel.errors_view)
    assert "Explodes failed in on_start" in box and "ValueError: disk full" in box
    assert "<details><summary>Traceback</summary>" in box and 'raise ValueError("disk full")' in box
    assert FAILED.fill in panel.errors_view.value
    assert "Explodes failed: ValueError: disk full" in panel.log_view.text

    panel.continue_button.click()  # the run ends failed; the error is still shown
    panel.refresh_button.click()
    assert run.refresh().status == Status.FAILED
    assert "ValueError: disk full" in shown(panel.errors_view)
    assert f'fill="{FAILED.fill}"' in panel.diagram.value


def test_cancel_with_a_note(repository_class):
    run = Approval(repository_class=repository_class)
    panel = started_and_continued(run)
    panel.note.value = "not needed"
    panel.cancel_button.click()
    assert run.refresh().status == Status.CANCELLED
    assert run.history[-1] == {**run.history[-1], "status": Status.CANCELLED, "by": "hand", "note": "not needed"}
    assert [s.status for s in run.step_records()] == [Status.FINISHED, Status.CANCELLED, Status.CREATED]
    assert buttons(panel) == {"Start": False, "Continue": False, "Cancel": False}
    assert panel.note.value == "" and panel.resolve.box.layout.display == "none"


@pytest.mark.parametrize("status", [Status.FINISHED, Status.FAILED, Status.CANCELLED])
def test_a_waiting_step_is_ended_by_hand(status, repository_class):
    run = Approval(repository_class=repository_class)
    panel = PipelinePanel(run)
    assert panel.resolve.box.layout.display == "none"
    panel.start_button.click()
    panel.continue_button.click()
    assert panel.resolve.box.layout.display != "none"
    assert "<b>WaitForApproval</b> is waiting" in panel.resolve.label.value

    panel.note.value = "checked by Ann"
    panel.resolve.buttons[status].click()
    step = run.step_records()[1]
    assert step.status == status
    assert step.history[-1] == {**step.history[-1], "status": status, "by": "hand", "note": "checked by Ann"}
    assert panel.resolve.box.layout.display == "none"
    assert f"{style_of(status).glyph} {status}" in panel.table.value
    assert f"WaitForApproval {status}" in panel.log_view.text


def test_controls_are_disabled_while_an_action_runs(repository_class):
    run = Approval(repository_class=repository_class)
    panel = started_and_continued(run)
    controls = [panel.start_button, panel.continue_button, panel.cancel_button, panel.refresh_button, panel.note]
    controls += panel.resolve.buttons.values()
    during = []
    unsubscribe = subscribe(lambda _: during.append(([c.disabled for c in controls], panel.resolve.box.layout.display)))
    try:
        panel.resolve.buttons[Status.FINISHED].click()
    finally:
        unsubscribe()
    assert during == [([True] * len(controls), None)]  # one status change, seen with everything disabled
    assert [c.disabled for c in controls] == [True, False, False, False, False, True, True, True]


def comparable(view):
    """A view without what differs between two reads of the same state (Styler ids, running times)."""
    return re.sub(r"running for [^\"]*", "", re.sub(r"T_[0-9a-f]{5}", "T_", view.value))


def test_two_panels_on_one_repository_agree_after_a_refresh(repository_class):
    run = Approval(repository_class=repository_class)
    first, second = run.panel(), PipelinePanel(load_pipeline(run.uuid, repository_class))
    first.start_button.click()
    first.continue_button.click()
    assert "created" in second.status_line.value  # not refreshed yet
    second.refresh_button.click()
    for view in ("status_line", "diagram", "table", "errors_view"):
        assert comparable(getattr(second, view)) == comparable(getattr(first, view))
    assert buttons(second) == buttons(first)
    assert second.resolve.box.layout.display == first.resolve.box.layout.display != "none"


def test_a_stale_panel_shows_the_refusal_instead_of_raising(repository_class, widget_callback_errors):
    run = Approval(repository_class=repository_class)
    first, second = PipelinePanel(run), PipelinePanel(run)
    first.cancel_button.click()
    second.cancel_button.click()  # second still believes the run is open
    box = shown(second.errors_view)
    assert "Cancel failed" in box and "InvalidTransitionError" in box and "already cancelled" in box
    assert "Traceback" in box
    assert buttons(second) == {"Start": False, "Continue": False, "Cancel": False}
    assert widget_callback_errors == []


def test_a_repository_failure_is_shown_and_the_panel_stays_usable(tmp_path):
    class Flaky(InMemoryRepository.fresh()):
        broken = False

        def update(self, uuid, data):
            if Flaky.broken:
                raise OSError("disk gone")
            super().update(uuid, data)

    run = Simple(repository_class=Flaky)
    panel = PipelinePanel(run)
    Flaky.broken = True
    panel.start_button.click()
    assert "Start failed" in shown(panel.errors_view) and "OSError: disk gone" in shown(panel.errors_view)
    assert "Start failed: OSError: disk gone" in panel.log_view.text
    Flaky.broken = False
    panel.refresh()
    panel.start_button.click()
    assert run.refresh().status == Status.PENDING
    assert "OSError: disk gone" in shown(panel.errors_view)  # errors never vanish


def test_the_logger_fixture_sees_exceptions_ipywidgets_swallows(widget_callback_errors):
    button = ipywidgets.Button()
    button.on_click(lambda _: 1 / 0)
    button.click()  # ipywidgets catches the ZeroDivisionError and only logs it
    assert ["ZeroDivisionError" in str(record.exc_info[1].__class__) for record in widget_callback_errors] == [True]
    widget_callback_errors.clear()


def test_capture_takes_only_this_threads_output(capsys):
    captured = []
    with capture_stdout(captured.append):
        other = threading.Thread(target=print, args=("from another thread",))
        other.start()
        other.join()
        print("from this thread")
    assert "".join(captured) == "from this thread\n"
    assert capsys.readouterr().out == "from another thread\n"
    assert sys.stdout.__class__.__name__ != "_Router"


def test_without_dot_the_diagram_falls_back_to_text(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    panel = PipelinePanel(Simple(repository_class=InMemoryRepository.fresh()))
    assert INSTALL_HINT in shown(panel.diagram) and "digraph" in shown(panel.diagram)
    assert INSTALL_HINT in html.unescape(panel._repr_mimebundle_()["text/html"])


def test_snapshot_bundle_has_the_widget_view_and_a_static_page():
    run = Simple(repository_class=InMemoryRepository.fresh())
    run.start()
    panel = run.panel()
    data, _ = DisplayFormatter().format(panel)
    assert data[WIDGET_VIEW]["model_id"] == panel.model_id
    page = data["text/html"]
    assert "<svg" in page and f'fill="{FINISHED.fill}"' in page and "✓ finished" in page
    assert "prorch-steps-table" in page and "<button" not in page
    assert data["text/plain"] == repr(run)
    assert set(panel._repr_mimebundle_(include=["text/html", WIDGET_VIEW], exclude=[WIDGET_VIEW])) == {"text/html"}


def test_saved_widget_state_stays_small_for_a_long_run():
    run = FiftySteps(repository_class=InMemoryRepository.fresh())
    run.start()
    state = dependency_state(PipelinePanel(run))
    assert len(json.dumps(state)) < 250_000


def test_engine_accessors_make_the_widgets():
    repository = InMemoryRepository.fresh()
    run = Simple(repository_class=repository)
    assert isinstance(run.panel(), PipelinePanel) and run.panel().pipeline_uuid == run.uuid
    dashboard = Orchestrator(OrchestratorConfig(repository_class=repository)).dashboard(limit=5)
    assert isinstance(dashboard, Dashboard) and dashboard.limit == 5


def test_a_refresh_reads_the_run_and_its_steps_once_and_nothing_else():
    repository_class = counting_repository()
    for _ in range(20):  # other runs in the repository are never read
        Simple(repository_class=repository_class).start()
    run = Approval(repository_class=repository_class)
    panel = started_and_continued(run)
    repository_class.reads.clear()
    panel.refresh()
    assert repository_class.reads == {"pipelines.get": 1, "steps.search pipeline_uuid": 1}
    assert "▶ pending" in panel.table.value and "WaitForApproval" in panel.status_line.value


def test_the_steps_table_numbers_from_1_and_shows_the_note_a_step_ended_with(repository_class):
    run = Approval(repository_class=repository_class)
    panel = started_and_continued(run)
    panel.note.value = "checked by Ann"
    panel.resolve.buttons[Status.FINISHED].click()
    rows = re.findall(r"<tr>(.*?)</tr>", panel.table.value)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert [row[0] for row in cells] == ["1", "2", "3"]
    assert [row[1] for row in cells] == ["Quick", "WaitForApproval", "Quick"]
    assert [row[6] for row in cells] == ["", "checked by Ann", ""]  # the note column
    assert "Finish step: WaitForApproval finished by hand (note: checked by Ann)" in panel.log_view.text


def test_status_line_and_times_read_for_people(repository_class):
    run = Approval(repository_class=repository_class)
    panel = PipelinePanel(run)
    assert "· created · not started" not in shown(panel.status_line)  # no separator like the created glyph
    assert re.search(r"<code>[0-9a-f]{8}</code> .*· created</span> — not started", panel.status_line.value)
    panel.start_button.click()
    assert re.search(r">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td>", panel.table.value)  # to the second
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", panel.table.value)  # no fractions of a second


def test_every_control_is_named_by_its_label_without_an_icon():
    panel = PipelinePanel(Approval(repository_class=InMemoryRepository.fresh()))
    controls = [panel.start_button, panel.continue_button, panel.cancel_button, panel.refresh_button]
    controls += panel.resolve.buttons.values()
    assert [(control.description, control.icon) for control in controls] == [
        (name, "") for name in ("Start", "Continue", "Cancel", "Refresh", "Finish step", "Fail step", "Cancel step")
    ]
    assert panel.note.description == "Note"


def test_error_boxes_name_files_without_the_machines_folders(repository_class):
    panel = started_and_continued(Broken(repository_class=repository_class))
    box = shown(panel.errors_view)
    assert 'File "prorch_nb/step/step.py", line' in box and 'File "tests/pipelines.py", line' in box
    assert f"{REPO_ROOT}/" not in box and re.search(r'File "/', box) is None
