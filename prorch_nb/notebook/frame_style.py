"""Frames for people: a pandas Styler painted from the shared palette, its text escaped and shortened."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from prorch_nb.notebook.columns import STATUS
from prorch_nb.notebook.text import TIME_FORMAT
from prorch_nb.styles import STYLES, glyph, style_of
from prorch_nb.utils.durations import format_duration
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

#: ``Styler.format``'s escaping, which every ``format`` call on a styled frame must repeat.
ESCAPE = "html"
#: Columns holding a record's uuid besides those named ``uuid`` or ``..._uuid``.
UUID_COLUMNS = frozenset({"current_step"})


def styled(frame: pd.DataFrame) -> Styler:
    """``frame.style`` for reading: statuses coloured from the shared palette, values made short.

    Cells of status columns (the ordered status dtype: ``status``, ``pipeline_status``)
    get the status's fill and font colour and its glyph before the text; headers of
    count columns named after a status (those of :func:`~prorch_nb.notebook.frames.summary`)
    get the same colours. Uuids show their first 8 characters, times are to the second
    (UTC) and durations are written for people (``1 min 15 s``); the frame keeps the full
    values. A named index (the pipeline names of ``summary``) becomes the first column, and
    the row numbers are not shown.

    Every cell and header is HTML-escaped (stored strings are user data), values that
    are not strings (lists, dicts) as their ``str()``. A later ``.format()`` call replaces
    this for its columns: pass it ``escape="html"`` too.
    """
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    kinds = {column: dtype.kind for column, dtype in frame.dtypes.items()}
    status_columns = [column for column, dtype in frame.dtypes.items() if dtype == STATUS]
    counts = {column for column, kind in kinds.items() if column in STYLES and kind in "iu"}
    uuids = [column for column in frame if column == "uuid" or str(column).endswith("_uuid") or column in UUID_COLUMNS]
    styler = _escaped(frame.style, frame).hide(axis="index")
    styler = styler.map_index(lambda header: _status_css(header) if header in counts else "", axis="columns")
    styler = styler.format(_short_uuid, subset=uuids, na_rep="")
    styler = styler.format(_time, subset=[column for column, kind in kinds.items() if kind == "M"], na_rep="")
    styler = styler.format(_duration, subset=[column for column, kind in kinds.items() if kind == "m"], na_rep="")
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
    return html.escape(f"{glyph(status)} {status}")


def _short_uuid(uuid: Any) -> str:
    return html.escape(short_uuid(str(uuid)))


def _time(moment: pd.Timestamp) -> str:
    return moment.tz_convert("UTC").strftime(TIME_FORMAT)


def _duration(span: pd.Timedelta) -> str:
    return format_duration(span.total_seconds())
