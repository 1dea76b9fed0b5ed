"""Bad input gets a clear error naming the problem, and never leaves a run stuck."""

import math
import re
from datetime import datetime, timezone

import pytest

from prorch_nb import (
    IRepository,
    OnStartMixin,
    Orchestrator,
    OrchestratorConfig,
    Pipeline,
    Status,
    Step,
    register_pipeline,
    register_step,
)
from prorch_nb.exceptions.exceptions import (
    NotJSONError,
    RegistrationError,
    RepositoryNotDefinedException,
    StepHookError,
    StepNameNotDefinedException,
)
from prorch_nb.store import Store
from tests.pipelines import Quick

#: What a hook writes, and the error that must name it.
NOT_JSON = {
    "datetime": (
        lambda step: step.metadata.update(at=datetime(2026, 11, 29, tzinfo=timezone.utc)),
        "metadata['at'] is a datetime, not JSON",
    ),
    "set": (
        lambda step: step.context.update(tags={"a", "b"}),
        "context['tags'] is a set, not JSON (use a sorted list)",
    ),
    "object": (lambda step: step.metadata.update(handle=object()), "metadata['handle'] is an object, not JSON"),
    "tuple": (lambda step: step.metadata.update(size=(3, 4)), "metadata['size'] is a tuple, not JSON (use a list)"),
    "int key": (lambda step: step.metadata.update({1: "one", "1": "uno"}), "metadata has the key 1 (int)"),
    "nan": (lambda step: step.context.update(score=math.nan), "context['score'] is nan, which JSON cannot hold"),
    "nested": (
        lambda step: step.metadata.update(rows=[{"ok": 1}, {"bad": math.inf}]),
        "metadata['rows'][1]['bad'] is inf, which JSON cannot hold",
    ),
}


@register_step
class WritesNotJSON(OnStartMixin, Step):
    name = "WritesNotJSON"

    def on_start(self):
        NOT_JSON[self.context["case"]][0](self)
        if self.context.get("finish"):
            self.finish()


@register_pipeline
class NotJSONRun(Pipeline):
    name = "NotJSONRun"
    steps = [WritesNotJSON, Quick]


@pytest.mark.parametrize("finish", [False, True], ids=["returns", "finishes"])
@pytest.mark.parametrize("case", list(NOT_JSON))
def test_a_value_json_would_not_keep_fails_the_step_naming_the_key(repository_class, case, finish):
    run = NotJSONRun(repository_class=repository_class, context={"case": case, "finish": finish})

    with pytest.raises(StepHookError, match=re.escape(NOT_JSON[case][1])):
        run.start()

    (step, after) = Store(repository_class).steps_of(run.uuid)
    assert step.status == Status.FAILED and after.status == Status.CREATED
    assert step.error["type"] == "NotJSONError" and step.claimed_by is None
    report = Orchestrator(OrchestratorConfig(repository_class=repository_class)).run_until_done()
    assert run.refresh().status == Status.FAILED and len(report.ticks) == 1  # fails on its next tick, then rests


def test_a_new_runs_context_that_is_not_json_is_refused_before_anything_is_stored(repository_class):
    with pytest.raises(NotJSONError, match=r"context\['when'\] is a datetime, not JSON"):
        NotJSONRun(repository_class=repository_class, context={"when": datetime.now(timezone.utc)})
    assert Store(repository_class).all_pipelines() == []


# The registry ---------------------------------------------------------------------------


def test_another_class_cannot_take_a_registered_name(tmp_path):
    class Upload(OnStartMixin, Step):
        name = "GuardsUpload"

    register_step(Upload)
    register_step(Upload)  # the same class again: nothing to say

    class OtherUpload(OnStartMixin, Step):
        name = "GuardsUpload"

    with pytest.raises(
        RegistrationError,
        match=r"step name 'GuardsUpload' is registered already by .*\.Upload; "
        r".*OtherUpload cannot take it",
    ):
        register_step(OtherUpload)


def test_a_class_redefined_under_the_same_name_replaces_the_old_one_quietly():
    from prorch_nb import registry

    def define():
        class Report(OnStartMixin, Step):  # a notebook cell run twice defines it twice
            name = "GuardsReport"

        return register_step(Report)

    first, second = define(), define()
    assert first is not second and registry.STEPS["GuardsReport"] is second


# Repository classes and pipeline definitions --------------------------------------------


class HalfRepository(IRepository):
    def get(self, uuid):
        return None

    def save(self, data):
        raise AssertionError("never reached")


def test_a_repository_class_missing_methods_is_refused_naming_them():
    message = r"repository class HalfRepository does not implement update, search"
    with pytest.raises(RepositoryNotDefinedException, match=message):
        NotJSONRun(repository_class=HalfRepository)
    with pytest.raises(RepositoryNotDefinedException, match=message):
        Orchestrator(OrchestratorConfig(repository_class=HalfRepository))


def test_a_pipeline_with_an_unnamed_step_class_is_refused_at_creation_as_in_prorch(repository_class):
    class Unnamed(OnStartMixin, Step):
        def on_start(self):
            self.finish()

    class WithUnnamed(Pipeline):
        name = "WithUnnamed"
        steps = [Quick, Unnamed]

    with pytest.raises(StepNameNotDefinedException, match=r"step class .*Unnamed has no name"):
        WithUnnamed(repository_class=repository_class)
    assert Store(repository_class).all_pipelines() == []


@pytest.mark.parametrize(
    ("text", "what"), [("a\x00b", "a NUL character"), ("\udcff", "a lone surrogate")], ids=["nul", "surrogate"]
)
def test_text_not_every_store_keeps_fails_the_step_naming_the_key(repository_class, text, what):
    NOT_JSON["text"] = (lambda step: step.metadata.update(note=text), "")
    run = NotJSONRun(repository_class=repository_class, context={"case": "text"})
    try:
        with pytest.raises(StepHookError, match=re.escape(f"metadata['note'] holds {what}")):
            run.start()
    finally:
        del NOT_JSON["text"]
    step = Store(repository_class).steps_of(run.uuid)[0]
    assert step.status == Status.FAILED and step.claimed_by is None
