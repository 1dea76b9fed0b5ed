"""The panel's Resume button and Send box, and the dashboard's list of runs due next, driven by clicks."""

from __future__ import annotations

import html

import pytest

from prorch_nb import InMemoryRepository, Status
from prorch_nb.notebook import PipelinePanel
from tests import durable_pipelines as d
from tests.durable_pipelines import at


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
