"""ipywidgets for runs and orchestrators: :class:`PipelinePanel` and :class:`Dashboard`.

``run.panel()`` and ``orchestrator.dashboard()`` make them. Both also show a static
snapshot (HTML) where widgets cannot be shown, e.g. a saved notebook on GitHub.
"""

try:
    import ipywidgets  # noqa: F401
except ImportError as error:  # an optional piece: say how to get it
    raise ImportError(
        "prorch_nb's notebook widgets need ipywidgets: pip install ipywidgets (or conda install ipywidgets)"
    ) from error

from prorch_nb.notebook.widgets.dashboard import Dashboard
from prorch_nb.notebook.widgets.panel import PipelinePanel

__all__ = ["Dashboard", "PipelinePanel"]
