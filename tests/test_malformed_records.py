"""One malformed record breaks no view: frames, the overview, the dashboard and the run panel leave it out and say so.

The database is :mod:`tests.malformed_db`'s: records a view cannot show among good ones,
each named by its place in its table and its uuid.
"""

import html
import warnings

import pytest

from prorch_nb import Orchestrator, OrchestratorConfig, TinyDBRepository, load_pipeline
from prorch_nb.notebook import Dashboard, PipelinePanel
from prorch_nb.notebook.frames import (
    MalformedRecordWarning,
    pipelines_frame,
    steps_frame,
    steps_with_pipelines,
    summary,
    timeline,
)
from prorch_nb.notebook.jupyter import mimebundle
from prorch_nb.notebook.overview import overview
from prorch_nb.notebook.text import repository_name
from prorch_nb.record_checks import MalformedRecord
from tests.malformed_db import GOOD, MALFORMED_PIPELINES, MALFORMED_STEPS, PIPELINES, STEPS, tinydb_file
from tests.pipelines import Simple  # noqa: F401  (registers the pipeline the good runs are of)


@pytest.fixture
def database(tmp_path):
    return tinydb_file(tmp_path / "runs.json", PIPELINES, STEPS)


@pytest.fixture
def repository(database):
    return TinyDBRepository.at(database)


def described(records):
    return [str(record) for record in records]


def starts(texts, prefixes):
    """Whether each of ``texts`` starts with its prefix."""
    return len(texts) == len(prefixes) and all(t.startswith(p) for t, p in zip(texts, prefixes, strict=True))


# Frames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_frame", "reported", "uuids"),
    [
        (pipelines_frame, MALFORMED_PIPELINES + MALFORMED_STEPS, ["p-1", "p-2"]),
        (steps_frame, MALFORMED_PIPELINES + MALFORMED_STEPS, [s["uuid"] for s in STEPS if "s-" not in s["uuid"]]),
        (steps_with_pipelines, MALFORMED_PIPELINES + MALFORMED_STEPS, None),
        (summary, MALFORMED_PIPELINES, None),
        (timeline, MALFORMED_PIPELINES + MALFORMED_STEPS, ["p-1-s0"]),
    ],
)
def test_frames_leave_malformed_records_out_with_one_warning_naming_file_and_records(
    database, repository, make_frame, reported, uuids
):
    with pytest.warns(MalformedRecordWarning) as caught:
        frame = make_frame(repository)
    [warning] = [w.message for w in caught if isinstance(w.message, MalformedRecordWarning)]
    assert warning.repository == str(database)
    assert starts(described(warning.records), reported)
    lines = str(warning).splitlines()
    assert lines[0] == f"skipped {len(reported)} malformed records in {database}:"
    assert starts([line.strip() for line in lines[1:]], reported)
    if uuids is not None:
        assert frame["uuid"].tolist() == uuids
    if make_frame is summary:
        assert frame["total"].to_dict() == {"Simple": 2}
    if make_frame is pipelines_frame:
        assert frame["steps"].tolist() == [3, 3]  # the step without a status is not counted


def test_on_malformed_gets_the_records_instead_of_a_warning(repository):
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", MalformedRecordWarning)
        frame = steps_with_pipelines(repository, on_malformed=got.append)
    [records] = got
    assert all(isinstance(record, MalformedRecord) for record in records)
    assert starts(described(records), MALFORMED_PIPELINES + MALFORMED_STEPS)
    assert frame["pipeline_name"].tolist() == ["Simple"] * 6


def test_the_warning_can_be_made_an_error(repository):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MalformedRecordWarning)
        with pytest.raises(MalformedRecordWarning, match="pipeline record #2 \\(no uuid\\)"):
            pipelines_frame(repository)


def test_a_second_record_with_a_uuid_is_left_out_naming_the_first(tmp_path):
    path = tinydb_file(tmp_path / "twice.json", [GOOD[0], GOOD[1], {**GOOD[0], "name": "Again"}], [])
    with pytest.warns(
        MalformedRecordWarning, match=r"pipeline record #3 \(uuid 'p-1'\): 'uuid' must be unique; record #1"
    ):
        frame = pipelines_frame(TinyDBRepository.at(path))
    assert frame["name"].tolist() == ["Simple", "Simple"]


def test_many_malformed_records_are_counted_after_the_first_ten(tmp_path):
    path = tinydb_file(tmp_path / "many.json", [GOOD[0], *({"name": f"N{n}"} for n in range(25))], [])
    with pytest.warns(MalformedRecordWarning) as caught:
        assert pipelines_frame(TinyDBRepository.at(path))["uuid"].tolist() == ["p-1"]
    lines = str(caught[0].message).splitlines()
    assert lines[0].startswith("skipped 25 malformed records in ") and lines[-1] == "  ... and 15 more"
    assert len(caught[0].message.records) == 25 and len(lines) == 12


# Overview, dashboard, run panel -------------------------------------------------------


def test_overview_shows_the_good_runs_and_lists_the_malformed_records(repository):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MalformedRecordWarning)
        shown = overview(repository)
        page = mimebundle(Orchestrator(OrchestratorConfig(repository_class=repository)))["text/html"]
    assert shown.total == 2 and [record.uuid for record, _ in shown.latest] == ["p-2", "p-1"]
    assert [step.uuid for step in shown.latest[1][1]] == ["p-1-s0", "p-1-s1", "p-1-s2"]  # s-nostatus left out
    expected = [*MALFORMED_PIPELINES, "step record (uuid 's-nostatus'): 'status' must be"]
    assert starts(described(shown.skipped), expected)
    text = shown.text().splitlines()
    assert text[-5] == f"skipped 4 malformed records in {repository_name(repository)}:"
    assert starts([line.strip() for line in text[-4:]], expected)
    assert "prorch-nb-skipped" in page and "pipeline record #3 (uuid &#x27;p-noname&#x27;)" in page


def test_dashboard_and_panel_show_the_good_runs_and_note_the_malformed_records_they_read(repository):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MalformedRecordWarning)
        board = Dashboard(Orchestrator(OrchestratorConfig(repository_class=repository)))
        panel = PipelinePanel(load_pipeline("p-2", repository))
        broken = PipelinePanel(load_pipeline("p-1", repository))  # a step of its own is malformed
    assert not board.errors_view.value and [uuid for _, uuid in board.run_choice.options] == ["", "p-2", "p-1"]
    assert "4 runs, 1 pending" in board.header.value  # counted from the status index, malformed ones too
    note = html.unescape(board.header.value)
    assert "skipped 4 malformed records in" in note  # those on the page it read, not the whole file
    assert "pipeline record (no uuid)" in note and "pipeline record (uuid 'p-noname')" in note
    assert "pipeline record (uuid 'p-status')" in note  # the newest runs of the file, whatever their status
    assert "step record (uuid 's-nostatus')" in note
    assert board.runs_view.value.count("<tr>") == 3  # the header and the two good runs
    assert "malformed" not in panel.errors_view.value  # a panel reads its own run only
    assert panel.table.value.count("Quick") == 2
    assert "InvalidRecordError" in broken.errors_view.value and "s-nostatus" in broken.errors_view.value
    page, text = board.snapshot()
    assert "skipped 4 malformed records" in page and "skipped 4 malformed records" in text
    for widget in (board, panel, broken):
        widget.close()
