"""Checkpoints: folding a database's journal into its file, so the file alone is current.

Part of :class:`~prorch_nb.repositories.database.Database` (a mixin over its state). A
checkpoint rewrites the file whole under a new generation (temporary file, fsync, rename)
and removes the journal. It happens when the journal outgrows the file (after a unit, or
at the end of a batch), when asked (:meth:`Checkpoints.checkpoint`, or soon, in the
background), and at the exit of a process that committed. An automatic checkpoint that
fails is a :class:`StoreWarning`: the commits it would fold are safe in the journal.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prorch_nb.exceptions.exceptions import StoreFileError, StoreWarning
from prorch_nb.interfaces.repository import Keep
from prorch_nb.repositories.file_state import FileState, json_chunks
from prorch_nb.repositories.files import match_database
from prorch_nb.repositories.json_file import read_file, remove_stale_temporaries, write_file

if TYPE_CHECKING:
    from prorch_nb.repositories.journal import Journal
    from prorch_nb.repositories.merge import Merger
    from prorch_nb.repositories.table import IndexedTable

#: The journal is folded into the file once it is larger than the file and than this
#: (a fresh process replays a journal this size in a few tens of milliseconds).
MIN_JOURNAL_TO_FOLD = 1024 * 1024
#: Rewrites a checkpoint tries while another program keeps changing the file under it.
_FOLD_ATTEMPTS = 5


class Checkpoints:
    """The checkpoint half of a ``Database``, which provides the file lock and the catch-up.

    The state they share is declared here.
    """

    path: str
    journal: Journal
    _lock: threading.RLock
    _units: int
    _batches: int
    _undo: dict[tuple[str, str], str | None]
    _lock_fd: int | None
    _tables: dict[str, IndexedTable]
    _file: FileState | None
    _merger: Merger
    _committed: bool
    _timer: threading.Timer | None

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
                if not self._batches and not self._units and self._outgrown():
                    self._fold_quietly()

    def checkpoint(self, *, keep: Keep = None) -> bool:
        """Fold the journal into the file now, so the file alone is current; whether there was one.

        Raises :class:`StoreFileError` naming the file if it cannot be done, and
        :class:`StoreConflictError` if another program changed records the journal changed
        too: ``keep="file"`` then keeps the other program's versions of those records,
        ``keep="journal"`` prorch_nb's.
        """
        with self._lock:
            if self._units:
                raise RuntimeError("checkpoint() inside a unit of work: call it once the unit has ended")
            return self._checkpoint(keep)

    def checkpoint_soon(self, delay: float = 1.0) -> None:
        """Fold the journal in a background thread ``delay`` seconds from now, if this process committed.

        A later call pushes it back. For a click's action: the click returns at once.
        """
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(delay, self._fold_in_background)
            self._timer.daemon = True
            self._timer.start()

    def _checkpoint(self, keep: Keep = None) -> bool:
        """:meth:`checkpoint` with the thread lock held and no unit open."""
        if self.journal.stat() is None:
            return False
        self._take_file_lock()
        try:
            self._merger.keep = keep
            self._catch_up(writing=True)
            return self._fold()
        finally:
            self._merger.keep = None
            self._release_file_lock()

    def _fold_quietly(self) -> None:
        """Fold the journal, a failure being a warning: whoever asked has committed already."""
        try:
            if self._units:
                self._fold()  # right after a commit: locked and caught up
            else:
                self._checkpoint()
        except (StoreFileError, OSError) as exc:
            warnings.warn(
                StoreWarning(
                    f"{self.path}: the journal could not be folded into the file (every commit is safe in "
                    f"{self.journal.path}, and prorch_nb reads both): {exc}"
                ),
                stacklevel=3,
            )

    def _fold_in_background(self) -> None:
        with self._lock:
            if self._committed and not self._units:
                self._fold_quietly()

    def _fold_at_exit(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            if self._committed and not self._units:
                self._fold_quietly()

    def _fold(self) -> bool:
        """Rewrite the file with the journal folded in (file lock held, caught up); whether there was a journal.

        Right before the new file replaces the old one, the old one's content is compared
        with what was loaded: another program may have changed it (even without changing
        its size or time), and nothing it wrote may be overwritten. Its change is merged,
        and the rewrite made again.
        """
        for _ in range(_FOLD_ATTEMPTS):
            if self.journal.extends is None:
                return False
            if self._rewrite(self._file_unchanged):
                return True
            self._read_file()
            self._merger.replay(self.journal.read_new(self.journal.stat()), writing=True)
        raise StoreFileError(f"{self.path}: another program kept changing it while it was being rewritten")

    def _file_unchanged(self) -> bool:
        found = read_file(self.path)
        digest = found[1].digest if found is not None else None
        return self._file is not None and digest == self._file.digest

    def _outgrown(self) -> bool:
        """Whether the journal is due to be folded into the file."""
        file_size = self._file.size if self._file is not None else 0
        return self.journal.position > max(MIN_JOURNAL_TO_FOLD, file_size)

    def _rewrite(self, unchanged: Callable[[], bool] | None = None) -> bool:
        """Write the file whole under a new generation; ``False`` if ``unchanged()`` said no first."""
        remove_stale_temporaries(self.path)
        generation = os.urandom(16).hex()
        previous = self._file.generation if self._file is not None else None
        content = write_file(self.path, json_chunks(self._tables, generation, previous), unchanged)
        if content is None:
            return False
        if self._lock_fd is not None:
            match_database(self.path, self._lock_fd)  # the file's mode may have changed since the lock was made
        self._file = FileState(content.signature, content.digest, content.signature[1], generation, previous)
        self._undo = {}
        self.journal.remove()
        self._merger.reset()
        self._committed = False
        return True
