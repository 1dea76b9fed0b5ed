"""Diagram structure (DOT source, no dot binary needed) and the text repr of runs, on every repository."""

import re
import subprocess
import sys

import pytest
from graphviz.quoting import quote

from prorch_nb import InMemoryRepository, Status, TinyDBRepository, load_pipeline
from prorch_nb.examples.backup import BackupAutomationPipeline
from prorch_nb.notebook.diagrams import DIRECTIONS, MUTED, TRAVERSED, definition_graph, run_graph
from prorch_nb.notebook.text import format_time
from prorch_nb.store import Store
from prorch_nb.styles import style_of
from tests.pipelines import APPROVALS, Approval, Broken, Simple
from tests.runs import FiftySteps, look_of, run_in

C, P, F, X, K = Status.CREATED, Status.PENDING, Status.FINISHED, Status.FAILED, Status.CANCELLED


def statement(graph, start):
    """The DOT statement of ``graph`` that starts with ``start`` (a node id or ``a -> b``)."""
    found = [line for line in graph.body if line.startswith(f"\t{start} [")]
    assert len(found) == 1, f"{start!r} in {graph.body}"
    return found[0]


def has(node, name, value):
    """Whether a DOT statement sets attribute ``name`` to ``value``."""
    return re.search(rf"[\[ ]{name}={re.escape(quote(value))}[ \]]", node) is not None


@pytest.mark.parametrize("status", Status.ALL)
def test_run_graph_draws_every_step_in_its_status(status, repository_class):
    run, step_statuses = run_in(status, repository_class)
    graph = run.graph()
    records = run.step_records()
    assert [r.status for r in records] == step_statuses
    current = run.refresh().current_step
    for index, record in enumerate(records):
        node = statement(graph, f"step{index}")
        look = look_of(status, record.status)
        assert has(node, "fillcolor", look.fill) and has(node, "color", look.border)
        assert has(node, "fontcolor", look.font) and has(node, "shape", look.shape)
        assert has(node, "style", f"filled,{look.line}")
        assert f"{index + 1}. {record.name}" in node and f"{look.glyph} {record.status}" in node
        is_current = record.uuid == current
        assert has(node, "penwidth", "3") == is_current
        assert (f"<b>{index + 1}. {record.name}</b>" in node) == is_current
    assert (current is not None) == (status != C)


@pytest.mark.parametrize("status", Status.ALL)
def test_edges_are_coloured_by_whether_traversed(status, repository_class):
    run, step_statuses = run_in(status, repository_class)
    graph = run.graph()
    edges = [line for line in graph.body if " -> " in line]
    assert len(edges) == len(step_statuses) - 1
    for index, head_status in enumerate(step_statuses[1:]):
        edge = statement(graph, f"step{index} -> step{index + 1}")
        traversed = head_status != C
        assert has(edge, "color", TRAVERSED if traversed else MUTED)
        assert has(edge, "style", "solid" if traversed else "dashed")


@pytest.mark.parametrize("status", Status.ALL)
def test_title_and_legend_count_the_statuses_shown(status, repository_class):
    run, step_statuses = run_in(status, repository_class)
    label = run.graph().graph_attr["label"]
    assert f"<b>{run.name}</b>" in label
    assert f"{run.uuid[:8]} {style_of(status).glyph} {status}</font>" in label
    assert f"{run.uuid[:8]} · · " not in label  # no separator that reads like the created glyph
    for state in Status.ALL:
        look = look_of(status, state)
        entry = f'bgcolor="{look.fill}" color="{look.border}" border="1"><font color="{look.font}" point-size="10">'
        entry += f"{look.glyph} {state} {step_statuses.count(state)}</font>"
        assert (entry in label) == (state in step_statuses), (state, label)
    assert "not reached" not in label  # one word for a step never reached: its status, created


def test_tooltips_give_start_end_duration_and_error(repository_class):
    run, _ = run_in(X, repository_class)
    graph = run.graph()
    first, _, unreached = run.step_records()
    tip = statement(graph, "step0")
    started = next(e["at"] for e in first.history if e["status"] == P)
    ended = next(e["at"] for e in first.history if e["status"] == F)
    assert f"started {format_time(started)}" in tip and f"ended {format_time(ended)}" in tip
    assert re.search(r"took \d[\d.]* (ms|s)\b", tip)
    failed_tip = statement(graph, "step1")
    assert "error in on_start: ValueError: disk full" in failed_tip
    assert "started" not in statement(graph, "step2") and unreached.status == C
    assert "never reached: the run ended first" in statement(graph, "step2")


def test_tooltip_keeps_backslashes_and_quotes_literal():
    repository = InMemoryRepository.fresh()
    run = Broken(repository_class=repository)
    step = run.step_records()[1]
    step.error = {"hook": "on_start", "type": "OSError", "message": 'no "C:\\new" here', "at": "x"}
    repository("STEP").update(step.uuid, {"error": step.error})
    tip = statement(run.graph(), "step1")
    assert 'no \\"C:\\\\new\\" here' in tip  # DOT escapes: the quote and the backslash stay literal


def test_pending_step_tooltip_says_how_long_it_has_been_running(repository_class):
    run, _ = run_in(P, repository_class)
    assert re.search(r"running for \d", statement(run.graph(), "step1"))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_direction_sets_rankdir(direction):
    run = Simple(repository_class=InMemoryRepository.fresh())
    assert run.graph(direction).graph_attr["rankdir"] == direction
    assert Simple.definition(direction).graph_attr["rankdir"] == direction


@pytest.mark.parametrize("bad", ["lr", "up", "", "LRX"])
def test_invalid_direction_lists_the_choices(bad):
    run = Simple(repository_class=InMemoryRepository.fresh())
    with pytest.raises(ValueError, match="'LR', 'TB', 'RL', 'BT'") as raised:
        run.graph(bad)
    assert repr(bad) in str(raised.value)
    with pytest.raises(ValueError, match="must be one of"):
        definition_graph(Simple, direction=bad)


def test_definition_graph_shows_steps_positions_and_hooks():
    graph = BackupAutomationPipeline.definition()
    assert graph.source == definition_graph(BackupAutomationPipeline).source
    assert "<b>BackupAutomationPipeline</b>" in graph.graph_attr["label"]
    assert "3 steps" in graph.graph_attr["label"]
    expected = [
        ("1. BackupGeneration", "on_start · on_continue"),
        ("2. BackupTransfer", "on_start · on_continue"),
        ("3. ProcessCompletionNotification", "on_start"),
    ]
    for index, (name, hooks) in enumerate(expected):
        node = statement(graph, f"step{index}")
        assert name in node and hooks in node
    assert "Tell someone the backup is safe." in statement(graph, "step2")  # the docstring, as tooltip
    assert len([line for line in graph.body if " -> " in line]) == 2
    assert has(statement(graph, "step1 -> step2"), "color", MUTED)


def test_fifty_steps_wrap_into_rows_of_eight_that_all_read_forwards(repository_class):
    run = FiftySteps(repository_class=repository_class)
    for _ in range(12):
        run.start()
    graph = run.graph()
    columns = [line for line in graph.body if "rank=same" in line]
    assert len(columns) == 8
    invisible = [re.findall(r"step(\d+)", line) for line in graph.body if "style=invis" in line]
    assert sorted((int(a), int(b)) for a, b in invisible) == [(n, n + 8) for n in range(42)]  # columns, rows in order
    wraps = {
        index for index in range(49) if has(statement(graph, f"step{index} -> step{index + 1}"), "constraint", "false")
    }
    assert wraps == {7, 15, 23, 31, 39, 47}  # only the edge from a row's end to the next row's start


def test_small_pipelines_do_not_wrap():
    graph = Simple.definition()
    assert "rank=same" not in graph.source


def test_run_graph_draws_what_it_is_given_without_reading(repository_class):
    run, _ = run_in(P, repository_class)
    record, steps = Store(repository_class).read_run(run.uuid)
    load_pipeline(run.uuid, repository_class).cancel("changed after the reading")
    graph = run_graph(record, steps, "TB")
    assert "▶ pending" in statement(graph, "step1") and graph.graph_attr["rankdir"] == "TB"
    assert "⊘ cancelled" in statement(run.graph(), "step1")  # Pipeline.graph() reads now


def test_run_graph_reads_fresh_state(repository_class):
    run = Simple(repository_class=repository_class)
    other = load_pipeline(run.uuid, repository_class)
    other.start()
    assert "✓ finished" in statement(run.graph(), "step0")
    assert run.status == C  # the diagram read the repository without changing the object


def test_text_repr_shows_every_step_with_its_glyph(repository_class, capsys):
    backup = BackupAutomationPipeline(repository_class=repository_class)
    steps = "· BackupGeneration → · BackupTransfer → · ProcessCompletionNotification"
    assert repr(backup) == f"<BackupAutomationPipeline {backup.uuid[:8]} created: {steps}>"
    approval = Approval(repository_class=repository_class)
    approval.start()
    approval.start()
    assert repr(approval) == f"<Approval {approval.uuid[:8]} pending: ✓ Quick → ▶ WaitForApproval → · Quick>"
    APPROVALS.add(approval.uuid)
    load_pipeline(approval.uuid, repository_class).start()  # another object moves the run on
    assert repr(approval) == f"<Approval {approval.uuid[:8]} pending: ✓ Quick → ✓ WaitForApproval → · Quick>"


@pytest.mark.parametrize("status", Status.ALL)
def test_text_repr_in_every_status(status, repository_class):
    run, step_statuses = run_in(status, repository_class)
    glyphs = [style_of(s).glyph for s in step_statuses]
    names = [s.name for s in run.step_records()]
    flow = " → ".join(f"{g} {n}" for g, n in zip(glyphs, names, strict=True))
    assert repr(run) == f"<{type(run).__name__} {run.uuid[:8]} {status}: {flow}>"


def test_text_repr_falls_back_when_the_repository_cannot_be_read(tmp_path):
    database = tmp_path / "runs.json"
    run = Simple(repository_class=TinyDBRepository.at(database))
    database.write_text("{ not json")
    assert repr(run) == f"<Simple {run.uuid[:8]} created>"


def test_engine_import_stays_light():
    code = (
        "import sys, prorch_nb, prorch_nb.display, prorch_nb.examples.backup\n"
        "heavy = {'graphviz', 'IPython', 'pandas', 'ipywidgets', 'prorch_nb.notebook'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
