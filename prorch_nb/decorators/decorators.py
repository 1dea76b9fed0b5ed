"""Class decorators that register pipelines and steps under their ``name``."""

from __future__ import annotations

from typing import TypeVar

from prorch_nb import registry
from prorch_nb.exceptions.exceptions import PipelineNameNotDefinedException, StepNameNotDefinedException

P = TypeVar("P", bound=type)
S = TypeVar("S", bound=type)


def register_pipeline(pipeline_class: P) -> P:
    """Register a Pipeline subclass so stored runs of it can be loaded by name.

    Registering a name again replaces the class (re-running a notebook cell does this).
    """
    if not getattr(pipeline_class, "name", None):
        raise PipelineNameNotDefinedException(f"pipeline class {pipeline_class.__qualname__} has no name")
    registry.PIPELINES[pipeline_class.name] = pipeline_class
    return pipeline_class


def register_step(step_class: S) -> S:
    """Register a Step subclass so stored steps of it can be loaded by name."""
    if not getattr(step_class, "name", None):
        raise StepNameNotDefinedException(f"step class {step_class.__qualname__} has no name")
    registry.STEPS[step_class.name] = step_class
    return step_class
