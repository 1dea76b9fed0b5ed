"""How each status looks, defined once for diagrams, frames, widgets and text.

Colours are chosen to read on light and dark backgrounds; the glyph and the border
style carry the status without colour (colour-blind readers, greyscale prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prorch_nb.schedule import waiting
from prorch_nb.utils.constants import Status

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData


@dataclass(frozen=True)
class StatusStyle:
    """The look of one status."""

    fill: str  #: background colour (hex)
    border: str  #: border / line colour (hex)
    font: str  #: text colour on ``fill`` (hex)
    glyph: str  #: one character naming the status without colour
    line: str  #: Graphviz border style: solid, dashed, dotted, bold
    shape: str  #: Graphviz node shape


STYLES: dict[str, StatusStyle] = {
    Status.CREATED: StatusStyle("#e5e7eb", "#6b7280", "#111827", "·", "dotted", "box"),
    Status.PENDING: StatusStyle("#bfdbfe", "#1d4ed8", "#0b1f4d", "▶", "bold", "box"),
    Status.FINISHED: StatusStyle("#bbf7d0", "#15803d", "#052e16", "✓", "solid", "box"),
    Status.FAILED: StatusStyle("#fecaca", "#b91c1c", "#450a0a", "✗", "dashed", "octagon"),
    Status.CANCELLED: StatusStyle("#fde68a", "#a16207", "#422006", "⊘", "dashed", "box"),
}

#: The look of a status this version does not know (a record from elsewhere).
UNKNOWN = StatusStyle("#ffffff", "#000000", "#000000", "?", "solid", "box")
#: The mark of a pending step that waits for a time (a timer, a retry's next attempt), in place of ``▶``.
WAITING_GLYPH = "⏳"


def style_of(status: str) -> StatusStyle:
    """The style of ``status`` (:data:`UNKNOWN` for a status that is not one of ours)."""
    return STYLES.get(status, UNKNOWN)


def badge_css(status: str, *, border: bool = True) -> str:
    """The inline CSS of a badge showing ``status``: its colours and, if ``border``, a border styled like the diagram's.

    >>> badge_css("pending")
    'background:#bfdbfe;color:#0b1f4d;border:2px solid #1d4ed8'
    >>> badge_css("failed", border=False)
    'background:#fecaca;color:#450a0a'
    """
    look = style_of(status)
    colours = f"background:{look.fill};color:{look.font}"
    if not border:
        return colours
    width, line = ("2px", "solid") if look.line == "bold" else ("1px", look.line)
    return f"{colours};border:{width} {line} {look.border}"


def glyph(status: str) -> str:
    """The one-character mark of ``status``."""
    return style_of(status).glyph


def step_glyph(run: PipelineData, step: StepData, now: datetime) -> str:
    """The mark of ``step`` of ``run``: :data:`WAITING_GLYPH` while it waits at ``now``, else its status's glyph."""
    if step.status == Status.PENDING and waiting(run, step, now):
        return WAITING_GLYPH
    return glyph(step.status)
