"""The HTML pieces every view shares: status badges and cells, plain tables, error boxes, notes.

Every argument that is text is escaped here (stored strings are user data); colours and
glyphs come from :mod:`prorch_nb.styles` only.

>>> badge("finished", "td").endswith(">✓ finished</td>")
True
>>> table("t", ["a<b"], [[cell("1 & 2")]])
"<table class='t'><thead><tr><th>a&lt;b</th></tr></thead><tbody><tr><td>1 &amp; 2</td></tr></tbody></table>"
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence

from prorch_nb.notebook.text import readable_traceback
from prorch_nb.record_checks import LISTED, MalformedRecord, skipped_lines
from prorch_nb.styles import badge_css, glyph, style_of
from prorch_nb.utils.constants import Status

#: Text cells do not wrap inside a word-long value (times, uuids, statuses).
NOWRAP = "white-space:nowrap"


def badge(status: str, tag: str = "span") -> str:
    """``status`` with its glyph, in its colours and border, as a ``tag`` element."""
    return (
        f"<{tag} class='prorch-badge' style='{badge_css(status)};padding:0 4px;{NOWRAP}'>"
        f"{html.escape(glyph(status))} {html.escape(status)}</{tag}>"
    )


def cell(text: str, *, nowrap: bool = False, lines: bool = False) -> str:
    """A table cell holding ``text``, escaped; on one line if ``nowrap``, its newlines kept if ``lines``."""
    style = f" style='{NOWRAP}'" if nowrap else " style='white-space:pre-line'" if lines else ""
    return f"<td{style}>{html.escape(text)}</td>"


def count_cell(status: str, count: int) -> str:
    """A count of records in ``status``, in its colours (an empty cell for none)."""
    if not count:
        return "<td></td>"
    return f"<td style='{badge_css(status, border=False)};text-align:right'>{count}</td>"


def count_table(css: str, counts: Mapping[str, Counter[str]], statuses: Sequence[str]) -> str:
    """Runs per pipeline name (rows) and status (a column each, headed by its badge), and a total per name."""
    head = "".join(badge(status, "th") for status in statuses)
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        + "".join(count_cell(status, by_status[status]) for status in statuses)
        + f"<td style='text-align:right'>{by_status.total()}</td></tr>"
        for name, by_status in counts.items()
    )
    return (
        f"<table class='{css}'><thead><tr><th>pipeline</th>{head}<th>total</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def glyph_strip(steps: Sequence[tuple[str, str]]) -> str:
    """One coloured glyph per ``(name, status)`` step, each naming its step on hover."""
    return "".join(
        f"<span title='{html.escape(f'{name}: {status}', quote=True)}' "
        f"style='{badge_css(status, border=False)};padding:0 3px'>{html.escape(glyph(status))}</span>"
        for name, status in steps
    )


def table(css: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of class ``css``: ``headers`` (text, escaped here) over ``rows`` of cells (``<td>`` HTML)."""
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def error_box(title: str, message: str, details: str | None = None) -> str:
    """A red box: ``title`` and ``message``, and ``details`` (a traceback) folded in ``<details>``."""
    look = style_of(Status.FAILED)
    folded = (
        "<details><summary>Traceback</summary><pre style='white-space:pre-wrap;margin:0'>"
        f"{html.escape(readable_traceback(details))}</pre></details>"
        if details
        else ""
    )
    return (
        f"<div class='prorch-error' style='background:{look.fill};color:{look.font};border:1px solid {look.border};"
        f"border-left:4px solid {look.border};padding:4px 8px;margin:4px 0'>"
        f"<b>{html.escape(title)}</b>: {html.escape(message)}{folded}</div>"
    )


def skipped_note(where: str, malformed: Sequence[MalformedRecord]) -> str:
    """The records a view left out in ``where``, as a note (``""`` when there are none)."""
    lines = skipped_lines(where, malformed, LISTED)
    if not lines:
        return ""
    look = style_of(Status.CANCELLED)
    box = f"background:{look.fill};color:{look.font};border-left:4px solid {look.border};padding:2px 6px;margin:4px 0"
    return f"<div class='prorch-nb-skipped' style='{box};white-space:pre-wrap'>{html.escape(chr(10).join(lines))}</div>"
