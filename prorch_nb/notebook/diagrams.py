"""Graphviz diagrams of pipelines: a class's definition and a run's state.

Both are pure functions of what they draw: :func:`run_graph` takes a run's record and its
steps as read (``Pipeline.graph()`` and the panel do the reading). Steps are drawn in
order, numbered from 1; more than :data:`ROW_LENGTH` steps wrap into rows that each read
left to right, like lines of text (top to bottom, column after column, with ``"TB"``),
so a 50-step run is a block, not one long line. Colours come from
:mod:`prorch_nb.styles`; border style, shape and glyph say the same without colour. The
background is transparent and every filled node has dark text, so the diagrams read on
light and dark notebook themes.

>>> from prorch_nb.examples.backup import BackupAutomationPipeline
>>> graph = definition_graph(BackupAutomationPipeline, direction="TB")
>>> graph.graph_attr["rankdir"], graph.name
('TB', 'BackupAutomationPipeline')
>>> definition_graph(BackupAutomationPipeline, direction="up")
Traceback (most recent call last):
ValueError: direction must be one of 'LR', 'TB', 'RL', 'BT', not 'up'
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

import graphviz

from prorch_nb.mixins.on_continue import OnContinueMixin
from prorch_nb.mixins.on_start import OnStartMixin
from prorch_nb.notebook.tooltips import step_tooltip
from prorch_nb.notebook.waits import schedule_lines
from prorch_nb.styles import StatusStyle, step_glyph, style_of
from prorch_nb.utils.clock import now_datetime
from prorch_nb.utils.constants import Status
from prorch_nb.utils.plurals import plural
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.pipeline.pipeline import Pipeline

#: Valid values of ``direction`` (Graphviz ``rankdir``).
DIRECTIONS = ("LR", "TB", "RL", "BT")
#: Steps per row before a diagram wraps.
ROW_LENGTH = 8

_CREATED = style_of(Status.CREATED)
#: Title, untraversed edges and inactive steps: the palette's mid grey, legible on light and dark.
MUTED = _CREATED.border
#: Edges a run has traversed.
TRAVERSED = style_of(Status.FINISHED).border
#: How a step an ended run never reached (still ``created``) looks: hollow, dotted, grey text.
INACTIVE = StatusStyle("transparent", MUTED, MUTED, _CREATED.glyph, "dotted", _CREATED.shape)
FONT = "Helvetica,Arial,sans-serif"
#: What dot cannot take in a string: lone surrogates, control characters but newline and tab.
_UNDRAWABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f]")


def definition_graph(pipeline_class: type[Pipeline], direction: str = "LR") -> graphviz.Digraph:
    """The steps of a pipeline class in order, with each step's position and hooks."""
    step_classes = pipeline_class.step_classes()  # raises if the class has no name or steps
    name, count = str(pipeline_class.name), len(step_classes)
    graph = _new_graph(name, direction, _title(name, plural(count, "step"), legend=[]))
    for index, step_class in enumerate(step_classes):
        summary = (step_class.__doc__ or "").strip().splitlines()[:1]
        tooltip = "\n".join([f"{step_class.__qualname__} (step {index + 1} of {count})", *summary])
        graph.node(
            _node_id(index),
            _label(f"{index + 1}. {step_class.name}", _hooks(step_class), bold=False),
            tooltip=_tooltip(tooltip),
            fillcolor=_CREATED.fill,
            color=MUTED,
            fontcolor=_CREATED.font,
            style="filled",
        )
    _chain(graph, [{"color": MUTED}] * (count - 1))
    return graph


def run_graph(
    record: PipelineData, steps: list[StepData], direction: str = "LR", *, now: datetime | None = None
) -> graphviz.Digraph:
    """The steps of a run with their statuses at ``now`` (default: the engine's clock), drawn from its record and steps.

    The current step has a thick border and a bold name; steps an ended run never
    reached (still ``created``) are hollow and dotted; traversed edges are coloured. A
    step that waits for a time shows ``⏳`` for its status's glyph. Under its status a node
    says what a step's schedule holds: its attempts (``attempt 2/3``), the time it waits
    for (``retry at ...``, ``waits until ...``) and its deadline (``timeout ...``). A
    legend counts the statuses shown, and each node's tooltip has its start, end,
    duration, schedule, note and errors.
    """
    now = now or now_datetime()
    ended = record.status in Status.ENDED
    current = record.metadata.get("current_step")
    looks = [INACTIVE if ended and step.status == Status.CREATED else style_of(step.status) for step in steps]
    detail = f"{short_uuid(record.uuid)} {style_of(record.status).glyph} {record.status}"
    graph = _new_graph(record.name, direction, _title(record.name, detail, legend=_legend(steps, looks)))
    for index, (step, look) in enumerate(zip(steps, looks, strict=True)):
        is_current = step.uuid == current
        status = f"{step_glyph(record, step, now)} {step.status}"
        graph.node(
            _node_id(index),
            _label(f"{index + 1}. {step.name}", status, *schedule_lines(record, step, now), bold=is_current),
            tooltip=_tooltip(step_tooltip(record, step, index, len(steps), now=now)),
            fillcolor=look.fill,
            color=look.border,
            fontcolor=look.font,
            style=f"filled,{look.line}",
            shape=look.shape,
            penwidth="3" if is_current else None,
        )
    _chain(graph, [_edge_look(step.status != Status.CREATED) for step in steps[1:]])
    return graph


def check_direction(direction: str) -> str:
    """``direction`` if it is one of :data:`DIRECTIONS`; otherwise ``ValueError`` listing them."""
    if direction not in DIRECTIONS:
        choices = ", ".join(repr(choice) for choice in DIRECTIONS)
        raise ValueError(f"direction must be one of {choices}, not {direction!r}")
    return direction


def _new_graph(name: str, direction: str, label: str) -> graphviz.Digraph:
    return graphviz.Digraph(
        name=graphviz.escape(_drawable(name)),
        graph_attr={
            "rankdir": check_direction(direction),
            "label": label,
            "newrank": "true",
            "bgcolor": "transparent",
            "labelloc": "t",
            "labeljust": "l",
            "fontname": FONT,
            "fontcolor": MUTED,
            "nodesep": "0.35",
            "ranksep": "0.4",
            "pad": "0.15",
        },
        node_attr={"shape": "box", "fontname": FONT, "fontsize": "11", "margin": "0.15,0.07"},
        edge_attr={"arrowsize": "0.7"},
    )


def _node_id(index: int) -> str:
    return f"step{index}"


def _hooks(step_class: type) -> str:
    """The hooks a step class has, in the order they run."""
    mixins = ((OnStartMixin, "on_start"), (OnContinueMixin, "on_continue"))
    return " · ".join(hook for mixin, hook in mixins if issubclass(step_class, mixin)) or "no hooks"


def _label(first: str, second: str, *details: str, bold: bool) -> str:
    """A node's HTML-like label: ``first`` (bold if ``bold``), ``second`` smaller, each of ``details`` smaller still."""
    name = f"<b>{_html(first)}</b>" if bold else _html(first)
    rest = "".join(f'<br/><font point-size="9">{_html(detail)}</font>' for detail in details)
    return f'<{name}<br/><font point-size="10">{_html(second)}</font>{rest}>'


def _html(text: str) -> str:
    """Text for an HTML-like label: drawable, then escaped."""
    return html.escape(_drawable(text))


def _tooltip(text: str) -> str:
    """Text for a tooltip (an escString): drawable, backslashes kept as they are."""
    return graphviz.escape(_drawable(text))


def _drawable(text: str) -> str:
    r"""``text`` as dot can read it: lone surrogates and control characters but newline and tab as U+FFFD.

    A name read from a JSON file may hold any of them (``"\udcff"``); dot would refuse
    the whole diagram, or the text could not be encoded for it at all.
    """
    return _UNDRAWABLE.sub("\ufffd", text)


def _edge_look(traversed: bool) -> dict[str, str]:
    if traversed:
        return {"color": TRAVERSED, "penwidth": "2", "style": "solid"}
    return {"color": MUTED, "penwidth": "1", "style": "dashed"}


def _chain(graph: graphviz.Digraph, edge_looks: list[dict[str, str]]) -> None:
    """Edges ``step0 -> step1 -> ...``, wrapped into rows of :data:`ROW_LENGTH` that all run forwards.

    Steps at the same place in their rows share a rank (a column, with ``LR``); invisible
    edges stack the rows in order. The edge from a row's last step to the next row's
    first does not constrain the ranks, so every row starts again at the left.
    """
    count = len(edge_looks) + 1
    wrap = {"constraint": "false"}
    for index, look in enumerate(edge_looks):
        wraps = (index + 1) % ROW_LENGTH == 0
        graph.edge(_node_id(index), _node_id(index + 1), **look, **(wrap if wraps else {}))
    if count <= ROW_LENGTH:
        return
    for offset in range(ROW_LENGTH):
        with graph.subgraph() as column:
            column.attr(rank="same")
            for upper, lower in itertools.pairwise(range(offset, count, ROW_LENGTH)):
                column.edge(_node_id(upper), _node_id(lower), style="invis")


def _legend(steps: list[StepData], looks: list[StatusStyle]) -> list[tuple[StatusStyle, str, int]]:
    """``(look, status, count)`` of each status shown, in lifecycle order (unknown statuses last)."""
    counts = Counter(step.status for step in steps)
    look_of = {step.status: look for step, look in zip(steps, looks, strict=True)}
    order = [*Status.ALL, *sorted(counts.keys() - set(Status.ALL))]
    return [(look_of[status], status, counts[status]) for status in order if counts[status]]


def _title(name: str, detail: str, legend: list[tuple[StatusStyle, str, int]]) -> str:
    """An HTML-like graph label: the name and ``detail`` on a line, the legend under it."""
    heading = f'<b>{_html(name)}</b>  <font point-size="11">{_html(detail)}</font>'
    rows = f'<tr><td align="left">{heading}</td></tr>'
    cells = "".join(
        f'<td bgcolor="{look.fill}" color="{look.border}" border="1"><font color="{look.font}" point-size="10">'
        f"{_html(look.glyph)} {_html(word)} {count}</font></td>"
        for look, word, count in legend
    )
    if cells:
        legend_table = f'<table border="0" cellspacing="3" cellpadding="2"><tr>{cells}</tr></table>'
        rows += f'<tr><td align="left">{legend_table}</td></tr>'
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{rows}</table>>'
