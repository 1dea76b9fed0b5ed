"""Repository state as typed DataFrames, on every repository and on a prorch 1.0.1 database."""

import gc
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from prorch_nb import InMemoryRepository, Metadata, Status, TinyDBRepository
from prorch_nb.exceptions.exceptions import RecordNotFoundError, StepHookError
from prorch_nb.notebook.frames import (
    JOINED_COLUMNS,
    PIPELINE_COLUMNS,
    STEP_COLUMNS,
    TIMELINE_COLUMNS,
    MalformedRecordWarning,
    pipelines_frame,
    steps_frame,
    steps_with_pipelines,
    styled,
    summary,
    timeline,
)
from prorch_nb.notebook.reading import Reading
from prorch_nb.store import Store
from prorch_nb.styles import STYLES
from tests.counting import counting_repository
from tests.pipelines import Approval, Broken, Refused, Simple
from tests.seed_repository import SeedTinyDBRepository

REPO_ROOT = Path(__file__).resolve().parents[1]
C, P, F, X, K = Status.CREATED, Status.PENDING, Status.FINISHED, Status.FAILED, Status.CANCELLED

#: Step statuses and names of each run made by make_runs, keyed by the run's status.
STEPS = {
    F: [(F, "Quick"), (F, "TwoPhase"), (F, "Quick")],
    X: [(F, "Quick"), (X, "Explodes"), (C, "Quick")],
    P: [(F, "Quick"), (P, "WaitForApproval"), (C, "Quick")],
    K: [(K, "Refuses"), (C, "Quick")],
    C: [(C, "Quick"), (C, "TwoPhase"), (C, "Quick")],
}


def make_runs(repository_class):
    """One run ending in each status, created in the order of STEPS."""
    runs = {
        F: Simple(repository_class=repository_class, context={"tokens": []}),
        X: Broken(repository_class=repository_class),
        P: Approval(repository_class=repository_class),
        K: Refused(repository_class=repository_class),
        C: Simple(repository_class=repository_class),
    }
    for _ in range(4):
        runs[F].start()
    runs[X].start()
    with pytest.raises(StepHookError, match="disk full"):
        runs[X].start()
    runs[X].start()
    for _ in range(2):
        runs[P].start()
        runs[K].start()
    return runs


def assert_schema(frame, columns):
    assert list(frame.columns) == list(columns)
    assert frame.dtypes.to_dict() == dict(columns)


def test_pipelines_frame_has_one_typed_row_per_pipeline_oldest_first(repository_class):
    runs = make_runs(repository_class)
    frame = pipelines_frame(repository_class)
    assert_schema(frame, PIPELINE_COLUMNS)
    assert list(frame["uuid"]) == [run.uuid for run in runs.values()]
    assert list(frame["status"]) == list(runs)
    assert list(frame["name"]) == ["Simple", "Broken", "Approval", "Refused", "Simple"]
    assert frame["created_at"].is_monotonic_increasing
    assert frame["current_step"].tolist()[2] == runs[P].step_records()[1].uuid
    assert frame["current_step"].isna().tolist() == [False, False, False, False, True]
    counts = frame[[f"steps_{status}" for status in Status.ALL]].to_numpy().tolist()
    assert counts == [[sum(s == status for s, _ in STEPS[run]) for status in Status.ALL] for run in runs]
    assert frame["steps"].tolist() == [3, 3, 3, 2, 3]


def test_pipelines_frame_times_come_from_the_history(repository_class):
    make_runs(repository_class)
    frame = pipelines_frame(repository_class).set_index("status")
    ended = frame.loc[[F, X, K]]
    assert (ended["duration"] > pd.Timedelta(0)).all()
    assert (ended["duration"] == ended["ended_at"] - ended["started_at"]).all()
    assert (ended["started_at"] >= ended["created_at"]).all()
    assert (ended["updated_at"] >= ended["ended_at"]).all()
    assert ended["by"].tolist() == ["engine"] * 3
    assert frame.loc[P, "started_at"] > frame.loc[P, "created_at"]
    assert pd.isna(frame.loc[P, "ended_at"]) and pd.isna(frame.loc[P, "duration"])
    assert frame.loc[C, ["started_at", "ended_at", "duration", "by"]].isna().all()


def test_steps_frame_orders_by_pipeline_then_position(repository_class):
    runs = make_runs(repository_class)
    frame = steps_frame(repository_class)
    assert_schema(frame, STEP_COLUMNS)
    expected = [(runs[run].uuid, position, *step) for run in runs for position, step in enumerate(STEPS[run], start=1)]
    assert list(zip(frame["pipeline_uuid"], frame["position"], frame["status"], frame["name"], strict=True)) == expected
    assert frame["uuid"].is_unique


def test_steps_frame_times_errors_and_who_ended_each_step(repository_class):
    make_runs(repository_class)
    frame = steps_frame(repository_class)
    started = frame[frame["started_at"].notna()]
    assert len(started) == sum(s != C for steps in STEPS.values() for s, _ in steps)
    ended = frame[frame["status"].isin(list(Status.ENDED))]
    assert (ended["duration"] == ended["ended_at"] - ended["started_at"]).all()
    assert (ended["duration"] >= pd.Timedelta(0)).all()
    assert started.groupby("pipeline_uuid")["started_at"].is_monotonic_increasing.all()
    assert frame.loc[frame["status"] != C, "by"].value_counts().to_dict() == {"step": 6, "error": 1}
    failed = frame[frame["status"] == X]
    assert failed[["name", "error_type", "error_message"]].values.tolist() == [["Explodes", "ValueError", "disk full"]]
    assert frame["error_type"].notna().sum() == 1
    assert frame.loc[frame["status"] == P, ["ended_at", "duration", "by"]].isna().all(axis=None)


def test_steps_with_pipelines_adds_the_pipeline_columns(repository_class):
    make_runs(repository_class)
    joined = steps_with_pipelines(repository_class)
    steps = steps_frame(repository_class)
    pipelines = pipelines_frame(repository_class).set_index("uuid")
    added = ["pipeline_name", "pipeline_status", "pipeline_created_at", "pipeline_ended_at"]
    assert list(joined.columns) == ["uuid", "pipeline_uuid", *added, *list(steps.columns)[2:]]
    pd.testing.assert_frame_equal(joined[steps.columns], steps)
    expected = pipelines.loc[list(steps["pipeline_uuid"]), ["name", "status", "created_at", "ended_at"]]
    pd.testing.assert_frame_equal(joined[added], expected.add_prefix("pipeline_").reset_index(drop=True))
    assert joined["pipeline_status"].dtype == PIPELINE_COLUMNS["status"]


def test_summary_counts_every_status_per_pipeline_name(repository_class):
    make_runs(repository_class)
    table = summary(repository_class)
    assert list(table.columns) == [*Status.ALL, "total"]
    assert table.index.tolist() == ["Approval", "Broken", "Refused", "Simple"]
    assert table.loc["Simple"].tolist() == [1, 0, 1, 0, 0, 2]
    assert table.loc["Broken"].tolist() == [0, 0, 0, 1, 0, 1]
    assert (table.dtypes == "int64").all()


def test_timeline_lists_started_steps_by_start(repository_class):
    runs = make_runs(repository_class)
    everything = timeline(repository_class)
    assert list(everything.columns) == list(TIMELINE_COLUMNS)
    assert everything["start"].is_monotonic_increasing
    assert len(everything) == len(steps_frame(repository_class)["started_at"].dropna())
    waiting = timeline(repository_class, runs[P].uuid)
    assert waiting["name"].tolist() == ["Quick", "WaitForApproval"]
    assert waiting["pipeline_name"].unique().tolist() == ["Approval"]
    assert waiting["end"].isna().tolist() == [False, True]
    assert waiting["duration"].iloc[0] == waiting["end"].iloc[0] - waiting["start"].iloc[0]
    assert timeline(repository_class, runs[C].uuid).empty
    with pytest.raises(RecordNotFoundError, match="no-such-run"):
        timeline(repository_class, "no-such-run")


def test_flatten_metadata_adds_a_column_per_key(repository_class):
    runs = make_runs(repository_class)
    pipelines = pipelines_frame(repository_class, flatten_metadata=True)
    assert list(pipelines.columns)[: len(PIPELINE_COLUMNS)] == list(PIPELINE_COLUMNS)
    assert pipelines["metadata.current_step"].tolist()[:4] == pipelines["current_step"].tolist()[:4]
    token = runs[F].step_records()[1].metadata["token"]
    assert pipelines["context.tokens"].iloc[0] == [token]
    steps = steps_frame(repository_class, flatten_metadata=True)
    assert steps["metadata.token"].dropna().tolist() == [token]
    assert steps["metadata.checks"].dropna().tolist() == [1]
    assert steps["metadata.ran"].dtype == "Int64"


def test_a_store_is_a_source_too(repository_class):
    make_runs(repository_class)
    pd.testing.assert_frame_equal(steps_frame(Store(repository_class)), steps_frame(repository_class))


@pytest.mark.parametrize(
    ("make_frame", "columns"),
    [
        (pipelines_frame, PIPELINE_COLUMNS),
        (steps_frame, STEP_COLUMNS),
        (steps_with_pipelines, JOINED_COLUMNS),
        (timeline, TIMELINE_COLUMNS),
        (summary, dict.fromkeys([*Status.ALL, "total"], "int64")),
    ],
)
def test_empty_repository_gives_empty_frames_with_every_column(repository_class, make_frame, columns):
    frame = make_frame(repository_class)
    assert frame.empty
    assert_schema(frame, columns)


PRORCH_SCRIPT = """
    import json

    from prorch.decorators.decorators import register_pipeline, register_step
    from prorch.mixins.on_continue import OnContinueMixin
    from prorch.mixins.on_start import OnStartMixin
    from prorch.pipeline.pipeline import Pipeline
    from prorch.step.step import Step

    from tests.seed_repository import seed_repository

    TinyDBRepository = seed_repository("prorch")


    @register_step
    class Extract(OnStartMixin, Step):
        name = "Extract"

        def on_start(self):
            self.finish()


    @register_step
    class Wait(OnContinueMixin, Step):
        name = "Wait"

        def on_continue(self):
            pass


    @register_step
    class Refuse(OnStartMixin, Step):
        name = "Refuse"

        def on_start(self):
            self.fail()


    @register_pipeline
    class Done(Pipeline):
        name = "Done"
        steps = [Extract, Extract]


    @register_pipeline
    class Waiting(Pipeline):
        name = "Waiting"
        steps = [Extract, Wait, Extract]


    @register_pipeline
    class Refused(Pipeline):
        name = "Refused"
        steps = [Refuse, Extract]


    runs = [Done(TinyDBRepository), Waiting(TinyDBRepository), Refused(TinyDBRepository)]
    for run in runs:
        for _ in range(3):
            run.start()
    print(json.dumps([run.uuid for run in runs]))
"""


@pytest.fixture
def prorch_database(tmp_path):
    """A database.json written by prorch 1.0.1 itself, and the uuids of its three runs."""
    script = tmp_path / "make_database.py"
    script.write_text(textwrap.dedent(PRORCH_SCRIPT))
    # The script's folder is tmp_path: the repository root goes on its path for tests.seed_repository.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    return tmp_path / "database.json", json.loads(done.stdout)


@pytest.mark.parametrize(
    ("reader", "pipeline_order"),
    [
        ("tinydb", [0, 1, 2]),  # all() in storage order
        ("seed_example", [1, 0, 2]),  # the default all(): pending, finished, failed; steps re-read per pipeline
    ],
)
def test_frames_of_a_prorch_1_0_1_database(prorch_database, monkeypatch, reader, pipeline_order):
    path, created = prorch_database
    monkeypatch.chdir(path.parent)
    repository_class = TinyDBRepository.at(path) if reader == "tinydb" else SeedTinyDBRepository
    uuids = [created[index] for index in pipeline_order]
    pipelines = pipelines_frame(repository_class)
    assert_schema(pipelines, PIPELINE_COLUMNS)
    assert pipelines["uuid"].tolist() == uuids
    assert pipelines["status"].tolist() == [[F, P, X][index] for index in pipeline_order]
    assert pipelines[["created_at", "updated_at", "started_at", "ended_at", "duration", "by"]].isna().all(axis=None)
    assert pipelines["steps"].tolist() == [[2, 3, 2][index] for index in pipeline_order]
    steps = steps_frame(repository_class)
    assert_schema(steps, STEP_COLUMNS)
    assert steps["position"].isna().all()
    steps_of = [
        [("Extract", F), ("Extract", F)],
        [("Extract", F), ("Wait", P), ("Extract", C)],
        [("Refuse", X), ("Extract", C)],
    ]
    expected = [(created[index], *step) for index in pipeline_order for step in steps_of[index]]
    assert list(zip(steps["pipeline_uuid"], steps["name"], steps["status"], strict=True)) == expected
    assert steps[["started_at", "ended_at", "error_type"]].isna().all(axis=None)
    assert summary(repository_class)["total"].to_dict() == {"Done": 1, "Refused": 1, "Waiting": 1}
    assert timeline(repository_class).empty


def test_runs_added_to_a_prorch_1_0_1_database_come_after_its_own(prorch_database):
    path, created = prorch_database
    repository_class = TinyDBRepository.at(path)
    added = Simple(repository_class=repository_class)
    added.start()
    pipelines = pipelines_frame(repository_class)
    assert pipelines["uuid"].tolist() == [*created, added.uuid]
    assert pipelines["created_at"].isna().tolist() == [True, True, True, False]
    steps = steps_frame(repository_class)
    assert steps["pipeline_uuid"].tolist()[-3:] == [added.uuid] * 3
    assert steps["position"].tolist()[-4:] == [pd.NA, 1, 2, 3]  # counted from 1, as every view shows steps


def memory_with(pipelines, steps):
    """An in-memory repository class holding these raw records, saved as they are."""
    repository_class = InMemoryRepository.fresh()
    for model, records in ((Metadata.PIPELINES_MODEL, pipelines), (Metadata.STEP_MODEL, steps)):
        for record in records:
            repository_class(model).save(record)
    return repository_class


def good_pipeline(uuid="p-1", **fields):
    return {"uuid": uuid, "name": "Simple", "metadata": {"current_step": None}, "status": C, **fields}


def good_step(uuid="s-1", **fields):
    return {"uuid": uuid, "name": "Quick", "pipeline_uuid": "p-1", "metadata": {}, "status": C, **fields}


@pytest.mark.parametrize(
    ("pipelines", "steps", "make_frame", "message"),
    [
        ([{"uuid": "p-bad", "name": "Simple"}], [], pipelines_frame, r"pipeline record #1 \(uuid 'p-bad'\): 'status'"),
        ([good_pipeline(status="running")], [], summary, r"'p-1'\): 'status' must be one of created.*got 'running'"),
        ([good_pipeline(metadata=["x"])], [], pipelines_frame, r"'p-1'\): 'metadata' must be a dict"),
        (
            [good_pipeline(), good_pipeline()],
            [],
            pipelines_frame,
            r"#2 \(uuid 'p-1'\): 'uuid' must be unique; record #1 ",
        ),
        (
            [good_pipeline()],
            [good_step(position="first")],
            steps_frame,
            r"step record #1 \(uuid 's-1'\): 'position' must be an int",
        ),
        ([good_pipeline()], [good_step(created_at="yesterday")], steps_frame, r"'s-1'\): 'created_at' must be an ISO"),
        (
            [good_pipeline()],
            [good_step(), good_step("s-2", history=[{"status": C, "at": "soon"}])],
            steps_with_pipelines,
            r"step record #2 \(uuid 's-2'\): history 'at' must be an ISO-8601 time, got 'soon'",
        ),
        ([good_pipeline()], [good_step(history=["created"])], timeline, r"'s-1'\): 'history' entries must be dicts"),
        ([good_pipeline()], [{"name": "Quick", "status": C}], steps_frame, r"step record #1 \(no uuid\): 'uuid'"),
        ([good_pipeline()], [good_step(attempts="two")], steps_frame, r"'s-1'\): 'attempts' must be an integer"),
        ([good_pipeline()], [good_step(deadline="tomorrow")], steps_frame, r"'s-1'\): 'deadline' must be an ISO"),
        ([good_pipeline(due_at="soon")], [], pipelines_frame, r"'p-1'\): 'due_at' must be an ISO-8601 time"),
        ([good_pipeline(signals=["go"])], [], pipelines_frame, r"'p-1'\): 'signals' must be a dict"),
        (
            [good_pipeline("p-1", name=None), good_pipeline("p-2", name=3)],
            [],
            pipelines_frame,
            r"skipped 2 malformed records in \w+:\n  pipeline record #1 \(uuid 'p-1'\): 'name' must be a string, got "
            r"None\n  pipeline record #2 \(uuid 'p-2'\): 'name' must be a string, got 3$",
        ),
    ],
)
def test_a_malformed_record_is_left_out_with_a_warning_naming_it(pipelines, steps, make_frame, message):
    with pytest.warns(MalformedRecordWarning, match=message):
        make_frame(memory_with(pipelines, steps))


def test_a_number_where_a_string_belongs_is_reported_on_every_repository(repository_class):
    odd = good_step("s-odd", name=7, position=1)  # a database's text column holds '7'
    for model, record in [
        (Metadata.PIPELINES_MODEL, good_pipeline()),
        *((Metadata.STEP_MODEL, s) for s in (good_step(), odd)),
    ]:
        repository_class(model).save(record)
    reported = r"step record #2 \(uuid 's-odd'\): 'name' must be a string, got 7$"
    with pytest.warns(MalformedRecordWarning, match=reported):
        assert pipelines_frame(repository_class)["steps"].tolist() == [1]
    with pytest.warns(MalformedRecordWarning, match=reported):
        assert steps_frame(repository_class)["uuid"].tolist() == ["s-1"]


def test_each_frame_reads_each_table_once_and_only_the_fields_it_needs():
    repository_class = counting_repository()
    make_runs(repository_class)
    repository_class.reads.clear()
    pipelines_frame(repository_class)
    assert repository_class.reads == {
        "pipelines.columns uuid name status created_at metadata updated_at history due_at signals": 1,
        "steps.columns uuid pipeline_uuid name status": 1,  # the step counts: no history, no times
    }
    repository_class.reads.clear()
    steps_frame(repository_class)
    assert repository_class.reads == {
        "steps.columns uuid pipeline_uuid name status position created_at updated_at history error "
        "attempts due_at deadline": 1,
        "pipelines.columns uuid name status created_at": 1,  # their order
    }


def test_the_garbage_collector_is_paused_while_a_frame_is_built_and_restored_after():
    enabled = []

    def make(reading):
        enabled.append(gc.isenabled())
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        Reading(Store(InMemoryRepository.fresh())).build(make)
    assert enabled == [False] and gc.isenabled()
    gc.disable()
    try:
        steps_frame(InMemoryRepository.fresh())
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


def test_steps_of_a_missing_pipeline_come_last_without_pipeline_columns():
    repository_class = memory_with([good_pipeline()], [good_step("orphan", pipeline_uuid="gone"), good_step("s-1")])
    joined = steps_with_pipelines(repository_class)
    assert joined["uuid"].tolist() == ["s-1", "orphan"]
    assert joined["pipeline_name"].isna().tolist() == [False, True]
    assert pipelines_frame(repository_class)["steps"].tolist() == [1]


@pytest.mark.parametrize("make_frame", [pipelines_frame, steps_with_pipelines, timeline])
def test_styled_colours_every_status_present_with_the_palette(repository_class, make_frame):
    make_runs(repository_class)
    frame = make_frame(repository_class)
    html = styled(frame).to_html()
    present = {*frame["status"], *frame.get("pipeline_status", [])}
    assert len(present) >= 4
    for status, look in STYLES.items():
        assert (f"background-color: {look.fill};\n  color: {look.font};" in html) == (status in present)
        assert (f">{look.glyph} {status}</td>" in html) == (status in present)


def test_styled_summary_colours_the_status_headers(repository_class):
    Simple(repository_class=repository_class)
    html = styled(summary(repository_class)).to_html()
    for status, look in STYLES.items():
        assert f"background-color: {look.fill};\n  color: {look.font};" in html
        assert f">{status}</th>" in html


def test_styled_shows_short_uuids_times_to_the_second_and_durations_for_people(repository_class):
    runs = make_runs(repository_class)
    frame = timeline(repository_class, runs[F].uuid)
    page = styled(frame).to_html()
    assert runs[F].uuid[:8] in page and runs[F].uuid not in page
    assert len(frame["pipeline_uuid"].iloc[0]) == 36  # the frame keeps the full uuid
    assert re.search(r">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td>", page)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", page)  # no microseconds
    assert "0 days" not in page and re.search(r">\d[\d.]* (ms|s)</td>", page)  # 0.252 ms, not 0 days 00:00:00.000252
    assert frame["duration"].dtype.kind == "m"


def test_styled_summary_has_one_header_row_with_the_pipeline_column(repository_class):
    make_runs(repository_class)
    page = styled(summary(repository_class)).to_html()
    header = page.split("<thead>")[1].split("</thead>")[0]
    assert header.count("<tr>") == 1  # no second row for the index's name
    assert re.findall(r">([a-z]+)</th>", header) == ["name", *Status.ALL, "total"]


def test_the_notebook_package_offers_its_modules_to_tab_completion():
    code = (
        "import sys, prorch_nb.notebook as nb\n"
        "assert {'frames', 'diagrams', 'Dashboard', 'PipelinePanel'} <= set(dir(nb))\n"
        "assert 'prorch_nb.notebook.frames' not in sys.modules  # imported when asked for\n"
        "from IPython.core.completer import IPCompleter\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance(); shell.user_ns['nb'] = nb\n"
        "assert 'nb.frames' in shell.Completer.global_matches('nb.fr') + shell.Completer.attr_matches('nb.fr')\n"
        "from prorch_nb.notebook import frames\n"
        "assert frames.steps_frame and nb.frames is frames\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
