"""Replaying the journal onto the file, keeping what other programs wrote into the file.

Every journal entry carries the digest of its record as it was in the file the journal
extends (its *base*). While the file is as prorch_nb left it, every base matches. When
another program (TinyDB, prorch 1.0.1) changed the file in place meanwhile:

* a record it added, changed or deleted that the journal never touched keeps its change;
* a record the journal changed whose file version still matches the base gets the
  journal's version;
* a record both changed (or one changed and the other deleted) is a conflict: the store
  raises :class:`StoreConflictError` naming each record, before anything is overwritten,
  unless a checkpoint was asked to ``keep`` the ``"file"``'s or the ``"journal"``'s version.

A journal that extends another file altogether (removed, replaced, recreated) is set
aside by a writer and ignored by a reader, with a :class:`StoreWarning`.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

from prorch_nb.exceptions.exceptions import StoreConflictError, StoreWarning
from prorch_nb.interfaces.repository import Keep
from prorch_nb.repositories.journal import Entry
from prorch_nb.repositories.json_file import signature_of
from prorch_nb.repositories.table import compact_json

if TYPE_CHECKING:
    from prorch_nb.repositories.database import Database

#: Conflicts listed in the error's message (all of them are on the exception).
_SHOWN = 5


class Conflict(NamedTuple):
    """A record changed both in the file by another program and in the journal."""

    table: str
    uuid: str
    in_file: str | None  #: the file's text of the record, ``None`` if it was deleted there
    in_journal: dict[str, Any]

    def describe(self) -> str:
        """One line naming the record and what happened to it."""
        name = self.in_journal.get("name")
        label = f"{self.table} record {self.uuid}" + (f" ({name})" if isinstance(name, str) else "")
        if self.in_file is None:
            return f"{label}: deleted from the file, changed by prorch_nb"
        return f"{label}: changed in the file and by prorch_nb"


class Merger:
    """The journal's replay for one database: bases of the records it changed, and conflicts."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.keep: Keep = None
        #: (table, uuid) -> base digest, for every record the journal changed so far
        self._based: dict[tuple[str, str], str | None] = {}
        self._dropped: set[tuple[str, str]] = set()  #: conflicting records whose file version is kept
        self._warned: set[int | None] = set()  #: journals (by inode) a reader already warned of

    def reset(self) -> None:
        """Forget the journal's records: it will be replayed from its start onto a fresh file."""
        self._based, self._dropped = {}, set()

    def replay(self, units: list[list[Entry]], *, writing: bool) -> None:
        """Apply units read from the journal to the tables, checking each record's base first."""
        database = self.database
        journal = database.journal
        if journal.extends is None:
            return  # no journal, or one with no complete line yet
        if database._file is None or journal.extends != database._file.generation:
            self._not_ours(writing)
            return
        conflicts = []
        based, dropped = self._based, self._dropped
        for unit in units:
            for table, uuid, base, row in unit:
                key = (table, uuid)
                rows = database._table(table)
                if key not in based:
                    based[key] = base
                    found = rows.text_by_uuid(uuid)
                    if _digest(found) != base and found != compact_json(row):
                        if self.keep == "file":
                            dropped.add(key)
                        elif self.keep is None:
                            conflicts.append(Conflict(table, uuid, found, row))
                if key not in dropped:
                    rows.put(uuid, row)
        if conflicts:
            database._file = None  # read everything again next time
            raise StoreConflictError(_conflict_message(database, conflicts), conflicts)

    def entries(self, undo: dict[tuple[str, str], str | None]) -> list[Entry]:
        """The journal entries of a unit: each changed record with its base (``undo``: texts before the unit)."""
        tables, based = self.database._tables, self._based
        found = []
        for (table, doc_id), before in undo.items():
            rows = tables[table]
            text = rows.text_of(doc_id)
            if text is None:
                continue
            uuid = rows.uuid_at(doc_id)
            key = (table, uuid)
            found.append((table, uuid, based[key] if key in based else _digest(before), text))
        return found

    def committed(self, entries: list[Entry]) -> None:
        """Remember the bases of a unit just appended to the journal."""
        for table, uuid, base, _ in entries:
            self._based.setdefault((table, uuid), base)

    def _not_ours(self, writing: bool) -> None:
        """The journal extends another version of the file: drop it if folded already, else set it aside."""
        database = self.database
        journal = database.journal
        state = database._file
        if state is not None and journal.extends == state.previous:
            if writing:
                journal.remove()  # a rewrite put it into the file, then was killed before removing it
            else:
                journal.forget()  # never taken for the journal to append to
            return
        if writing:
            aside = journal.set_aside()
            warnings.warn(StoreWarning(f"{_orphan(database)}; set aside as {aside}, not replayed"), stacklevel=6)
            return
        inode = journal.inode
        journal.forget()
        if state is not None and signature_of(database.path) != state.signature:
            return  # the file is being rewritten: the reader reads it again
        if inode not in self._warned:
            self._warned.add(inode)
            warnings.warn(StoreWarning(f"{_orphan(database)}; ignored (the next writer sets it aside)"), stacklevel=6)


def _digest(text: str | None) -> str | None:
    """The base digest of a record's stored text (``None`` for no record)."""
    return None if text is None else hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _orphan(database: Database) -> str:
    return (
        f"{database.journal.path} belongs to a version of {database.path} that is gone (the file was removed "
        "or replaced since); its changes are not in the database"
    )


def _conflict_message(database: Database, conflicts: list[Conflict]) -> str:
    shown = "; ".join(conflict.describe() for conflict in conflicts[:_SHOWN])
    more = f"; and {len(conflicts) - _SHOWN} more" if len(conflicts) > _SHOWN else ""
    return (
        f"{database.path}: another program changed records that prorch_nb changed too, in "
        f"{database.journal.path}: {shown}{more}. Nothing was overwritten. Choose the versions to keep: "
        "prorch_nb.checkpoint(R, keep='file') keeps the other program's, keep='journal' prorch_nb's "
        f"(or: prorch-nb checkpoint --db {database.path} --keep file|journal)"
    )
