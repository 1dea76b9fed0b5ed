"""Status colours for DataFrames: a pandas Styler painted from the shared palette, its text escaped."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from prorch_nb.notebook._records import STATUS
from prorch_nb.styles import STYLES, style_of

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

#: ``Styler.format``'s escaping, which every ``format`` call on a styled frame must repeat.
ESCAPE = "html"


def styled(frame: pd.DataFrame) -> Styler:
    """``frame.style`` with every status coloured from the shared palette (:mod:`prorch_nb.styles`).

    Cells of status columns (the ordered status dtype: ``status``, ``pipeline_status``)
    get the status's fill and font colour and its glyph before the text; headers of
    count columns named after a status (those of :func:`~prorch_nb.notebook.frames.summary`)
    get the same colours, other columns that happen to share a status's name do not.

    Every cell, column header and index label is HTML-escaped (stored strings are user
    data), values that are not strings (lists, dicts) as their ``str()``. A later
    ``.format()`` call replaces this for its columns: pass it ``escape="html"`` too.
    """
    status_columns = [column for column, dtype in frame.dtypes.items() if dtype == STATUS]
    counts = {column for column, dtype in frame.dtypes.items() if column in STYLES and dtype.kind in "iu"}
    styler = _escaped(frame.style, frame)
    styler = styler.map_index(lambda header: _status_css(header) if header in counts else "", axis="columns")
    if status_columns:
        styler = styler.map(_status_css, subset=status_columns)
        styler = styler.format(_with_glyph, subset=status_columns, na_rep="")
    return styler


def _as_text(value: Any) -> str:
    """Any value as escaped HTML text: its ``str()``, escaped."""
    return html.escape(str(value))


def _escaped(styler: Styler, frame: pd.DataFrame) -> Styler:
    """``styler`` with every cell and label escaped; columns and index levels of objects made text first.

    ``escape="html"`` only escapes values that are strings: any other object would be
    shown by its ``str()`` unescaped, so object columns and levels are formatted with
    :func:`_as_text` instead (numbers elsewhere keep pandas' own formatting).
    """
    objects = [column for column, dtype in frame.dtypes.items() if dtype.kind == "O"]
    styler = styler.format(escape=ESCAPE)
    if objects:
        styler = styler.format(_as_text, subset=objects)
    for axis, index in (("index", frame.index), ("columns", frame.columns)):
        styler = styler.format_index(escape=ESCAPE, axis=axis)
        levels = [level for level in range(index.nlevels) if index.get_level_values(level).dtype.kind == "O"]
        if levels:
            styler = styler.format_index(_as_text, axis=axis, level=levels)
    return styler


def _status_css(value: Any) -> str:
    if not isinstance(value, str) or value not in STYLES:
        return ""
    look = style_of(value)
    return f"background-color: {look.fill}; color: {look.font};"


def _with_glyph(status: str) -> str:
    return html.escape(f"{style_of(status).glyph} {status}")
