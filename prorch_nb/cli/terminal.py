"""Text for a terminal: status marks, aligned tables, times and durations.

Stored strings are user data: control characters in them are shown escaped, so that a
name cannot move the cursor, clear the screen or break a table's alignment, and a
character the output's encoding lacks is written as ``?`` instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from prorch_nb.styles import STYLES, style_of
from prorch_nb.utils.clock import parse_time

#: A table cell: its text and the ANSI SGR parameters to show it with ("" for plain).
Cell = tuple[str, str]

BOLD = "1"
#: Control characters (C0, DEL, C1): shown as escapes such as ``\x1b``.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Stand-ins for the status glyphs where the output cannot encode them.
ASCII_GLYPHS = {"·": ".", "▶": ">", "✓": "+", "✗": "x", "⊘": "-", "?": "?"}


@dataclass(frozen=True)
class Terminal:
    """How to write to one stream: in colour or not, with Unicode glyphs or not."""

    colour: bool = False
    unicode: bool = True

    @classmethod
    def of(cls, stream: TextIO) -> Terminal:
        """Colour only on a tty and when ``NO_COLOR`` is unset; glyphs if the encoding has them."""
        colour = stream.isatty() and not os.environ.get("NO_COLOR")
        glyphs = "".join(style.glyph for style in STYLES.values())
        try:
            glyphs.encode(getattr(stream, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            return cls(colour, unicode=False)
        return cls(colour)

    def paint(self, text: str, sgr: str) -> str:
        """``text`` wrapped in the escape codes of ``sgr`` when colour is on."""
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.colour and sgr and text else text

    def mark(self, status: str) -> Cell:
        """The cell of a status: its glyph and name, in the status's colour."""
        style = style_of(status)
        glyph = style.glyph if self.unicode else ASCII_GLYPHS.get(style.glyph, "?")
        return f"{glyph} {status}", _xterm_colour(style.border)

    def table(self, rows: Sequence[Sequence[Cell]], indent: str = "") -> list[str]:
        """One line per row, columns left-aligned two spaces apart (every row has the same columns)."""
        rows = [[(printable(text), sgr) for text, sgr in row] for row in rows]
        widths = [max(len(text) for text, _ in column) for column in zip(*rows, strict=True)]
        lines = []
        for row in rows:
            padded = zip(row, widths, strict=True)
            cells = [self.paint(text, sgr) + " " * (width - len(text)) for (text, sgr), width in padded]
            lines.append((indent + "  ".join(cells)).rstrip())
        return lines


def header(*titles: str) -> list[Cell]:
    """A header row of bold titles."""
    return [(title, BOLD) for title in titles]


def plain(*texts: str) -> list[Cell]:
    """Cells without colour."""
    return [(text, "") for text in texts]


def local_time(iso: str | None, *, precise: bool = False) -> str:
    """A stored time in this machine's zone, ISO-8601 with its offset: ``2026-11-27T10:35:55+01:00``.

    ``precise``: the time of day to the millisecond, ``10:35:55.123+01:00``. ``-`` for no time.
    """
    moment = parse_time(iso)
    if moment is None:
        return "-"
    if precise:
        return moment.astimezone().timetz().isoformat(timespec="milliseconds")
    return moment.astimezone().isoformat(timespec="seconds")


def _xterm_colour(hex_colour: str) -> str:
    """The SGR parameters of the xterm-256 colour nearest ``#rrggbb``."""
    red, green, blue = (round(int(hex_colour[i : i + 2], 16) / 255 * 5) for i in (1, 3, 5))
    return f"38;5;{16 + 36 * red + 6 * green + blue}"


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, newlines included, made one space; other controls escaped."""
    return printable(" ".join(text.split()))


def printable(text: str) -> str:
    r"""``text`` with its control characters escaped.

    >>> print(printable("red \x1b[31m, tab \t, line\nbreak"))
    red \x1b[31m, tab \t, line\nbreak
    """
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


@contextlib.contextmanager
def replacing_unencodable(*streams: TextIO) -> Iterator[None]:
    """While active, the ``streams`` that would raise on a character their encoding lacks write ``?``.

    Streams with an error handler of their own (``surrogateescape`` under the C locale,
    ``backslashreplace`` on stderr) keep it.
    """
    changed = []
    for stream in streams:
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
            changed.append(stream)
    try:
        yield
    finally:
        for stream in changed:
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stream stays as it is
                stream.reconfigure(errors="strict")
