"""Every stored string is user data: no HTML view lets one through as markup.

Hostile text goes in as a pipeline name, step names, a hook's error message, a history
note, metadata and context keys and values (and the repository's name), a retried
attempt's error, a resume's note, a signal's name and value; every view that
makes HTML must show it as text: no ``<img``/``<script`` tag and no ``on...`` attribute
of its own in the page, and the text itself once the page's entities are decoded.
"""

import html
import json
from html.parser import HTMLParser

import pytest

from prorch_nb import (
    InMemoryRepository,
    Metadata,
    OnContinueMixin,
    OnStartMixin,
    Orchestrator,
    OrchestratorConfig,
    Pipeline,
    Retry,
    Step,
    TinyDBRepository,
    register_pipeline,
    register_step,
)
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.notebook import Dashboard, PipelinePanel
from prorch_nb.notebook.diagrams import definition_graph
from prorch_nb.notebook.frames import pipelines_frame, steps_frame, steps_with_pipelines, styled, summary, timeline
from prorch_nb.notebook.jupyter import mimebundle
from prorch_nb.notebook.overview import overview
from prorch_nb.notebook.text import repository_name


def hostile(where: str) -> str:
    """Text that is markup if a view forgets to escape it, in tag, attribute and script form."""
    tags = f"<img src=x onerror=alert(1)>\"'><script>alert('{where}')</script>"
    return f"{tags}' onmouseover='x' \" onfocus=\"x\" {where}"


PIPELINE = hostile("pipeline")
WRITES, WAITS, RAISES = hostile("step-writes"), hostile("step-waits"), hostile("step-raises")
ERROR, NOTE = hostile("error"), hostile("note")
META_KEY, META = hostile("meta-key"), hostile("meta")
CONTEXT_KEY, CONTEXT = hostile("context-key"), hostile("context")
PRINTED = hostile("printed")
RETRIES, DURABLE = hostile("step-retries"), hostile("durable-pipeline")
RETRY_ERROR, RESUME_NOTE = hostile("retry-error"), hostile("resume-note")
SIGNAL, SIGNAL_VALUE = hostile("signal"), hostile("signal-value")


@register_step
class HostileWrites(OnStartMixin, Step):
    name = WRITES

    def on_start(self):
        print(PRINTED)
        self.metadata[META_KEY] = META
        self.finish()


@register_step
class HostileWaits(OnContinueMixin, Step):
    name = WAITS

    def on_continue(self):
        if self.context.get("go"):
            self.finish()


@register_step
class HostileRaises(OnStartMixin, Step):
    name = RAISES

    def on_start(self):
        raise ValueError(ERROR)


@register_pipeline
class HostilePipeline(Pipeline):
    name = PIPELINE
    steps = [HostileWrites, HostileWaits, HostileRaises]


@register_step
class HostileRetries(OnStartMixin, Step):
    """Each of its two attempts raises: it retries a minute after the first, and fails at the second."""

    name = RETRIES
    retry = Retry(max_attempts=2, interval=60)

    def on_start(self):
        raise ConnectionError(RETRY_ERROR)


@register_pipeline
class HostileDurable(Pipeline):
    name = DURABLE
    steps = [HostileRetries]


@register_step
class Undrawable(OnStartMixin, Step):
    name = "lone \udcff, nul \x00, escape \x1b[31m, ends in a backslash \\"

    def on_start(self):
        raise ValueError("lone \udcff, nul \x00 \\")


@register_pipeline
class UndrawablePipeline(Pipeline):
    name = "ends in a backslash \\"
    steps = [Undrawable]


class _Markup(HTMLParser):
    """The tags and attribute names a page really has."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    handle_startendtag = handle_starttag


def assert_shown_as_text(page: str, *texts: str) -> None:
    """No hostile tag or handler in ``page``; each of ``texts`` in it once entities are decoded."""
    assert "<img" not in page.lower() and "<script" not in page.lower()
    markup = _Markup(page)
    assert not markup.tags & {"img", "script"}
    assert not {name for name in markup.attributes if name.startswith("on")}
    decoded = html.unescape(page)
    for text in texts:
        assert text in decoded


@pytest.fixture(params=["memory", "tinydb"])
def repository(request, tmp_path):
    if request.param == "memory":
        return InMemoryRepository.fresh(hostile("repository"))
    return TinyDBRepository.at(tmp_path / "runs.json")


@pytest.fixture
def runs(repository):
    """A failed run (metadata, context, a hook's error), a cancelled one (a note), a waiting one."""
    failed = HostilePipeline(repository_class=repository, context={"go": True, CONTEXT_KEY: CONTEXT})
    failed.start()
    failed.start()
    with pytest.raises(StepHookError):
        failed.start()
    failed.start()
    cancelled = HostilePipeline(repository_class=repository)
    cancelled.start()
    cancelled.start()
    cancelled.cancel(NOTE)
    waiting = HostilePipeline(repository_class=repository)
    waiting.start()
    waiting.start()
    assert [run.refresh().status for run in (failed, cancelled, waiting)] == ["failed", "cancelled", "pending"]
    return {"failed": failed, "cancelled": cancelled, "waiting": waiting}


# Frames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_frame", "texts"),
    [
        (lambda r: pipelines_frame(r, flatten_metadata=True), [PIPELINE, f"context.{CONTEXT_KEY}", CONTEXT]),
        (lambda r: steps_frame(r, flatten_metadata=True), [WRITES, RAISES, ERROR, f"metadata.{META_KEY}", META]),
        (steps_with_pipelines, [PIPELINE, WRITES, WAITS, ERROR]),
        (summary, [PIPELINE]),
        (timeline, [PIPELINE, WRITES, RAISES]),
    ],
)
def test_styled_frames_escape_every_stored_string(repository, runs, make_frame, texts):
    assert_shown_as_text(styled(make_frame(repository)).to_html(), *texts)


def test_styled_escapes_values_that_are_not_strings(repository, runs):
    steps = steps_frame(repository, flatten_metadata=True).assign(listed=[[META]] * 9, mapped=[{META_KEY: 1}] * 9)
    assert_shown_as_text(styled(steps).to_html(), META, META_KEY)


# Diagrams, overview and the fallback without dot --------------------------------------


@pytest.mark.dot
def test_run_diagrams_escape_names_errors_and_notes_in_the_svg(runs):
    failed = runs["failed"].graph().pipe(format="svg", encoding="utf-8")
    assert_shown_as_text(failed, PIPELINE, WRITES, WAITS, RAISES, ERROR)
    assert_shown_as_text(runs["cancelled"].graph().pipe(format="svg", encoding="utf-8"), NOTE)
    assert_shown_as_text(mimebundle(runs["waiting"])["image/svg+xml"], PIPELINE, WAITS)


@pytest.mark.dot
def test_definition_diagram_escapes_names():
    assert_shown_as_text(definition_graph(HostilePipeline).pipe(format="svg", encoding="utf-8"), PIPELINE, RAISES)


@pytest.mark.dot
def test_names_dot_cannot_read_are_drawn_with_replacement_characters(repository):
    run = UndrawablePipeline(repository_class=repository)
    with pytest.raises(StepHookError):
        run.start()
    svg = mimebundle(run)["image/svg+xml"]
    assert "lone \ufffd, nul \ufffd, escape \ufffd[31m, ends in a backslash \\" in html.unescape(svg)
    assert "ends in a backslash \\" in html.unescape(svg)
    assert "lone \ufffd, nul \ufffd \\" in html.unescape(svg)  # the error, in the tooltip
    assert "ends in a backslash" in mimebundle(UndrawablePipeline)["image/svg+xml"]


def test_overview_escapes_names(repository, runs):
    page = mimebundle(Orchestrator(OrchestratorConfig(repository_class=repository)))["text/html"]
    assert_shown_as_text(page, PIPELINE, WRITES, RAISES)
    assert page == overview(repository).html()
    assert_shown_as_text(page, repository_name(repository))  # hostile for the in-memory one


def test_overview_escapes_a_status_it_does_not_know():
    repository = InMemoryRepository.fresh()
    status = hostile("status")
    repository(Metadata.PIPELINES_MODEL).save({"uuid": "p-1", "name": PIPELINE, "status": status, "metadata": {}})
    page = overview(repository).html()
    assert_shown_as_text(page, PIPELINE, status)
    assert page.count(html.escape(status)) == 2  # its count column and its badge in the latest runs


def test_without_dot_the_fallback_escapes_names_and_the_dot_source(runs, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    for run in (runs["failed"], HostilePipeline):
        page = mimebundle(run)["text/html"]
        assert "image/svg+xml" not in mimebundle(run)
        assert_shown_as_text(page, WRITES, RAISES)  # the text names the class; the DOT source escapes twice


# Widgets ------------------------------------------------------------------------------


def test_run_panel_escapes_status_errors_diagram_steps_and_log(runs):
    panel = PipelinePanel(runs["failed"])
    for view in (panel.status_line, panel.errors_view, panel.table):
        assert_shown_as_text(view.value)
    assert_shown_as_text(panel.errors_view.value, RAISES, ERROR)
    assert_shown_as_text(panel.table.value, WRITES, WAITS, RAISES, ERROR)
    assert_shown_as_text(panel.snapshot()[0], PIPELINE, WRITES, RAISES, ERROR)
    panel.close()

    waiting = PipelinePanel(runs["waiting"])
    assert_shown_as_text(waiting.status_line.value, PIPELINE, WAITS)
    assert_shown_as_text(waiting.resolve.label.value, WAITS)
    waiting.note.value = NOTE
    waiting.resolve.buttons["failed"].click()
    waiting.continue_button.click()
    assert_shown_as_text(waiting.log_view.widget.value, WAITS)
    assert_shown_as_text(waiting.table.value, WAITS)
    waiting.close()

    fresh = PipelinePanel(HostilePipeline(repository_class=runs["failed"].repository_class))
    fresh.start_button.click()
    assert_shown_as_text(fresh.log_view.widget.value, WRITES, PRINTED)
    fresh.close()


def test_dashboard_escapes_header_summary_runs_log_and_report(repository, runs):
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
    assert_shown_as_text(board.summary_view.value, PIPELINE)
    assert_shown_as_text(board.runs_view.value, PIPELINE)
    assert_shown_as_text(board.header.value)
    board.pipeline_choice.value = PIPELINE
    board.new_button.click()
    assert_shown_as_text(board.log_view.widget.value, PIPELINE, PRINTED)
    go = HostilePipeline(repository_class=repository, context={"go": True})
    go.start()
    board.tick_button.click()
    board.tick_button.click()
    assert_shown_as_text(board.report_view.value, PIPELINE, RAISES, ERROR)
    assert_shown_as_text(board.log_view.widget.value, PIPELINE)
    board.select(runs["failed"].uuid)
    page, _ = board.snapshot()
    assert_shown_as_text(page, PIPELINE, WRITES, RAISES, ERROR)
    assert not board.errors_view.value
    board.close()


# Retries, resumes and signals ---------------------------------------------------------


@pytest.fixture
def durable_runs(repository, clock):
    """A run whose step retries in a minute; one that failed after two attempts, was resumed and got a signal."""
    retrying = HostileDurable(repository_class=repository)
    retrying.start()
    resumed = HostileDurable(repository_class=repository)
    resumed.start()
    clock.advance(60)
    with pytest.raises(StepHookError):
        resumed.start()
    resumed.start()
    resumed.resume(RESUME_NOTE)
    resumed.send(SIGNAL, {SIGNAL: SIGNAL_VALUE}, note=NOTE)
    assert [run.refresh().status for run in (retrying, resumed)] == ["pending", "pending"]
    return {"retrying": retrying, "resumed": resumed}


def test_frames_escape_retry_errors_and_signals(repository, durable_runs):
    signals = json.dumps({SIGNAL: {SIGNAL: SIGNAL_VALUE}}, ensure_ascii=False)  # the signals column: JSON text
    runs = styled(pipelines_frame(repository, flatten_metadata=True)).to_html()
    assert_shown_as_text(runs, DURABLE, f"signals.{SIGNAL}.{SIGNAL}", SIGNAL_VALUE, signals)
    assert_shown_as_text(styled(steps_frame(repository)).to_html(), RETRIES)  # an attempt's error is in its history


@pytest.mark.dot
def test_run_diagrams_escape_attempts_errors_and_resume_notes(durable_runs):
    for run in durable_runs.values():
        svg = run.graph().pipe(format="svg", encoding="utf-8")
        assert_shown_as_text(svg, DURABLE, RETRIES, f"attempt 1/2: ConnectionError: {RETRY_ERROR}")
    assert_shown_as_text(mimebundle(durable_runs["resumed"])["image/svg+xml"], f"(note: {RESUME_NOTE})")


def test_run_panel_escapes_signals_attempts_errors_and_what_is_sent(durable_runs):
    panel = PipelinePanel(durable_runs["resumed"])
    assert_shown_as_text(panel.status_line.value, DURABLE, RETRIES, f"signals: {SIGNAL} = ")
    assert_shown_as_text(panel.table.value, RETRIES, f"attempt 1/2: ConnectionError: {RETRY_ERROR}")
    assert_shown_as_text(panel.diagram.value, RESUME_NOTE)
    panel.send_box.name.value, panel.send_box.value.value = SIGNAL, SIGNAL_VALUE  # not JSON
    panel.send_box.button.click()
    panel.send_box.value.value = json.dumps(SIGNAL_VALUE)
    panel.note.value = NOTE
    panel.send_box.button.click()
    assert_shown_as_text(panel.errors_view.value, "Send failed", "is not JSON")
    assert_shown_as_text(panel.log_view.widget.value, f"Send: sent {SIGNAL} = ", f"(note: {NOTE})")
    panel.cancel_button.click()
    panel.note.value = RESUME_NOTE
    panel.resume_button.click()
    assert_shown_as_text(panel.log_view.widget.value, f"resumed the run from {RETRIES} (note: {RESUME_NOTE})")
    assert_shown_as_text(panel.snapshot()[0], DURABLE, RETRIES, RESUME_NOTE, RETRY_ERROR)
    panel.close()


def test_dashboard_escapes_the_runs_due_next(repository, durable_runs):
    board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
    assert_shown_as_text(board.due_view.value, DURABLE, RETRIES, "retry: attempt 2/2")
    assert_shown_as_text(board.snapshot()[0], DURABLE, RETRIES)
    board.close()
