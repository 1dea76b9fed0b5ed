"""One TinyDB file as this process sees it: indexed tables, a journal, locks.

Every repository on the same file (by its real path) shares one :class:`Database`. The
committed state is the JSON file (TinyDB's layout) plus its journal ``<file>.journal``
(:mod:`~prorch_nb.repositories.journal`):

* a *unit of work* is atomic: it holds a thread lock and an exclusive lock on
  ``<file>.lock``, catches up with what others committed (other prorch_nb processes
  through the journal, other programs through the file), applies its changes to the
  in-memory tables (undone if it raises) and commits them by appending one line to the
  journal: a cost that does not grow with the database;
* a *checkpoint* folds the journal into the file: the file is rewritten whole (temporary
  file, fsync, rename) under a new *generation*, and the journal is removed. It happens
  when the journal outgrows the file, on :meth:`Database.checkpoint`, and at the exit of
  a process that committed. Folding is compaction: the commits are already in the journal.

Other programs (TinyDB, prorch 1.0.1) may change the file between checkpoints: their
records are merged (:mod:`~prorch_nb.repositories.merge`), or, if they changed a record
the journal changed too, a :class:`StoreConflictError` stops the store before anything
is overwritten. A journal that extends another file (the file was removed or replaced)
is set aside with a :class:`StoreWarning`, never replayed.

Readers take no file lock and write nothing: hooks run between units, never inside.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from prorch_nb.exceptions.exceptions import InvalidRecordError, StoreFileError
from prorch_nb.repositories.checkpoints import Checkpoints
from prorch_nb.repositories.file_state import FileState, load_file
from prorch_nb.repositories.files import open_beside
from prorch_nb.repositories.journal import Journal
from prorch_nb.repositories.json_file import signature_of
from prorch_nb.repositories.merge import Merger
from prorch_nb.repositories.table import IndexedTable
from prorch_nb.utils import clock

#: How far a commit is durable when it returns: ``"process"`` (the default) survives a
#: crash of the process, ``"commit"`` (each unit fsynced) survives a power cut too.
Durability = Literal["process", "commit"]
DURABILITIES = ("process", "commit")
#: Seconds between two looks at the file while a worker waits for another process's commit.
LOOK_EVERY = 0.1


class Database(Checkpoints):
    """The tables of one file, cached and kept in step with the file and its journal."""

    _open: ClassVar[dict[str, Database]] = {}
    _open_lock: ClassVar[threading.Lock] = threading.Lock()
    _resolved: ClassVar[dict[str, str]] = {}  #: an absolute path -> the real path (links resolved once)

    def __init__(self, path: str) -> None:
        self.path = path
        self.journal = Journal(path)
        self.durability: Durability = "process"
        self._lock = threading.RLock()
        self._units = 0
        self._batches = 0
        #: (table, doc id) -> its text before this unit (``None``: inserted), in order of change
        self._undo: dict[tuple[str, str], str | None] = {}
        self._lock_fd: int | None = None
        self._locked = False
        self._tables: dict[str, IndexedTable] = {}
        self._file: FileState | None = None  # None: to be read
        self._merger = Merger(self)
        self._committed = False  #: whether this process committed since the last fold (it folds at exit)
        self._doubted: tuple[int | None, str | None] = (None, None)  #: the last journal that made the file doubted
        self._timer: threading.Timer | None = None
        self._unit = UnitOfWork(self)

    @classmethod
    def at(cls, path: str | os.PathLike[str], durability: Durability = "process") -> Database:
        """The shared database object of this file (symbolic links resolved once, here).

        The strongest ``durability`` any caller asked for applies to every commit of the file.
        """
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {', '.join(map(repr, DURABILITIES))}, not {durability!r}")
        given = os.path.abspath(path)  # a relative path names another file after a change of directory
        key = cls._resolved.get(given) or cls._resolved.setdefault(given, os.path.realpath(given))
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(key)
                atexit.register(cls._open[key]._fold_at_exit)
            database = cls._open[key]
        if durability == "commit":
            database.durability = "commit"
        return database

    # Records ------------------------------------------------------------------------

    def get(self, table: str, uuid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._current(table).get(uuid)

    def status_of(self, table: str, uuid: str) -> Any:
        with self._lock:
            return self._current(table).status_of(uuid)

    def tally(self, table: str) -> dict[tuple[Any, Any], int]:
        with self._lock:
            return self._current(table).tally()

    def newest(self, table: str, limit: int, status: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).newest(limit, status)

    def claim_of(self, table: str, uuid: str) -> Any:
        with self._lock:
            return self._current(table).claim_of(uuid)

    def search(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).search(field, value)

    def search_uuids(self, table: str, field: str, value: Any) -> list[Any]:
        with self._lock:
            return self._current(table).search_uuids(field, value)

    def due_uuids(self, table: str, now: str) -> list[Any]:
        with self._lock:
            return self._current(table).due_uuids(now)

    def next_due(self, table: str) -> str | None:
        with self._lock:
            return self._current(table).next_due()

    def soonest_due(self, table: str, limit: int) -> list[tuple[Any, str]]:
        with self._lock:
            return self._current(table).soonest_due(limit)

    def all(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._current(table).all()

    def columns(self, table: str, fields: Sequence[str]) -> list[list[Any]]:
        with self._lock:
            return self._current(table).columns(fields)

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until another process commits here (the file or its journal changes) or ``timeout`` passes.

        Whether one did. Looks every :data:`LOOK_EVERY` seconds: two ``stat`` calls, nothing
        read. On a fake clock nothing can be seen to change: it only moves on.
        """
        if clock.fake_clock() is not None:
            clock.sleep(timeout)
            return False
        seen, end = self._signatures(), clock.now() + timeout
        while (left := end - clock.now()) > 0:
            clock.sleep(min(LOOK_EVERY, left))
            if self._signatures() != seen:
                return True
        return False

    def _signatures(self) -> tuple[object, object]:
        return signature_of(self.path), signature_of(self.journal.path)

    def tables(self) -> dict[str, IndexedTable]:
        """Every table, caught up (the caller must not change them)."""
        with self._lock:
            if not self._locked:
                self._catch_up(writing=False)
            return dict(self._tables)

    def insert(self, table: str, data: dict[str, Any]) -> str:
        """Insert a record (it needs a string ``uuid``); returns its document id."""
        if not isinstance(data.get("uuid"), str):
            raise InvalidRecordError(f"{self.path}: a {table} record needs a string uuid, got {data.get('uuid')!r}")
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

    # Internals ----------------------------------------------------------------------

    def _current(self, table: str) -> IndexedTable:
        """The table, caught up with other processes first (unless inside a unit)."""
        if not self._locked:
            self._catch_up(writing=False)
        return self._table(table)

    def _table(self, name: str) -> IndexedTable:
        if name not in self._tables:
            self._tables[name] = IndexedTable()
        return self._tables[name]

    def _catch_up(self, *, writing: bool) -> None:
        """Read the file again if it changed, then apply the journal's new units.

        ``writing``: under the file lock, where a journal that belongs to another file is
        set aside. Without the lock, a rewrite may happen while reading: then read again,
        so a reader never combines an old file with a newer journal.
        """
        while True:
            signature = signature_of(self.path)
            journal = self.journal.stat()
            loaded = self._file
            if loaded is not None and signature == loaded.signature and self.journal.untouched(journal):
                return  # the usual case for the process that committed last: one stat each
            fresh = loaded is None or signature != loaded.signature
            if fresh:
                self._read_file()
            units = self.journal.read_new(journal)
            if not fresh and self._doubt_file():
                continue
            self._merger.replay(units, writing=writing)
            if writing or signature_of(self.path) == self._file.signature:
                return

    def _doubt_file(self) -> bool:
        """Whether to read the file again although its signature is unchanged: the journal extends another version.

        The file may have been rewritten twice within one tick of the clock, the second
        time into the first one's inode number and size. Each such journal is doubted once.
        """
        journal, state = self.journal, self._file
        if state is None or journal.extends in (None, state.generation, state.previous):
            return False
        if self._doubted == (journal.inode, journal.extends):
            return False
        self._doubted = (journal.inode, journal.extends)
        self._file = None
        return True

    def _read_file(self) -> bool:
        """Load the file unless its content is the one loaded; whether it was loaded afresh.

        After a fresh load the journal is replayed from its start.
        """
        state, data = load_file(self.path, self._file)
        self._file = state
        if data is None:
            return False
        self._tables = {name: IndexedTable(rows) for name, rows in data.items()}
        self.journal.forget()
        self._merger.reset()
        return True

    def _commit(self) -> None:
        """Append the records this unit changed to the journal; fold it if it grew large."""
        if not self._undo:
            return
        if self._file is None or self._file.generation is None:
            # No file yet, or one prorch_nb never wrote (whose writers take no lock): this unit writes it whole
            if not self._rewrite(self._file_unchanged):
                raise StoreFileError(
                    f"{self.path}: another program wrote it while this change was being written; nothing of the "
                    "change was written (it is safe to try again)"
                )
            return
        entries = self._merger.entries(self._undo)
        unit_from = self.journal.position
        self.journal.append(entries, self._file.generation)
        if self.durability == "commit":
            self.journal.sync(unit_from)
        self._merger.committed(entries)
        self._undo = {}  # committed: a failed fold below must not undo it in memory
        self._committed = True
        if not self._batches and self._outgrown():
            self._fold_quietly()

    def _begin_unit(self) -> None:
        """Start the outermost unit (thread lock held): file lock, then catch up."""
        self._take_file_lock()
        self._units, self._undo = 1, {}
        try:
            self._catch_up(writing=True)
            if self._file is not None and self._file.generation is None and self._file.signature is not None:
                self._read_file()  # this unit may rewrite a file prorch_nb never wrote: start from its exact content
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

    def _take_file_lock(self) -> None:
        if self._lock_fd is None:
            self._lock_fd = open_beside(self.path, self.path + ".lock", os.O_RDWR, what="lock file")
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

    The file with its journal applied, read afresh (no cache, no lock, nothing written):
    what another process or a tool should read instead of the JSON file alone.
    """
    database = Database(os.path.realpath(os.fspath(path)))
    return {name: table.as_dicts() for name, table in database.tables().items()}
