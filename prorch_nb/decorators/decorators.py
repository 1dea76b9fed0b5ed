"""Class decorators that register pipelines and steps under their ``name``."""

from __future__ import annotations

from typing import TypeVar

from prorch_nb import registry
from prorch_nb.exceptions.exceptions import PipelineNameNotDefinedException, StepNameNotDefinedException

P = TypeVar("P", bound=type)
S = TypeVar("S", bound=type)


def register_pipeline(pipeline_class: P) -> P:
    """Register a Pipeline subclass so stored runs of it can be loaded by name.

    Registering a name again with a new version of the same class (same module and
    qualified name: re-running a notebook cell) replaces it; with another class, it raises
    :class:`~prorch_nb.exceptions.exceptions.RegistrationError` naming both.
    """
    if not getattr(pipeline_class, "name", None):
        raise PipelineNameNotDefinedException(f"pipeline class {pipeline_class.__qualname__} has no name")
    registry.register(registry.PIPELINES, "pipeline", pipeline_class)
    return pipeline_class


def register_step(step_class: S) -> S:
    """Register a Step subclass so stored steps of it can be loaded by name."""
    if not getattr(step_class, "name", None):
        raise StepNameNotDefinedException(f"step class {step_class.__qualname__} has no name")
    registry.register(registry.STEPS, "step", step_class)
    return step_class
