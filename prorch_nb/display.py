"""The Jupyter shim of engine objects: ``_repr_mimebundle_``, with the notebook layer imported on first display.

A displayable object answers for itself: its ``_notebook_view()`` returns what it shows
(a :class:`~prorch_nb.notebook.jupyter.View`: text, and a diagram or an HTML page), and
:func:`mimebundle` turns that into the data Jupyter asks for. Importing the engine never
imports graphviz, pandas or ipywidgets.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prorch_nb.notebook.overview import Overview


def mimebundle(
    obj: object, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: Any
) -> dict[str, str | bytes]:
    """The Jupyter mimebundle of ``obj``: its ``_notebook_view()``, made into data by the notebook layer."""
    from prorch_nb.notebook.jupyter import mimebundle as notebook_mimebundle

    return notebook_mimebundle(obj, include=include, exclude=exclude)


class RichDisplay:
    """Mixin: Jupyter shows an overview of a repository; by default, of this object's own class (a repository)."""

    _repr_mimebundle_ = mimebundle

    def _notebook_view(self) -> Overview:
        """An overview of the runs in this repository, read now."""
        from prorch_nb.notebook.overview import overview

        return overview(type(self))


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
