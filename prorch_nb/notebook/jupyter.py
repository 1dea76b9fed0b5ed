"""Jupyter display of pipeline classes, runs, orchestrators and repositories.

Engine objects answer ``_repr_mimebundle_(include, exclude)`` with :func:`mimebundle`:
a pipeline class shows its definition, a run its state (both drawn by ``dot`` as SVG),
an orchestrator or a repository an :class:`~prorch_nb.notebook.overview.Overview` of
its runs (HTML). Without the ``dot`` program a diagram falls back to text and its DOT
source, with a hint on installing Graphviz; displaying never raises for that.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import graphviz

from prorch_nb.display import pipeline_repr
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.notebook.diagrams import definition_graph, run_graph
from prorch_nb.notebook.overview import Overview, overview
from prorch_nb.orchestrator.orchestrator import Orchestrator
from prorch_nb.pipeline.pipeline import Pipeline

SVG, PNG, HTML, TEXT = "image/svg+xml", "image/png", "text/html", "text/plain"

INSTALL_HINT = (
    "Graphviz's dot program was not found, so this diagram is shown as text: install Graphviz "
    "(apt-get install graphviz, conda install graphviz, or see https://graphviz.org/download/)."
)


@dataclass(frozen=True)
class View:
    """What one object shows: its text, and a diagram or an HTML page."""

    text: str
    graph: graphviz.Digraph | None = None
    html: str | None = None


def _svg(view: View) -> str | None:
    return view.graph.pipe(format="svg", encoding="utf-8") if view.graph is not None else None


def _png(view: View) -> bytes | None:
    return view.graph.pipe(format="png") if view.graph is not None else None


#: How each mimetype is made from a view (``None`` when the view has no such form).
FORMATS: dict[str, Callable[[View], str | bytes | None]] = {
    SVG: _svg,
    PNG: _png,
    HTML: lambda view: view.html,
    TEXT: lambda view: view.text,
}
#: Mimetypes sent unless ``include`` names others (PNG only on request).
DEFAULT_MIMETYPES = frozenset({SVG, HTML, TEXT})


def mimebundle(
    obj: object, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, str | bytes]:
    """The mimetype -> data dict Jupyter shows for ``obj``; mimetypes we do not make are ignored.

    ``{}`` for a pipeline class without ``name`` or ``steps`` (IPython then shows its
    default repr). If ``dot`` is missing: ``text/plain`` and a ``text/html`` fallback.
    """
    view = view_of(obj)
    if view is None:
        return {}
    excluded = set(exclude or ())
    wanted = (set(DEFAULT_MIMETYPES) if include is None else set(include)) - excluded
    try:
        made = {mimetype: make(view) for mimetype, make in FORMATS.items() if mimetype in wanted}
    except graphviz.ExecutableNotFound:
        source = view.graph.source if view.graph is not None else ""
        made = {TEXT: view.text, HTML: fallback_html(view.text, source)}
        return {mimetype: data for mimetype, data in made.items() if mimetype not in excluded}
    return {mimetype: data for mimetype, data in made.items() if data is not None}


def view_of(obj: object) -> View | None:
    """The view of a pipeline class or run, orchestrator, repository or overview."""
    if isinstance(obj, type) and issubclass(obj, Pipeline):
        if not (obj.name and obj.steps):
            return None
        return View(definition_text(obj), graph=definition_graph(obj))
    if isinstance(obj, Pipeline):
        return View(pipeline_repr(obj), graph=run_graph(obj))
    if isinstance(obj, Orchestrator):
        return view_of(overview(obj.repository_class))
    if isinstance(obj, IRepository):
        return view_of(overview(type(obj)))
    if isinstance(obj, Overview):
        return View(obj.text(), html=obj.html())
    raise TypeError(
        f"no notebook view for {type(obj).__name__}; views exist for Pipeline classes and runs, "
        "Orchestrator, IRepository instances and Overview"
    )


def definition_text(pipeline_class: type[Pipeline]) -> str:
    """``<Name pipeline: StepA → StepB → StepC>``."""
    return f"<{pipeline_class.__name__} pipeline: {' → '.join(s.name or '' for s in pipeline_class.step_classes())}>"


def fallback_html(text: str, source: str) -> str:
    """What a diagram shows without ``dot``: its text, how to install Graphviz, its DOT source."""
    return (
        f"<div class='prorch-nb-fallback'><pre>{html.escape(text)}</pre>"
        f"<p>{html.escape(INSTALL_HINT)}</p><pre>{html.escape(source)}</pre></div>"
    )
