"""Display hooks of engine objects: text reprs here, rich views imported only when shown.

Jupyter calls ``_repr_mimebundle_``; the work happens in
:mod:`prorch_nb.notebook.jupyter`, imported on the first display, so importing the
engine never imports graphviz.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prorch_nb.store import Store
from prorch_nb.styles import glyph

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.pipeline.pipeline import Pipeline


def mimebundle(
    obj: object, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: Any
) -> dict[str, str | bytes]:
    """The Jupyter mimebundle of ``obj`` (a pipeline class or run, orchestrator, repository)."""
    from prorch_nb.notebook.jupyter import mimebundle as notebook_mimebundle

    return notebook_mimebundle(obj, include=include, exclude=exclude)


class RichDisplay:
    """Mixin: instances show an overview of their repository in Jupyter."""

    _repr_mimebundle_ = mimebundle


class BoundOnClassToo:
    """A method bound to the instance, or to the class itself when looked up on the class.

    IPython calls ``_repr_mimebundle_`` on a class only if ``getattr`` gives a bound
    method (``IPython.utils.dir2.get_real_method``). A plain method looked up on a class
    is a function, and a metaclass method would be shadowed by the instances' method.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __get__(self, obj: object, owner: type | None = None) -> types.MethodType:
        return types.MethodType(self.function, owner if obj is None else obj)


def read_run(pipeline: Pipeline) -> tuple[PipelineData, list[StepData]]:
    """The stored record of a run and its steps in order, read now (``pipeline`` unchanged)."""
    store = Store(pipeline._repository_class)
    return store.pipeline(pipeline.uuid), store.steps_of(pipeline.uuid)


def run_text(name: str, record: PipelineData, steps: list[StepData]) -> str:
    """``<Name uuid8 status: ✓ StepA → ▶ StepB → · StepC>``."""
    flow = " → ".join(f"{glyph(step.status)} {step.name}" for step in steps)
    return f"<{name} {record.uuid[:8]} {record.status}{': ' + flow if flow else ''}>"


def pipeline_repr(pipeline: Pipeline) -> str:
    """The text repr of a run, read fresh; ``<Name uuid8 status>`` if reading fails. Never raises."""
    name = type(pipeline).__name__
    record = getattr(pipeline, "_record", None)
    if record is None:
        return f"<{name} (no record)>"
    try:
        return run_text(name, *read_run(pipeline))
    except Exception:  # a repr must never raise: fall back to what this object holds
        return f"<{name} {record.uuid[:8]} {record.status}>"
