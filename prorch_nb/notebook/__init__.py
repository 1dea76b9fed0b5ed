"""Notebook views: Graphviz diagrams, pandas frames and ipywidgets, imported only when used."""

from typing import Any

__all__ = ["Dashboard", "PipelinePanel"]


def __getattr__(name: str) -> Any:
    """``PipelinePanel`` and ``Dashboard``, importing ipywidgets only when asked for."""
    if name in __all__:
        from prorch_nb.notebook import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
