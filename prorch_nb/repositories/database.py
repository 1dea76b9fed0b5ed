"""One TinyDB file as this process sees it: indexed tables, a journal, locks.

Every repository on the same path shares one :class:`Database`. The committed state is
the JSON file (TinyDB's layout) plus its journal ``<file>.journal``
(:mod:`~prorch_nb.repositories.journal`):

* a *unit of work* is atomic: it holds a thread lock and an exclusive lock on
  ``<file>.lock``, catches up with what other processes committed, applies its changes
  to the in-memory tables (undone if it raises) and commits them by appending the
  changed records to the journal: a cost that does not grow with the database;
* once the journal is larger than the file (and than :data:`MIN_JOURNAL_TO_FOLD`), and
  when the process ends, it is folded in: the file is rewritten whole (temporary file,
  fsync, rename) and the journal starts afresh, so the file alone is up to date for
  TinyDB and other readers. Inside a batch (an orchestrator pass) the fold waits for
  the batch's end. Like a write-ahead log's checkpoint, folding is compaction: the
  commits are already in the journal.

Readers take no file lock and never wait for a hook: hooks run between units.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from prorch_nb.exceptions.exceptions import StoreFileError
from prorch_nb.repositories.journal import Journal
from prorch_nb.repositories.json_file import AtomicJSONStorage
from prorch_nb.repositories.table import IndexedTable

Signature = tuple[int, int, int]

#: The journal is folded into the file once it is larger than the file and than this
#: (a fresh process replays a journal this size in a few tens of milliseconds).
MIN_JOURNAL_TO_FOLD = 1024 * 1024


class Database:
    """The tables of one file, cached and kept in step with the file and its journal."""

    _open: ClassVar[dict[str, Database]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.storage = AtomicJSONStorage(path)
        self.journal = Journal(path + ".journal")
        self._lock = threading.RLock()
        self._units = 0
        self._batches = 0
        #: (table, doc id) -> its text before this unit (``None``: inserted), in order of change
        self._undo: dict[tuple[str, str], str | None] = {}
        self._lock_fd: int | None = None
        self._locked = False
        self._tables: dict[str, IndexedTable] = {}
        self._signature: Signature | bool | None = False  # False: never loaded
        self._unit = UnitOfWork(self)

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Database:
        """The shared database object of this file."""
        key = os.path.abspath(os.fspath(path))
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(key)
                atexit.register(cls._open[key]._fold_at_exit)
            return cls._open[key]

    # Records ------------------------------------------------------------------------

    def get(self, table: str, uuid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._current(table).get(uuid)

    def status_of(self, table: str, uuid: str) -> Any:
        with self._lock:
            return self._current(table).status_of(uuid)

    def search(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).search(field, value)

    def search_uuids(self, table: str, field: str, value: Any) -> list[Any]:
        with self._lock:
            return self._current(table).search_uuids(field, value)

    def all(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).all()

    def insert(self, table: str, data: dict[str, Any]) -> str:
        """Insert a record; returns its document id."""
        with self.unit_of_work():
            doc_id = self._table(table).insert(data)
            self._undo[table, doc_id] = None
            return doc_id

    def update(self, table: str, uuid: str, data: dict[str, Any]) -> None:
        """Merge ``data`` into the record ``uuid`` (nothing if there is none)."""
        with self.unit_of_work():
            rows = self._table(table)
            doc_id = rows.doc_id_of(uuid)
            if doc_id is not None:
                self._undo.setdefault((table, doc_id), rows.text_of(doc_id))
                rows.update(uuid, data)

    # Grouping -----------------------------------------------------------------------

    def unit_of_work(self) -> UnitOfWork:
        """Make the changes inside atomic and commit them; nested units join the outermost.

        The same object every time, so callers can tell that two tables share one unit.
        """
        return self._unit

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold back folding the journal until the outermost batch ends (a pass is not cut short)."""
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                if not self._batches:
                    self.fold_journal(only_if_outgrown=True)

    def fold_journal(self, *, only_if_outgrown: bool = False) -> None:
        """Rewrite the file with everything committed and start the journal afresh."""
        with self._lock:
            size = self.journal.size()
            if self._units or not size or (only_if_outgrown and not self._outgrown(size)):
                return
            self._take_file_lock()
            try:
                self._catch_up()
                self._rewrite()
            finally:
                self._release_file_lock()

    def _fold_at_exit(self) -> None:
        with contextlib.suppress(OSError):  # StoreFileError too: the journal keeps every commit
            self.fold_journal()

    # Internals ----------------------------------------------------------------------

    def _current(self, table: str) -> IndexedTable:
        """The table, caught up with other processes first (unless inside a unit)."""
        if not self._locked:
            self._catch_up()
        return self._table(table)

    def _table(self, name: str) -> IndexedTable:
        if name not in self._tables:
            self._tables[name] = IndexedTable()
        return self._tables[name]

    def _catch_up(self) -> None:
        """Load the file if it was rewritten, then apply the journal's new lines.

        Without the file lock, a rewrite may happen while reading: then read again, so a
        reader never combines an old file with a newer journal.
        """
        while True:
            journal = self.journal.stat()
            if self.journal.untouched(journal):
                return  # nothing committed since this process's last commit: the file is as it was
            signature = _signature(self.path)
            if self.journal.replaced(journal) or signature != self._signature:
                self._signature = False  # until the file has been read whole
                data = self.storage.read() or {}
                self._tables = {name: IndexedTable(rows) for name, rows in data.items()}
                self._signature = signature
                self.journal.read_from_start()
            for table, doc_id, row in self.journal.read_new(journal):
                self._table(table).replace(doc_id, row)
            if self._locked or _signature(self.path) == signature:
                return

    def _commit(self) -> None:
        """Append the records this unit changed to the journal; fold it if it grew large."""
        tables = self._tables
        self.journal.append([(table, doc_id, tables[table].rows[doc_id]) for table, doc_id in self._undo])
        self._undo = {}  # committed: a failed rewrite below must not undo it in memory
        first = self._signature is None  # the file itself must exist from the first commit on
        if first or (not self._batches and self._outgrown(self.journal.position)):
            self._rewrite()

    def _outgrown(self, journal_size: int) -> bool:
        """Whether a journal this large is due to be folded into the file."""
        return journal_size > max(MIN_JOURNAL_TO_FOLD, self._signature_size())

    def _rewrite(self) -> None:
        for stale in glob.glob(glob.escape(self.path) + ".*.tmp"):  # left by a writer killed mid-write
            with contextlib.suppress(OSError):
                os.unlink(stale)
        self.storage.write_chunks(self._json_chunks())
        self._signature = _signature(self.path)
        self.journal.start_afresh()

    def _begin_unit(self) -> None:
        """Start the outermost unit (thread lock held): file lock, then catch up."""
        self._take_file_lock()
        self._units, self._undo = 1, {}
        try:
            self._catch_up()
        except BaseException:
            self._end_unit()
            raise

    def _end_unit(self) -> None:
        self._units, self._undo = 0, {}
        self._release_file_lock()

    def _roll_back(self) -> None:
        """Undo this unit's changes in memory (nothing of them reached the journal)."""
        for (table, doc_id), text in self._undo.items():
            self._tables[table].restore(doc_id, text)

    def _signature_size(self) -> int:
        return self._signature[1] if isinstance(self._signature, tuple) else 0

    def _json_chunks(self) -> Iterator[str]:
        """The file's JSON text in pieces: ``{"<table>": {"<doc_id>": record, ...}, ...}``."""
        yield "{"
        for number, (name, table) in enumerate(self._tables.items()):
            yield f"{',' if number else ''}{json.dumps(name)}:"
            yield from table.json_chunks()
        yield "}"

    def _take_file_lock(self) -> None:
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise StoreFileError(f"{self.path}: cannot create its lock file: {exc.strerror or exc}") from exc
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._locked = True

    def _release_file_lock(self) -> None:
        if self._locked and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._locked = False


class UnitOfWork:
    """The context manager of :meth:`Database.unit_of_work` (a plain class: it runs per change)."""

    __slots__ = ("database",)

    def __init__(self, database: Database) -> None:
        self.database = database

    def __enter__(self) -> None:
        database = self.database
        database._lock.acquire()
        if database._units:
            database._units += 1
            return
        try:
            database._begin_unit()
        except BaseException:
            database._lock.release()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        database = self.database
        try:
            if database._units > 1:
                database._units -= 1
                return
            try:
                if exc_type is None:
                    database._commit()
                else:
                    database._roll_back()
            except BaseException:
                database._roll_back()
                raise
            finally:
                database._end_unit()
        finally:
            database._lock.release()


def read_committed(path: str | os.PathLike[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every committed record of a database file, by table and document id.

    The file with its journal applied, read afresh (no cache, no lock): what another
    process or a tool should read instead of the JSON file alone.
    """
    database = Database(os.path.abspath(os.fspath(path)))
    database._catch_up()
    tables = database._tables.items()
    return {name: {doc_id: json.loads(text) for doc_id, text in table.rows.items()} for name, table in tables}


def _signature(path: str) -> Signature | None:
    """Identity of the file's current version (a rewritten file has a new inode)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
