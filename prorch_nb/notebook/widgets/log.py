"""What the widgets tell: hook output captured per thread, a log, and the errors they caught.

Output is captured by replacing ``sys.stdout`` with a router while a capture is active:
writes from a capturing thread go to its sink, writes from every other thread pass
through, so a run in a background thread never swallows what a notebook cell prints.
(Output widgets capture in the browser, for whatever cell runs at the moment, which is
wrong for threads; the ipywidgets docs advise appending to a widget instead.)
:class:`HookOutput` keeps, with each piece of text, the run and step whose hook printed
it, so a log can say which run printed a line when one pass ticks many.
"""

from __future__ import annotations

import html
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import ipywidgets as widgets

from prorch_nb.notebook.html_parts import error_box
from prorch_nb.step.step import Step

#: Lines a log keeps (older ones are dropped).
MAX_LINES = 500
#: Caught errors a widget keeps showing.
MAX_ERRORS = 10

_sinks: dict[int, Callable[[str], Any]] = {}
_sinks_lock = threading.Lock()


class _Router:
    """``sys.stdout`` while captures are active: each capturing thread writes to its own sink."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        sink = _sinks.get(threading.get_ident())
        if sink is None:
            return self.original.write(text)
        sink(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


@contextmanager
def capture_stdout(sink: Callable[[str], Any]) -> Iterator[None]:
    """Send what this thread prints to ``sink`` (other threads print as before)."""
    ident = threading.get_ident()
    with _sinks_lock:
        previous = _sinks.get(ident)
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)
        _sinks[ident] = sink
    try:
        yield
    finally:
        with _sinks_lock:
            if previous is None:
                _sinks.pop(ident, None)
            else:
                _sinks[ident] = previous
            if not _sinks and isinstance(sys.stdout, _Router):
                sys.stdout = sys.stdout.original


#: Which hook printed: ``(pipeline uuid, step name)``, or ``None`` for text printed outside a hook.
Printer = tuple[str, str] | None


class HookOutput:
    """A sink for :func:`capture_stdout` that keeps who printed each piece: the step whose hook ran.

    The step is found on the printing thread's stack: the innermost frame whose ``self``
    is a :class:`~prorch_nb.step.step.Step` (a hook, or a helper it calls as a method).
    """

    def __init__(self) -> None:
        self._pieces: list[tuple[Printer, str]] = []
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        step = _printing_step()
        with self._lock:
            self._pieces.append(((step.pipeline_uuid, str(step.name)) if step is not None else None, text))

    def take(self) -> list[tuple[Printer, str]]:
        """What was printed since the last ``take``, one ``(printer, text)`` per run of pieces by one printer."""
        with self._lock:
            pieces, self._pieces = self._pieces, []
        grouped: list[tuple[Printer, str]] = []
        for printer, text in pieces:
            if grouped and grouped[-1][0] == printer:
                grouped[-1] = (printer, grouped[-1][1] + text)
            else:
                grouped.append((printer, text))
        return grouped


def _printing_step() -> Step | None:
    frame = sys._getframe(2)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Step):
            return candidate
        frame = frame.f_back
    return None


class LogView:
    """The last :data:`MAX_LINES` lines of a log in an HTML widget; safe to add to from any thread."""

    def __init__(self, css: str) -> None:
        # column-reverse anchors the scroll at the bottom: the newest line stays in sight as lines come
        layout = widgets.Layout(max_height="14em", overflow="auto", flex_flow="column-reverse")
        self.widget = widgets.HTML(layout=layout).add_class(css)
        self._lines: deque[str] = deque(maxlen=MAX_LINES)
        self._lock = threading.Lock()

    @property
    def text(self) -> str:
        """The log as plain text."""
        with self._lock:
            return "\n".join(self._lines)

    def action(self, message: str) -> None:
        """Log what an action did, with the time."""
        self._add([f"{time.strftime('%H:%M:%S')} {message}"])

    def output(self, tag: str, text: str) -> None:
        """Log printed ``text``, each line as ``[tag] line``."""
        self._add(f"[{tag}] {line}" for line in text.splitlines() if line.strip())

    def _add(self, lines: Iterable[str]) -> None:
        with self._lock:  # threads add in turn, so the widget never goes back to an older log
            self._lines.extend(lines)
            shown = html.escape("\n".join(self._lines))
            self.widget.value = f"<pre class='prorch-log-lines' style='margin:0;white-space:pre-wrap'>{shown}</pre>"


class ErrorList:
    """Exceptions caught by a widget's callbacks, kept (the last :data:`MAX_ERRORS`) as error boxes."""

    def __init__(self) -> None:
        self._boxes: deque[str] = deque(maxlen=MAX_ERRORS)

    def add(self, action: str, error: BaseException) -> None:
        """Keep ``error``, raised while doing ``action``, with its traceback."""
        details = "".join(traceback.format_exception(error))
        self._boxes.append(error_box(f"{action} failed", f"{type(error).__name__}: {error}", details))

    def html(self) -> str:
        """Every kept error, oldest first."""
        return "".join(self._boxes)

    def __len__(self) -> int:
        return len(self._boxes)
