"""Pieces every widget here shares: named buttons, guarded callbacks, the snapshot bundle.

ipywidgets calls button callbacks through ``CallbackDispatcher``, which catches any
exception: outside IPython it only logs a warning (``"Exception in callback ..."`` on
traitlets' logger); in a kernel it shows the traceback as output of the click's comm
message, which JupyterLab puts in its log console rather than under the cell. Observers
of traits the browser sets run under ``_show_traceback``, which does the same. So every
callback here is wrapped by :func:`guarded`: an exception is shown in the widget itself
and never reaches ipywidgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets

from prorch_nb.notebook.html_parts import error_box
from prorch_nb.utils.mime import HTML, TEXT


def button(description: str, css: str, tooltip: str, style: str = "") -> widgets.Button:
    """A button with a stable ``description`` and CSS class, and no icon: its accessible name is its label."""
    return widgets.Button(description=description, tooltip=tooltip, button_style=style).add_class(css)


def guarded(action: str, callback: Callable[[], None], report: Callable[[str, Exception], None]) -> Callable[..., None]:
    """``callback`` as an ipywidgets callback: arguments dropped, exceptions passed to ``report``."""

    def run(*_: Any) -> None:
        try:
            callback()
        except Exception as error:  # shown in the widget; ipywidgets would only log it
            report(action, error)

    return run


def close_tree(widget: widgets.Widget) -> None:
    """Close ``widget`` and every widget inside it (their comms, and their views in the browser)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widgets.Widget.close(widget)


def snapshot_bundle(
    widget_bundle: dict[str, Any] | None,
    snapshot: Callable[[], tuple[str, str]],
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, Any]:
    """The bundle of ipywidgets (the live view) plus a static ``text/html`` and ``text/plain``.

    Front ends without the widget's state (GitHub, nbviewer, a notebook reopened without
    a kernel) skip the widget view and show the snapshot. A snapshot that cannot be read
    shows the error instead.
    """
    try:
        page, text = snapshot()
    except Exception as error:  # a display hook must not raise
        page, text = (
            error_box("Snapshot failed", f"{type(error).__name__}: {error}", None),
            f"<snapshot failed: {error}>",
        )
    bundle = {**(widget_bundle or {}), HTML: page, TEXT: text}
    excluded = set(exclude or ())
    wanted = set(bundle if include is None else include) - excluded
    return {mimetype: data for mimetype, data in bundle.items() if mimetype in wanted}
