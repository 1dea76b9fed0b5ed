"""The one write path for status changes, shared by pipelines and steps.

Every change of status goes through :meth:`Tracked._change_status`, which refuses to
leave an ended status (but for a resume, by hand), appends to the record's history (UTC
ISO-8601 time, who did it), stamps ``updated_at``, persists the record and tells the
listeners (live views). Events that change no status (a retry, a signal) take the same
path through :meth:`Tracked._record_event`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.exceptions.exceptions import ConcurrentChangeError, InvalidTransitionError
from prorch_nb.store import Store
from prorch_nb.utils.clock import utc_now
from prorch_nb.utils.constants import Status
from prorch_nb.utils.json_values import check_json

#: Who made a change, as recorded in history: the engine's tick, the step's own hook,
#: an exception raised by a hook, or a person acting from outside (API, widget, CLI).
BY_ENGINE, BY_STEP, BY_ERROR, BY_HAND = "engine", "step", "error", "hand"
#: What else writes history: a hook's exception followed by another attempt, a step's
#: timeout, a signal sent to the run (see :mod:`prorch_nb.schedule`).
BY_RETRY, BY_TIMEOUT, BY_SIGNAL = "retry", "timeout", "signal"


@dataclass(frozen=True)
class StatusChange:
    """One status change (or, with ``old == new``, an event such as a retry or a signal), as told to listeners."""

    kind: str
    uuid: str
    name: str
    pipeline_uuid: str
    old: str
    new: str
    at: str
    by: str


_listeners: list[Callable[[StatusChange], None]] = []


def subscribe(listener: Callable[[StatusChange], None]) -> Callable[[], None]:
    """Call ``listener`` after every status change (or event: ``old == new``) here; returns an unsubscribe."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


class Tracked:
    """A pipeline or step: its record, the store it lives in, and its status changes."""

    _kind: ClassVar[str]
    _record: PipelineData | StepData
    _store: Store | None
    _repository_class: type
    #: The status this object last read from or wrote to the store.
    _stored_status: str | None = None
    name: str | None = None

    @property
    def uuid(self) -> str:
        """The record's uuid."""
        return self._record.uuid

    @property
    def repository_class(self) -> type:
        """The repository class this record is stored with (read-only)."""
        return self._repository_class

    @property
    def status(self) -> str:
        """The current status (see :class:`~prorch_nb.utils.constants.Status`)."""
        return self._record.status

    @property
    def history(self) -> list[dict[str, Any]]:
        """Status changes so far: ``{"status", "at", "by"[, "note"]}`` dicts, oldest first."""
        return list(self._record.history)

    def _change_status(
        self, new: str, *, by: str, note: str | None = None, reopen: bool = False, **details: Any
    ) -> None:
        """Move to ``new`` (the only way a status changes), then persist and notify.

        An ended status is final, but for ``reopen``: :meth:`Pipeline.resume` puts a
        failed or cancelled run, and the step that ended it, back to ``pending`` by hand.
        """
        old = self._record.status
        if new == old:
            return
        if new not in Status.ALL:
            raise InvalidTransitionError(f"{new!r} is not a status; expected one of {', '.join(Status.ALL)}")
        if old in Status.ENDED and not (reopen and old in Status.RESUMABLE and new == Status.PENDING and by == BY_HAND):
            raise InvalidTransitionError(f"{self._describe()} has {old}; an ended status cannot become {new}")
        self._write_history(new, {"by": by, "note": note, **details})

    def _record_event(self, *, by: str, note: str | None = None, **details: Any) -> None:
        """Record in the history something that happened without a change of status (a retry, a signal)."""
        self._write_history(self._record.status, {"by": by, "note": note, **details})

    def _write_history(self, new: str, details: dict[str, Any]) -> None:
        """Append an entry (``status``, ``at`` and ``details`` that are not ``None``), take ``new``, persist, notify."""
        record = self._record
        old = record.status
        at = utc_now()
        entry = {"status": new, "at": at, **{key: value for key, value in details.items() if value is not None}}
        record.history.append(entry)
        record.status = new
        try:
            self._save(at)
        except BaseException:
            record.history.pop()
            record.status = old
            raise
        if _listeners:
            change = StatusChange(
                self._kind, self.uuid, self.name or "", self._pipeline_uuid(), old, new, at, entry["by"]
            )
            for listener in list(_listeners):
                listener(change)

    def _save(self, at: str | None = None) -> None:
        """Write the whole record, stamped ``at`` (default: now), unless someone else has ended it since it was read.

        Raises :class:`ConcurrentChangeError` then, and writes nothing.
        """
        self._sync_record()
        self._check_values()
        store = self._require_store()
        record = self._record
        with store.unit_of_work():
            stored = store.status_of(record)
            if stored != self._stored_status and stored in Status.ENDED:
                raise ConcurrentChangeError(
                    f"{self._describe()} was {stored} meanwhile by someone else; this change was not saved"
                )
            self._check_claim(store)
            record.updated_at = at or utc_now()
            store.write(record)
            self._save_along(store)
        self._stored_status = record.status

    def _adopt(self, record: PipelineData | StepData, store: Store | None) -> None:
        """Take ``record`` as this object's state (as just read from ``store``)."""
        self._record = record
        self._store = store
        self._stored_status = record.status

    def _sync_record(self) -> None:
        """Copy instance attributes users may rebind (``metadata``) into the record."""

    def _check_values(self) -> None:
        """Refuse to save values JSON would not keep as they are (:class:`NotJSONError`)."""
        check_json(self._record.metadata, "metadata")

    def _check_claim(self, store: Store) -> None:
        """Refuse the write if this object's worker no longer holds what it works on (inside the unit)."""

    def _save_along(self, store: Store) -> None:
        """Write, in the same unit of work, what belongs with this record's save."""

    def _require_store(self) -> Store:
        """The store of the operation under way, or a new one."""
        return self._store if self._store is not None else Store(self._repository_class)

    @contextlib.contextmanager
    def _operation(self) -> Iterator[Store]:
        """A new store for one operation, forgotten when it ends.

        A run object kept between operations then holds no repository objects: thousands
        of kept runs would otherwise weigh on the garbage collector.
        """
        store = Store(self._repository_class)
        try:
            yield store
        finally:
            self._store = None

    def _pipeline_uuid(self) -> str:
        return self.uuid

    def _describe(self) -> str:
        return f"{self._kind} {self.name!r} ({self.uuid})"


def new_record_times() -> dict[str, Any]:
    """Timestamps and first history entry of a record being created."""
    at = utc_now()
    return {"created_at": at, "updated_at": at, "history": [{"status": Status.CREATED, "at": at, "by": BY_ENGINE}]}
