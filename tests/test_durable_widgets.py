"""The panel's Resume button and Send box, and the dashboard's list of runs due next, driven by clicks."""

from __future__ import annotations

import html
import re

import pytest

from prorch_nb import FakeClock, InMemoryRepository, Orchestrator, OrchestratorConfig, Status, use_clock
from prorch_nb.notebook import Dashboard, PipelinePanel
from prorch_nb.notebook.runs_page import DUE_NEXT
from prorch_nb.notebook.text import format_time
from prorch_nb.store import Store
from tests import durable_pipelines as d
from tests.counting import counting_repository
from tests.durable_pipelines import at
from tests.pipelines import Simple


def shown(widget) -> str:
    return html.unescape(widget.value)


def failed_resumable(repository_class):
    """A Resumable run whose first step failed, and a panel on it after Start and Continue."""
    run = d.Resumable(repository_class=repository_class)
    panel = PipelinePanel(run)
    panel.start_button.click()
    assert panel.resume_button.disabled  # its step failed; the run ends at the next tick
    panel.continue_button.click()
    assert run.refresh().status == Status.FAILED
    return run, panel


# Resume -----------------------------------------------------------------------------------


def test_resume_runs_a_failed_run_again_from_the_step_that_failed(repository_class, clock):
    run, panel = failed_resumable(repository_class)
    assert not panel.resume_button.disabled and not panel.note.disabled
    d.FIXED.add(run.uuid)
    d.FAILURES[run.uuid] = 0
    panel.note.value = "disk cleaned up"
    panel.resume_button.click()
    assert run.refresh().status == Status.PENDING
    crashes = run.step_records()[0]
    assert crashes.status == Status.PENDING and crashes.history[-1]["note"] == "disk cleaned up"
    assert "Resume: resumed the run from Crashes (note: disk cleaned up)" in panel.log_view.text
    assert panel.resume_button.disabled and panel.note.value == ""
    assert not panel.continue_button.disabled and "▶ pending" in shown(panel.status_line)
    assert "resumed 2026-11-30 09:00:00 UTC after OSError: disk full (note: disk cleaned up)" in shown(panel.diagram)
    for _ in range(3):
        panel.continue_button.click()
    assert run.refresh().status == Status.FINISHED and panel.resume_button.disabled


def test_resume_takes_back_a_cancelled_run(clock):
    run = d.SignalledApproval(repository_class=InMemoryRepository.fresh())
    panel = PipelinePanel(run)
    assert panel.resume_button.disabled  # created: nothing to resume
    panel.start_button.click()
    panel.cancel_button.click()
    assert not panel.resume_button.disabled
    panel.resume_button.click()
    assert run.refresh().status == Status.PENDING and run.step_records()[0].status == Status.PENDING
    assert "Resume: resumed the run from AwaitApproval" in panel.log_view.text


def test_resume_refused_for_a_run_cancelled_before_it_started_is_shown_in_the_panel(clock):
    run = d.Timer(repository_class=InMemoryRepository.fresh(), context={"until": at(60)})
    panel = PipelinePanel(run)
    panel.cancel_button.click()
    panel.resume_button.click()
    box = shown(panel.errors_view)
    assert "Resume failed" in box and "InvalidTransitionError" in box and "before it started" in box
    assert run.refresh().status == Status.CANCELLED


# Send -------------------------------------------------------------------------------------


def test_send_delivers_a_signal_that_wakes_the_waiting_step(repository_class, clock):
    run = d.SignalledApproval(repository_class=repository_class)
    panel = PipelinePanel(run)
    panel.start_button.click()
    assert "⏳ waits until 10:00:00 UTC" in shown(panel.status_line)
    clock.advance(60)
    panel.send_box.name.value = "approval"
    panel.send_box.value.value = '{"by": "ann", "comment": "ship it"}'
    panel.note.value = "from the panel"
    panel.send_box.button.click()
    signal = run.refresh().history[-1]
    assert (signal["by"], signal["signal"], signal["note"]) == ("signal", "approval", "from the panel")
    assert signal["value"] == {"by": "ann", "comment": "ship it"}
    assert 'Send: sent approval = {"by": "ann", "comment": "ship it"} (note: from the panel)' in panel.log_view.text
    line = shown(panel.status_line)
    assert "▶ woken by a signal" in line
    assert 'signals: approval = {"by": "ann", "comment": "ship it"} (last 2026-11-30 09:01:00 UTC)' in line
    assert panel.send_box.value.value == "" and panel.send_box.name.value == "approval" and panel.note.value == ""
    panel.continue_button.click()
    step = run.step_records()[0]
    assert step.status == Status.FINISHED and step.metadata["approved_by"] == "ann"
    assert not panel.send_box.button.disabled
    panel.continue_button.click()
    assert run.refresh().status == Status.FINISHED
    assert panel.send_box.button.disabled  # an ended run takes no more signals
    assert panel.send_box.name.disabled and panel.send_box.value.disabled


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("approval", "{by: ann}", "the value of signal 'approval' is not JSON"),
        ("approval", "'yes'", "the value of signal 'approval' is not JSON"),
        ("  ", '"yes"', "a signal needs a name"),
    ],
)
def test_a_signal_that_cannot_be_sent_is_explained_and_nothing_is_sent(name, value, problem, clock):
    run = d.SignalledApproval(repository_class=InMemoryRepository.fresh())
    panel = PipelinePanel(run)
    panel.start_button.click()
    panel.send_box.name.value, panel.send_box.value.value = name, value
    panel.send_box.button.click()
    box = shown(panel.errors_view)
    assert "Send failed" in box and f"ValueError: {problem}" in box
    assert run.refresh().record.signals == {} and [e for e in run.history if e["by"] == "signal"] == []
    assert panel.send_box.value.value == value  # kept, to be corrected


def test_an_empty_value_sends_null(clock):
    run = d.SignalledApproval(repository_class=InMemoryRepository.fresh())
    panel = PipelinePanel(run)
    panel.send_box.name.value = "approval"
    panel.send_box.button.click()  # a created run takes signals too
    assert run.refresh().record.signals == {"approval": None}
    assert "Send: sent approval = null" in panel.log_view.text


def test_the_new_controls_are_named_by_their_labels():
    panel = PipelinePanel(d.SignalledApproval(repository_class=InMemoryRepository.fresh()))
    assert (panel.resume_button.description, panel.resume_button.icon) == ("Resume", "")
    assert (panel.send_box.button.description, panel.send_box.button.icon) == ("Send", "")
    assert (panel.send_box.name.description, panel.send_box.value.description) == ("Signal", "Value")
    panel.close()


# The dashboard's runs due next ----------------------------------------------------------------


def waiting_runs(repository_class, clock):
    """An Upload retrying at +10 s, a Timer ending at +30 s, a Hurried run timing out at +60 s, one waiting an hour."""
    upload = d.Upload(repository_class=repository_class)
    d.FAILURES[upload.uuid] = 3
    timer = d.Timer(repository_class=repository_class, context={"until": at(30)})
    hurried = d.Hurried(repository_class=repository_class)
    approval = d.SignalledApproval(repository_class=repository_class)
    for run in (approval, hurried, timer, upload):  # started in another order than they are due
        run.start()
    Simple(repository_class=repository_class).start()  # pending, polling: due at every pass, never listed
    return upload, timer, hurried, approval


def test_the_runs_due_first_are_found_without_reading_the_others(repository_class, clock):
    upload, timer, hurried, approval = waiting_runs(repository_class, clock)
    store = Store(repository_class)
    assert store.soonest_due(2) == [(upload.uuid, at(10)), (timer.uuid, at(30))]
    assert store.soonest_due(10) == [
        (run.uuid, at(s)) for run, s in [(upload, 10), (timer, 30), (hurried, 60), (approval, 3600)]
    ]
    approval.send("approval", {"by": "ann"})  # due at once: no longer waiting for a time
    assert [uuid for uuid, _ in Store(repository_class).soonest_due(10)] == [upload.uuid, timer.uuid, hurried.uuid]


def due_rows(board):
    """The cells of each row of the dashboard's list of runs due next."""
    body = shown(board.due_view).split("<tbody>")[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_the_dashboard_lists_the_runs_due_next_and_what_they_wait_for(clock):
    repository = InMemoryRepository.fresh()
    upload, timer, hurried, approval = waiting_runs(repository, clock)
    clock.advance(4)
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
    rows = due_rows(board)
    assert [row[0] for row in rows] == [format_time(at(s)) for s in (10, 30, 60, 3600)]
    assert [row[1] for row in rows] == ["in 6.00 s", "in 26 s", "in 56 s", "in 59 min 56 s"]
    assert [(row[2], row[3], row[4]) for row in rows] == [
        (run.name, f"<code>{run.uuid[:8]}</code>", step)
        for run, step in [
            (upload, "FlakyUpload"),
            (timer, "Sleeper"),
            (hurried, "Impatient"),
            (approval, "AwaitApproval"),
        ]
    ]
    assert [row[5] for row in rows] == ["⏳ retry: attempt 2/4", "⏳ timer", "⏳ deadline", "⏳ timer"]
    assert "<b>Due next</b>" in board.snapshot()[0]
    clock.advance(6)
    board.refresh_button.click()
    assert due_rows(board)[0][:2] == [format_time(at(10)), "now"]  # due: the next pass runs it
    board.tick_button.click()
    assert [row[2] for row in due_rows(board)][:2] == ["Timer", "Upload"]  # its next attempt is due at +40 s
    board.close()


def test_the_dashboard_lists_at_most_five_and_nothing_when_no_run_waits(clock):
    repository = InMemoryRepository.fresh()
    Simple(repository_class=repository).start()
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
    assert board.due_view.value == "" and "Due next" not in board.snapshot()[0]
    runs = [d.Timer(repository_class=repository, context={"until": at(60 - n)}) for n in range(7)]
    for run in runs:
        run.start()
    board.refresh_button.click()
    assert [row[3] for row in due_rows(board)] == [f"<code>{run.uuid[:8]}</code>" for run in runs[::-1][:5]]
    board.close()


def test_a_refresh_reads_only_the_runs_due_next_of_those_that_wait():
    repository = counting_repository()
    with use_clock(FakeClock(d.START)):
        for _ in range(20):
            Simple(repository_class=repository).start()
        for n in range(8):
            d.Timer(repository_class=repository, context={"until": at(60 + n)}).start()
        board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)), limit=3)
        repository.reads.clear()
        board.refresh()
    reads = repository.reads
    assert (reads["pipelines.get"], reads["steps.get"]) == (DUE_NEXT, DUE_NEXT)  # a record and its open step each
    assert not [read for read in reads if read.split(".")[1].startswith(("all", "columns", "search"))]
    board.close()
