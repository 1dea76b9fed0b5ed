"""Status colours for DataFrames: a pandas Styler painted from the shared palette."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prorch_nb.notebook._records import STATUS
from prorch_nb.styles import STYLES, style_of

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler


def styled(frame: pd.DataFrame) -> Styler:
    """``frame.style`` with every status coloured from the shared palette (:mod:`prorch_nb.styles`).

    Cells of status columns (the ordered status dtype: ``status``, ``pipeline_status``)
    get the status's fill and font colour and its glyph before the text; headers of
    count columns named after a status (those of :func:`~prorch_nb.notebook.frames.summary`)
    get the same colours, other columns that happen to share a status's name do not.
    """
    status_columns = [column for column, dtype in frame.dtypes.items() if dtype == STATUS]
    counts = {column for column, dtype in frame.dtypes.items() if column in STYLES and dtype.kind in "iu"}
    styler = frame.style.map_index(lambda header: _status_css(header) if header in counts else "", axis="columns")
    if status_columns:
        styler = styler.map(_status_css, subset=status_columns)
        styler = styler.format(_with_glyph, subset=status_columns, na_rep="")
    return styler


def _status_css(value: Any) -> str:
    if not isinstance(value, str) or value not in STYLES:
        return ""
    look = style_of(value)
    return f"background-color: {look.fill}; color: {look.font};"


def _with_glyph(status: str) -> str:
    return f"{style_of(status).glyph} {status}"
