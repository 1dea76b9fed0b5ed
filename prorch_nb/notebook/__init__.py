"""Notebook views: Graphviz diagrams, pandas frames and ipywidgets, each imported when first used.

``from prorch_nb.notebook import frames`` (or ``diagrams``) gives the module; the
widgets are ``PipelinePanel`` and ``Dashboard``. Every name is listed by ``dir()``, so
tab completion offers them before any is imported.
"""

import importlib
from typing import Any

#: Modules of this package offered by name.
MODULES = ("diagrams", "frames")
#: Widget classes, imported from :mod:`prorch_nb.notebook.widgets` (which needs ipywidgets).
WIDGETS = ("Dashboard", "PipelinePanel")

__all__ = [*WIDGETS, *MODULES]


def __getattr__(name: str) -> Any:
    """The modules ``frames`` and ``diagrams`` and the widgets, imported only when asked for."""
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in WIDGETS:
        return getattr(importlib.import_module(f"{__name__}.widgets"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """What tab completion offers: the lazy names too."""
    return sorted({*globals(), *__all__})
