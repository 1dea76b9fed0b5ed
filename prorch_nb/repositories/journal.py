"""The append-only journal beside a database file: the units of work committed since its last rewrite.

The journal belongs to one version of the file. Its first line says which, by the
*generation* the file's rewrite gave it::

    {"journal":"prorch_nb","format":2,"extends":"<generation>"}

Each committed unit of work then appends one line, a list of the records it changed::

    [["<table>","<uuid>","<base>",{record}], ...]

A record is named by its uuid, never by a TinyDB document id (another program writing
the file picks ids of its own). ``<base>`` is the digest of the record as it is in the
file the journal extends (``null``: not in it), so a record another program changed in
the file meanwhile is seen as a conflict instead of being overwritten.

A unit is one line written by one ``write`` under the database's file lock: a line cut
short (a crash, a full disk) has no newline, so the unit it held is never applied, and
the next writer trims it. Replaying a unit twice sets the same records: no harm done.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any, BinaryIO

from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.files import fsync_folder, open_beside, remove_quietly

#: One change of a unit: table, uuid, base digest, and the record (JSON text when written, a dict when read).
Entry = tuple[str, str, "str | None", Any]

FORMAT = 2
_HEADER_MAX = 256  #: more than a header line takes


class Journal:
    """The journal file of one database, read and written from a known position."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.path = database + ".journal"
        self.inode: int | None = None  #: the journal file these positions belong to
        self.position = 0  #: bytes read or written so far (always at a line's end)
        self.extends: str | None = None  #: the generation its header names, once read
        self._open: tuple[int, int] | None = None  #: (inode, descriptor) kept open for appending
        self._torn = False  #: whether a line cut short follows ``position``
        self._created = False  #: whether this process created the journal since its last sync

    def stat(self) -> os.stat_result | None:
        """The journal file's status now, ``None`` if there is none: pass it to the methods below."""
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None

    def untouched(self, found: os.stat_result | None) -> bool:
        """Whether the journal at the path is the file this process appends to, at the length it left.

        Then no one else has committed since (a commit appends to it) nor folded it (a fold
        removes it; a file kept open keeps its inode number, so no new journal can take it).
        """
        open_ = self._open
        return (
            found is not None
            and open_ is not None
            and found.st_ino == open_[0] == self.inode
            and found.st_size == self.position
        )

    def read_new(self, found: os.stat_result | None) -> list[list[Entry]]:
        """The complete units appended since the last call (all of them after :meth:`forget`)."""
        if found is None:
            self.forget()
            return []
        if found.st_ino == self.inode and found.st_size == self.position and self._holds(found):
            self._torn = False
            return []  # nothing new: the usual case for the process that wrote last
        try:
            with open(self.path, "rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                if inode != self.inode or not self._same_header(handle):
                    self.forget()  # another journal (a new file may reuse a removed one's inode number)
                    self.inode = inode
                handle.seek(self.position)
                data = handle.read()
        except FileNotFoundError:
            self.forget()
            return []
        except OSError as exc:
            raise StoreFileError(f"{self.path}: cannot be read: {exc.strerror or exc}") from exc
        units = []
        offset = 0
        while (end := data.find(b"\n", offset)) >= 0:
            line = self._parse(data[offset:end], self.position + offset)
            if line is not None:
                units.append(line)
            offset = end + 1
        self.position += offset
        self._torn = offset < len(data)
        return units

    def _holds(self, found: os.stat_result) -> bool:
        """Whether this process holds that journal open (its inode number cannot be reused then)."""
        return self._open is not None and self._open[0] == found.st_ino

    def _same_header(self, handle: BinaryIO) -> bool:
        """Whether the open journal begins with the header read before.

        A removed journal's inode number may be given to the next one: the generation each
        header names tells them apart (a new journal never extends the same one).
        """
        if not self.position:
            return True
        line = handle.readline(_HEADER_MAX)
        try:
            header = json.loads(line)
        except ValueError:
            return False
        return isinstance(header, dict) and header.get("extends") == self.extends

    def append(self, entries: list[Entry], generation: str) -> None:
        """Write one unit at the end (after the header when the journal is new).

        Call under the database's file lock, after :meth:`read_new`: the journal read then
        is the one at the path and its end is known. A failed write is undone (or left as
        a torn line, which no reader applies) and raised as :class:`StoreFileError`.
        """
        line = "[" + ",".join([f"[{_quote(t)},{_quote(u)},{_digest_json(b)},{r}]" for t, u, b, r in entries]) + "]\n"
        descriptor = self._descriptor()
        if self.position and self.extends != generation:
            raise StoreFileError(
                f"{self.path}: extends generation {self.extends}, not the file's {generation}; nothing was appended"
            )
        if self.position == 0:
            header = {"journal": "prorch_nb", "format": FORMAT, "extends": generation}
            line = json.dumps(header, separators=(",", ":")) + "\n" + line
            self.extends = generation
        data = line.encode()
        try:
            if self._torn:
                os.ftruncate(descriptor, self.position)
                self._torn = False
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
        except OSError as exc:
            self._undo_partial_write(descriptor)
            raise StoreFileError(f"{self.path}: cannot be written: {exc.strerror or exc}") from exc
        self.position += len(data)

    def sync(self, unit_from: int) -> None:
        """Make what was appended durable (power loss included).

        If it cannot be, the unit appended from byte ``unit_from`` is taken back (the journal
        cut there, or left for the next reader to read again) and :class:`StoreFileError` raised.
        """
        if self._open is None:
            return
        try:
            os.fdatasync(self._open[1])
            if self._created:
                fsync_folder(os.path.dirname(self.path))
                self._created = False
        except OSError as exc:
            try:
                os.ftruncate(self._open[1], unit_from)
                self.position = unit_from
            except OSError:
                self.forget()  # the unit stays: this process reads the journal again, as it is on disk
            raise StoreFileError(f"{self.path}: cannot be synced to disk: {exc.strerror or exc}") from exc

    def forget(self) -> None:
        """Forget what was read: the next :meth:`read_new` reads the whole journal."""
        self.inode, self.position, self.extends, self._torn = None, 0, None, False

    def remove(self) -> None:
        """Remove the journal (its units are in the file now); the next commit starts a new one."""
        remove_quietly(self.path)
        self._close()
        self.forget()

    def set_aside(self) -> str:
        """Rename the journal out of the way (it extends another file); returns its new path."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        aside = f"{self.path}.orphan-{stamp}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            pass  # someone else set it aside first
        except OSError as exc:
            raise StoreFileError(f"{self.path}: cannot be set aside: {exc.strerror or exc}") from exc
        self._close()
        self.forget()
        return aside

    def _close(self) -> None:
        """Let go of the journal this process appended to (a removed file's space is freed)."""
        if self._open is not None:
            os.close(self._open[1])
            self._open = None

    def _descriptor(self) -> int:
        """The journal open for appending: kept open while it is the same file."""
        if self._open is not None:
            inode, descriptor = self._open
            if inode == self.inode:
                return descriptor
            os.close(descriptor)
            self._open = None
        descriptor = open_beside(self.database, self.path, os.O_WRONLY | os.O_APPEND, what="journal")
        found = os.fstat(descriptor)
        if found.st_ino != self.inode:  # a new journal (read_new saw none): begin it with its header
            self.inode, self.position, self._torn, self._created = found.st_ino, 0, found.st_size > 0, True
        self._open = (found.st_ino, descriptor)
        return descriptor

    def _undo_partial_write(self, descriptor: int) -> None:
        try:
            os.ftruncate(descriptor, self.position)
        except OSError:
            self._torn = True  # the next writer trims it; readers never apply a line without its newline

    def _parse(self, line: bytes, offset: int) -> list[Entry] | None:
        """A unit, or ``None`` for the header (whose generation is kept in ``extends``)."""
        try:
            value = json.loads(line)
            if offset == 0:
                if not (isinstance(value, dict) and value.get("journal") == "prorch_nb"):
                    raise ValueError("the first line is not a prorch_nb journal header")
                if value.get("format") != FORMAT or not isinstance(value.get("extends"), str):
                    raise ValueError(f"format {value.get('format')!r} is not {FORMAT} (another prorch_nb version?)")
                self.extends = value["extends"]
                return None
            return [_entry(item) for item in value]
        except (ValueError, TypeError) as exc:
            raise StoreFileError(
                f"{self.path}: the journal line at byte {offset} is corrupt ({exc}); it was left untouched"
            ) from exc


def _entry(item: Any) -> Entry:
    table, uuid, base, row = item
    if not (isinstance(table, str) and isinstance(uuid, str) and isinstance(row, dict)):
        raise TypeError("an entry has fields of the wrong type")
    if base is not None and not isinstance(base, str):
        raise TypeError("an entry's base is neither a digest nor null")
    return table, uuid, base, row


def _quote(text: str) -> str:
    """A JSON string for a table name or a uuid (plain ones, the usual, without the encoder)."""
    return f'"{text}"' if _PLAIN(text) else json.dumps(text)


def _digest_json(digest: str | None) -> str:
    """A base digest (hexadecimal) or null, as JSON."""
    return "null" if digest is None else f'"{digest}"'


_PLAIN = re.compile(r"[A-Za-z0-9_-]+").fullmatch
