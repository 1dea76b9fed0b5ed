"""The append-only journal beside a database file: committed changes since the last rewrite.

Each committed unit of work appends one line per record it changed, ``{"t": table,
"d": doc_id, "r": record}``, with a single ``write`` under the database's file lock. The
JSON file plus its journal is the committed state; replaying a line is idempotent (it
sets the whole record), so a journal whose lines are already in the file does no harm.
A line cut short by a crash has no newline: readers ignore it, the next writer trims it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterable
from typing import Any

from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.table import quoted

#: One journal entry: table name, document id, and the record (text when written, a dict when read).
Entry = tuple[str, str, Any]


class Journal:
    """The journal file of one database, read and written from a known position."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.inode: int | None = None  #: the journal file these positions belong to
        self.position = 0  #: bytes read or written so far (always at a line's end)
        self._open: tuple[int, int] | None = None  #: (inode, descriptor) kept open for appending
        self._torn = False  #: whether a line cut short by a crash follows ``position``

    def size(self) -> int:
        """Bytes in the journal now (0 if there is none)."""
        found = self.stat()
        return found.st_size if found else 0

    def stat(self) -> os.stat_result | None:
        """The journal file's status now, ``None`` if there is none: pass it to the two below."""
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None

    def untouched(self, found: os.stat_result | None) -> bool:
        """Whether the journal at the path is the file this process appends to, at the length it left.

        Then no one else has committed since (a commit appends to it) nor folded the journal
        (a fold removes it; a file kept open keeps its inode number, so no new journal can
        take it).
        """
        return (
            found is not None
            and self._open is not None
            and found.st_ino == self._open[0] == self.inode
            and found.st_size == self.position
        )

    def replaced(self, found: os.stat_result | None) -> bool:
        """Whether the journal is not the one read so far (rewritten, or gone back in size)."""
        if found is None:
            return self.inode is not None
        return found.st_ino != self.inode or found.st_size < self.position

    def read_new(self, found: os.stat_result | None) -> list[Entry]:
        """The complete lines appended since the last call, as entries."""
        if found is None:
            self.read_from_start()
            return []
        if found.st_ino == self.inode and found.st_size == self.position:
            self._torn = False
            return []  # nothing new: the usual case for the process that wrote last
        try:
            with open(self.path, "rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                if inode != self.inode:
                    self.inode, self.position = inode, 0
                handle.seek(self.position)
                data = handle.read()
        except FileNotFoundError:
            self.read_from_start()
            return []
        entries = []
        offset = 0
        while (end := data.find(b"\n", offset)) >= 0:
            entries.append(self._parse(data[offset:end], self.position + offset))
            offset = end + 1
        self.position += offset
        self._torn = offset < len(data)
        return entries

    def append(self, entries: Iterable[Entry]) -> None:
        """Write entries at the end, trimming a line a crashed writer left unfinished.

        Call under the database's file lock, after :meth:`read_new`: the journal read
        then is the one at the path (a file kept open keeps its inode number, so a new
        journal never shows the old one's), and its end is known.
        """
        text = "".join([f'{_line_start(table)}{quoted(doc_id)},"r":{row}}}\n' for table, doc_id, row in entries])
        if not text:
            return
        data = text.encode()
        try:
            descriptor = self._descriptor()
            if self._torn:
                os.ftruncate(descriptor, self.position)
                self._torn = False
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
        except OSError as exc:
            raise StoreFileError(f"{self.path}: cannot be written: {exc.strerror or exc}") from exc
        self.position += len(data)

    def read_from_start(self) -> None:
        """Forget the position: the next :meth:`read_new` reads the whole journal."""
        self.inode, self.position, self._torn = None, 0, False

    def _descriptor(self) -> int:
        """The journal open for appending: kept open while it is the same file."""
        if self._open is not None:
            inode, descriptor = self._open
            if inode == self.inode:
                return descriptor
            os.close(descriptor)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        self.inode = os.fstat(descriptor).st_ino
        self._open = (self.inode, descriptor)
        return descriptor

    def start_afresh(self) -> None:
        """Remove the journal (after its lines went into the file); the next commit makes a new one."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.read_from_start()

    def _parse(self, line: bytes, offset: int) -> Entry:
        try:
            entry = json.loads(line)
            table, doc_id, row = entry["t"], entry["d"], entry["r"]
            if not (isinstance(table, str) and isinstance(doc_id, str) and isinstance(row, dict)):
                raise TypeError("fields of the wrong type")
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreFileError(
                f"{self.path}: the journal line at byte {offset} is corrupt ({exc}); it was left untouched"
            ) from exc
        return table, doc_id, row


@functools.cache
def _line_start(table: str) -> str:
    return f'{{"t":{json.dumps(table)},"d":'
