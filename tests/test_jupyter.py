"""What Jupyter shows, through IPython's own display formatter: SVG from dot, overviews, the fallback."""

import html
import re
import xml.etree.ElementTree as ET

import pytest
from IPython.core.formatters import DisplayFormatter

from prorch_nb import InMemoryRepository, Orchestrator, OrchestratorConfig, Pipeline, Status, TinyDBRepository
from prorch_nb.examples.backup import BackupAutomationPipeline
from prorch_nb.notebook.jupyter import INSTALL_HINT, mimebundle
from prorch_nb.notebook.overview import overview
from prorch_nb.notebook.text import repository_name
from prorch_nb.styles import style_of
from tests.pipelines import Simple
from tests.runs import FiftySteps, look_of, run_in

SVG, HTML, TEXT = "image/svg+xml", "text/html", "text/plain"
NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}


def show(obj):
    data, _ = DisplayFormatter().format(obj)
    return data


def svg_nodes(svg):
    """``{node id: (outline element, tooltip)}`` of the nodes in a dot SVG."""
    root = ET.fromstring(svg.encode())
    nodes = {}
    for group in root.iterfind(".//svg:g[@class='node']", NS):
        outline = next(e for e in group.iter() if e.tag in {f"{{{NS['svg']}}}polygon", f"{{{NS['svg']}}}path"})
        link = group.find(".//svg:a", NS)
        tooltip = link.get(f"{{{NS['xlink']}}}title") if link is not None else None
        nodes[group.find("svg:title", NS).text] = (outline, tooltip)
    return nodes


def corners(outline):
    return len(re.findall(r"-?[\d.]+,-?[\d.]+", outline.get("points", ""))) - 1  # the first point repeats


def dashes(outline):
    value = outline.get("stroke-dasharray")
    return [float(v) for v in re.split(r"[ ,]+", value.strip())] if value else None


@pytest.mark.dot
@pytest.mark.parametrize("status", Status.ALL)
def test_run_svg_colours_and_line_styles_follow_the_palette(status, repository_class):
    run, step_statuses = run_in(status, repository_class)
    data = show(run)
    assert data[TEXT] == repr(run)
    nodes = svg_nodes(data[SVG])
    assert sorted(nodes) == [f"step{i}" for i in range(len(step_statuses))]
    current = run.refresh().current_step
    for index, record in enumerate(run.step_records()):
        outline, tooltip = nodes[f"step{index}"]
        look = look_of(status, record.status)
        assert outline.get("fill") == look.fill and outline.get("stroke") == look.border
        dash = dashes(outline)
        if look.line == "dotted":
            assert dash and dash[0] < dash[1]
        elif look.line == "dashed":
            assert dash and dash[0] > dash[1]
        else:
            assert dash is None
        width = float(outline.get("stroke-width", "1"))
        expected = 3 if record.uuid == current else 2 if look.line == "bold" else 1
        assert width == expected
        assert corners(outline) == (8 if look.shape == "octagon" else 4)
        assert tooltip.startswith(f"{index + 1}/{len(step_statuses)} {record.name}: {record.status}")


@pytest.mark.dot
def test_failed_step_tooltip_carries_the_error_in_the_svg():
    run, _ = run_in(Status.FAILED, InMemoryRepository.fresh())
    _, tooltip = svg_nodes(show(run)[SVG])["step1"]
    assert "error in on_start: ValueError: disk full" in tooltip
    assert "\nstarted " in tooltip and "\nended " in tooltip


@pytest.mark.dot
def test_pipeline_class_displays_its_definition():
    data = show(BackupAutomationPipeline)
    nodes = svg_nodes(data[SVG])
    assert sorted(nodes) == ["step0", "step1", "step2"]
    texts = "".join(ET.fromstring(data[SVG].encode()).itertext())
    assert "ProcessCompletionNotification" in texts and "on_continue" in texts
    expected = "<BackupAutomationPipeline pipeline: BackupGeneration → BackupTransfer → ProcessCompletionNotification>"
    assert BackupAutomationPipeline._repr_mimebundle_(include=[TEXT]) == {TEXT: expected}


def test_pipeline_base_class_shows_its_plain_repr():
    assert Pipeline._repr_mimebundle_() == {}
    assert show(Pipeline) == {TEXT: "prorch_nb.pipeline.pipeline.Pipeline"}


@pytest.mark.dot
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_fifty_step_run_is_a_block_not_one_long_row(direction):
    run = FiftySteps(repository_class=InMemoryRepository.fresh())
    for _ in range(20):
        run.start()
    root = ET.fromstring(show(run)[SVG].encode())
    width, height = (float(root.get(side).removesuffix("pt")) for side in ("width", "height"))
    assert 1 / 3 < width / height < 3
    assert len(svg_nodes(run._repr_mimebundle_()[SVG])) == 50


@pytest.mark.dot
def test_include_and_exclude_choose_the_mimetypes():
    run = Simple(repository_class=InMemoryRepository.fresh())
    assert run._repr_mimebundle_(include=[]) == {}
    assert set(run._repr_mimebundle_()) == {SVG, TEXT}
    assert set(run._repr_mimebundle_(exclude=[SVG])) == {TEXT}
    png = run._repr_mimebundle_(include=["image/png", "application/pdf"])
    assert set(png) == {"image/png"} and png["image/png"].startswith(b"\x89PNG")


def test_without_dot_a_diagram_falls_back_to_text_and_dot_source(monkeypatch, tmp_path):
    run, _ = run_in(Status.FAILED, InMemoryRepository.fresh())
    monkeypatch.setenv("PATH", str(tmp_path))
    data = show(run)
    assert SVG not in data
    assert data[TEXT] == repr(run)
    page = data[HTML]
    assert f"<pre>{repr(run).replace('<', '&lt;').replace('>', '&gt;')}</pre>" in page
    assert "digraph Broken {" in page and "disk full" in page and "-&gt;" in page
    assert "apt-get install graphviz" in page and "conda install graphviz" in page
    assert html.escape(INSTALL_HINT) in page
    definition = show(Simple)
    assert "digraph Simple {" in definition[HTML]


def count_table(page):
    """``{pipeline: {status: (count text, cell style)}}`` from an overview's first table."""
    table = ET.fromstring(page).find(".//table")
    header, *rows = table.iter("tr")
    statuses = ["".join(th.itertext()).split(" ", 1)[1] for th in header.findall("th")[1:-1]]
    return {
        row.find("th").text: {s: (td.text, td.get("style")) for s, td in zip(statuses, row.findall("td"), strict=False)}
        for row in rows
    }


def test_orchestrator_shows_counts_per_pipeline_and_status(repository_class):
    for status in Status.ALL:
        run_in(status, repository_class)
    run_in(Status.FINISHED, repository_class)
    data = show(Orchestrator(OrchestratorConfig(repository_class=repository_class)))
    assert set(data) == {HTML, TEXT}
    counts = count_table(data[HTML])
    assert sorted(counts) == ["Approval", "Broken", "Refused", "Simple"]
    assert counts["Simple"][Status.FINISHED] == ("2", "background:#bbf7d0;color:#052e16;text-align:right")
    assert counts["Simple"][Status.CREATED][0] == "1" and counts["Simple"][Status.PENDING] == (None, None)
    for name, status in [("Approval", "pending"), ("Broken", "failed"), ("Refused", "cancelled")]:
        look = style_of(status)
        assert counts[name][status] == ("1", f"background:{look.fill};color:{look.font};text-align:right")
    assert data[TEXT].startswith(f"{repository_name(repository_class)}: 6 runs")
    assert re.search(r"^Simple +1 +0 +2 +0 +0 +3$", data[TEXT], re.MULTILINE)


@pytest.mark.parametrize("make", [InMemoryRepository.fresh, lambda: TinyDBRepository.at("runs.json")])
def test_repository_instance_shows_its_latest_runs(make, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repository_class = make()
    runs = [Simple(repository_class=repository_class) for _ in range(12)]
    runs[-1].start()
    data = show(repository_class("PIPELINE"))
    assert data[TEXT].splitlines()[0] == f"{repository_name(repository_class)}: 12 runs"
    latest = re.findall(r"<code>(\w{8})</code>", data[HTML])
    assert latest == [run.uuid[:8] for run in reversed(runs[-10:])]  # the 10 newest, newest first
    assert "▶ pending" in data[HTML] and "✓" in data[HTML]
    assert len(overview(repository_class, latest=3).latest) == 3


def test_mimebundle_refuses_objects_it_has_no_view_for():
    with pytest.raises(TypeError, match="no notebook view for object"):
        mimebundle(object())
