"""Runs in every status, shared by the diagram and Jupyter tests."""

import pytest

from prorch_nb import Pipeline, Status, register_pipeline
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.notebook.diagrams import INACTIVE
from prorch_nb.styles import style_of
from tests.pipelines import Approval, Broken, Quick, Refused, Refuses, Simple

C, P, F, X, K = Status.CREATED, Status.PENDING, Status.FINISHED, Status.FAILED, Status.CANCELLED


@register_pipeline
class FiftySteps(Pipeline):
    name = "FiftySteps"
    steps = [Quick] * 49 + [Refuses]


def run_in(status, repository_class):
    """A run that has reached ``status``, with the step statuses it then has."""
    if status == C:
        return Simple(repository_class=repository_class), [C, C, C]
    if status == P:
        run = Approval(repository_class=repository_class)
        run.start()
        run.start()
        return run, [F, P, C]
    if status == F:
        run = Simple(repository_class=repository_class)
        for _ in range(4):
            run.start()
        return run, [F, F, F]
    if status == X:
        run = Broken(repository_class=repository_class)
        run.start()
        with pytest.raises(StepHookError, match="disk full"):
            run.start()
        run.start()
        return run, [F, X, C]
    run = Refused(repository_class=repository_class)
    run.start()
    run.start()
    return run, [K, C]


def look_of(pipeline_status, step_status):
    """How a diagram draws a step: hollow and dotted when its run ended without reaching it."""
    return INACTIVE if pipeline_status in Status.ENDED and step_status == C else style_of(step_status)
