"""One TinyDB file as this process sees it: indexed tables, locks and atomic commits.

Every repository on the same path shares one :class:`Database`. Changes apply to the
in-memory tables at once (so the whole process sees them) and reach the file by an
atomic replace ("flush"):

* a *unit of work* is atomic: it holds a thread lock, and an exclusive lock on
  ``<file>.lock`` taken at its start (reloading the file if another process replaced
  it); if it raises, its changes are undone;
* outside a *batch*, each unit flushes when it ends and releases the file lock;
* inside a batch (an orchestrator pass), flushes are spaced ``flush_interval`` seconds
  apart: the file lock is kept, between units, while changes are unflushed, so no other
  process can write in between; the batch's end flushes.

Readers take no file lock (the file is only ever replaced whole) and never wait for a
hook: hooks run between units, when the thread lock is free.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

from prorch_nb.repositories.json_file import AtomicJSONStorage
from prorch_nb.repositories.table import IndexedTable

Signature = tuple[int, int, int]


class Database:
    """The tables of one file, cached and kept in step with the file."""

    _open: ClassVar[dict[str, Database]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()
    #: Seconds between flushes inside a batch.
    flush_interval: float = 1.0

    def __init__(self, path: str) -> None:
        self.path = path
        self.storage = AtomicJSONStorage(path)
        self._lock = threading.RLock()
        self._units = 0
        self._batches = 0
        self._journal: list[tuple[str, str, str | None]] = []
        self._dirty = False
        self._lock_file: int | None = None
        self._locked = False
        self._last_flush = time.monotonic()
        self._tables: dict[str, IndexedTable] = {}
        self._signature: Signature | bool | None = False  # False: never loaded

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Database:
        """The shared database object of this file."""
        key = os.path.abspath(os.fspath(path))
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(key)
            return cls._open[key]

    # Records ------------------------------------------------------------------------

    def get(self, table: str, uuid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._current(table).get(uuid)

    def search(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).search(field, value)

    def all(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).all()

    def insert(self, table: str, data: dict[str, Any]) -> str:
        """Insert a record; returns its document id."""
        with self._lock:
            if self._units:  # inside this thread's unit (holding the lock, no other is open)
                return self._insert(table, data)
            with self.unit_of_work():
                return self._insert(table, data)

    def update(self, table: str, uuid: str, data: dict[str, Any]) -> None:
        """Merge ``data`` into the record ``uuid`` (nothing if there is none)."""
        with self._lock:
            if self._units:
                self._update(table, uuid, data)
                return
            with self.unit_of_work():
                self._update(table, uuid, data)

    # Grouping -----------------------------------------------------------------------

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Make the changes inside atomic; nested units join the outermost one."""
        with self._lock:
            outermost = self._units == 0
            if outermost:
                self._lock_file_and_refresh()
                self._journal = []
            self._units += 1
            try:
                yield
            except BaseException:
                if outermost:
                    self._undo()
                raise
            finally:
                self._units -= 1
                if outermost:
                    self._journal = []
                    self._settle()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Space the flushes of the units inside ``flush_interval`` apart; flush at the end."""
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                if self._units == 0:
                    self._settle(force=True)

    # Internals ----------------------------------------------------------------------

    def _current(self, table: str) -> IndexedTable:
        """The table, reloaded first if another process replaced the file. Hold the lock."""
        if not self._locked:
            self._refresh()
        return self._table(table)

    def _insert(self, table: str, data: dict[str, Any]) -> str:
        doc_id = self._table(table).insert(data)
        self._journal.append((table, doc_id, None))
        self._dirty = True
        return doc_id

    def _update(self, table: str, uuid: str, data: dict[str, Any]) -> None:
        rows = self._table(table)
        doc_id = rows.doc_id_of(uuid)
        if doc_id is None:
            return
        self._journal.append((table, doc_id, rows.text_of(doc_id)))
        rows.update(uuid, data)
        self._dirty = True

    def _table(self, name: str) -> IndexedTable:
        if name not in self._tables:
            self._tables[name] = IndexedTable()
        return self._tables[name]

    def _settle(self, force: bool = False) -> None:
        """After a unit: flush and let other processes in, unless a batch defers it."""
        due = force or self._batches == 0 or time.monotonic() - self._last_flush >= self.flush_interval
        if not due and self._dirty:
            return
        try:
            if self._dirty:
                self._flush()
        finally:
            self._unlock_file()

    def _flush(self) -> None:
        try:
            self.storage.write_chunks(self._json_chunks())
        except BaseException:
            self._dirty = False
            self._signature = False  # unflushed changes are dropped: reload what is committed
            raise
        self._signature = _signature(self.path)
        self._dirty = False
        self._last_flush = time.monotonic()

    def _json_chunks(self) -> Iterator[str]:
        """The file's JSON text in pieces: ``{"<table>": {"<doc_id>": record, ...}, ...}``."""
        yield "{"
        for number, (name, table) in enumerate(self._tables.items()):
            yield f"{',' if number else ''}{json.dumps(name)}:"
            yield from table.json_chunks()
        yield "}"

    def _undo(self) -> None:
        for table, doc_id, text in reversed(self._journal):
            self._tables[table].restore(doc_id, text)

    def _refresh(self) -> None:
        """Reload the file if it changed since this process last read or wrote it."""
        signature = _signature(self.path)
        if signature == self._signature:
            return
        data = self.storage.read() or {}
        self._tables = {name: IndexedTable(rows) for name, rows in data.items()}
        self._signature = signature

    def _lock_file_and_refresh(self) -> None:
        if self._locked:
            return
        if self._lock_file is None:
            self._lock_file = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        self._locked = True
        try:
            self._refresh()
        except BaseException:
            self._unlock_file()
            raise

    def _unlock_file(self) -> None:
        if self._locked and self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._locked = False


def _signature(path: str) -> Signature | None:
    """Identity of the file's current version (a replaced file has a new inode)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
