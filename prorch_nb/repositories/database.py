"""One TinyDB file as this process sees it: indexed tables, locks and atomic commits.

Every repository instance on the same path shares one :class:`Database`. Changes are
applied to the in-memory tables at once and written to the file when the outermost
unit of work ends (a change made outside one is its own unit). A unit of work holds a
thread lock and an exclusive lock on ``<file>.lock``, and first reloads the file if
another process has replaced it, so writers never lose each other's updates. Readers
take no file lock: the file is only ever replaced whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from typing import ClassVar

from prorch_nb.repositories.json_file import AtomicJSONStorage
from prorch_nb.repositories.table import IndexedTable

Signature = tuple[int, int, int]


class Database:
    """The tables of one file, cached and kept in step with the file."""

    _open: ClassVar[dict[str, Database]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.storage = AtomicJSONStorage(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._dirty = False
        self._lock_file: int | None = None
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

    # Reading and writing through the tables ------------------------------------------

    @contextlib.contextmanager
    def reading(self, name: str) -> Iterator[IndexedTable]:
        """The table ``name``, up to date with the file, for reading."""
        with self._lock:
            if self._depth == 0:
                self._refresh()
            yield self._table(name)

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[IndexedTable]:
        """The table ``name`` inside a unit of work, marked as changed."""
        with self.unit_of_work():
            self._dirty = True
            yield self._table(name)

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Group changes into one atomic write; nested units join the outermost one."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._acquire_file_lock()
            self._depth += 1
            try:
                if outermost:
                    self._refresh()
                yield
                if outermost and self._dirty:
                    self._commit()
            except BaseException:
                if outermost:
                    self._discard()
                raise
            finally:
                self._depth -= 1
                if outermost:
                    self._release_file_lock()

    # Internals --------------------------------------------------------------------

    def _table(self, name: str) -> IndexedTable:
        if name not in self._tables:
            self._tables[name] = IndexedTable()
        return self._tables[name]

    def _refresh(self) -> None:
        """Reload the file if it changed since this process last read or wrote it."""
        signature = _signature(self.path)
        if signature == self._signature:
            return
        data = self.storage.read() or {}
        self._tables = {name: IndexedTable(rows) for name, rows in data.items()}
        self._signature = signature

    def _commit(self) -> None:
        text = "{" + ",".join(f"{json.dumps(name)}:{table.json_text()}" for name, table in self._tables.items()) + "}"
        self.storage.write_text(text)
        self._signature = _signature(self.path)
        self._dirty = False

    def _discard(self) -> None:
        """Forget uncommitted changes: the next access reloads the committed file."""
        self._dirty = False
        self._signature = False

    def _acquire_file_lock(self) -> None:
        if self._lock_file is None:
            self._lock_file = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def _release_file_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)


def _signature(path: str) -> Signature | None:
    """Identity of the file's current version (a replaced file has a new inode)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
