"""What Jupyter shows of a displayable object: its :class:`View` made into a mimebundle.

Each displayable class answers for itself with ``_notebook_view()``: a pipeline class
its definition, a run its state (both drawn by ``dot`` as SVG), an orchestrator or a
repository an :class:`~prorch_nb.notebook.overview.Overview` of its runs (HTML). This
module only turns a view into the mimetypes asked for. Without the ``dot`` program a
diagram falls back to text and its DOT source, with a hint on installing Graphviz;
displaying never raises for that.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import graphviz

from prorch_nb.utils.mime import HTML, PNG, SVG, TEXT

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
    obj: object, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: object
) -> dict[str, str | bytes]:
    """The mimetype -> data dict Jupyter shows for ``obj``, from its ``_notebook_view()``.

    The view is a :class:`View`, or an object that shows itself (an orchestrator answers
    with the :class:`~prorch_nb.notebook.overview.Overview` of its repository).

    ``{}`` when the object has nothing to show (a pipeline class without ``name`` or
    ``steps``: IPython then shows its default repr). Mimetypes we do not make are ignored.
    If ``dot`` is missing: ``text/plain`` and a ``text/html`` fallback.
    """
    view = obj
    while view is not None and not isinstance(view, View):  # an object may answer with another that shows itself
        notebook_view = getattr(view, "_notebook_view", None)
        if notebook_view is None:
            raise TypeError(
                f"no notebook view for {type(view).__name__}; views exist for Pipeline classes and runs, "
                "Orchestrator, repositories and Overview (objects with a _notebook_view() method)"
            )
        view = notebook_view()
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


def fallback_html(text: str, source: str) -> str:
    """What a diagram shows without ``dot``: its text, how to install Graphviz, its DOT source."""
    return (
        f"<div class='prorch-nb-fallback'><pre>{html.escape(text)}</pre>"
        f"<p>{html.escape(INSTALL_HINT)}</p><pre>{html.escape(source)}</pre></div>"
    )
