"""The storage extension point: four methods to write, optional ones to do better.

Which optional methods a repository class provides is decided here, and only here
(:func:`implements`); the engine calls them through :func:`repository_method`, which
falls back on :class:`IRepository`'s default for a class that lacks one, even a class
that does not derive from it (the seed's four-method classes).

>>> class Minimal:  # the seed's interface only, not derived from IRepository
...     def __init__(self, model): self.rows = {"a": {"uuid": "a", "status": "pending"}}
...     def get(self, uuid): return self.rows.get(uuid)
...     def save(self, data): ...
...     def update(self, uuid, data): ...
...     def search(self, filter): return [r for r in self.rows.values() if r.get(filter[0]) == filter[1]]
>>> implements(Minimal, "get"), implements(Minimal, "status_of")
(True, False)
>>> repository_method(Minimal("STEP"), "status_of")("a")
'pending'
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import operator
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, Literal

from prorch_nb.dataclasses.orchestrator import SavedItem
from prorch_nb.utils import clock
from prorch_nb.utils.clock import stored_time
from prorch_nb.utils.constants import Status

#: Which version of a record changed both by another program and by prorch_nb a
#: checkpoint keeps: the file's, the journal's, or ``None`` to refuse (see ``checkpoint``).
Keep = Literal["file", "journal"] | None


class IRepository:
    """A table of records (dicts with a ``uuid``) for one model.

    The engine instantiates a repository class as ``cls(model)`` with
    ``Metadata.PIPELINES_MODEL`` or ``Metadata.STEP_MODEL``. Implement ``get``, ``save``,
    ``update`` and ``search``; ``update`` merges the given fields into the stored record.

    Twenty methods are optional and have working defaults (:data:`OPTIONAL_METHODS`):

    * ``unit_of_work()``: a context manager around a group of changes that must be
      atomic (the store may lock, and write them at once). The default does nothing.
    * ``batch()``: a context manager around many units of work (an orchestrator pass);
      a store may tidy up (or write) once at its end. The default does nothing.
    * ``all()``: every record, used by views; the default searches each status.
    * ``columns(fields)``: some fields of every record, one list per field, for the
      frames: what a store can answer without parsing every record (its indexes, its
      table's columns); the default reads every record.
    * ``status_of(uuid)``: the stored status of a record (``None`` if there is none),
      read before each write to refuse changing an ended record; the default uses ``get``.
    * ``search_uuids(filter)``: the uuids of the records ``search(filter)`` finds, in
      storage order, for a store that can list them without reading each record (the
      orchestrator lists pending runs this way); the default uses ``search``.
    * ``due_uuids(now)`` and ``next_due()``: the pending runs due at ``now`` (whose
      ``due_at``, a stored time, is absent or not later) and the earliest ``due_at`` of
      the pending runs, so a pass skips waiting runs without reading them; the defaults
      read every pending record.
    * ``soonest_due(limit)``: the ``limit`` pending runs with the earliest ``due_at``, for
      a dashboard's list of the runs due next; the default reads every pending record.
    * ``checkpoint(keep=None)``: bring a store's own file up to date (fold a journal into
      it), returning whether it changed anything; the default does nothing.
    * ``checkpoint_soon()``: the same, shortly and off the caller's path; the default
      does nothing.
    * ``tally()`` and ``newest(limit, status)``: what a dashboard shows on each refresh,
      the number of runs per name and status and the newest page of runs, without reading
      every record; the defaults read every record.
    * ``statuses_of(uuids)``: several records' statuses at once (a run's steps at each
      tick); the default asks ``status_of`` for each.
    * ``claim_of(uuid)``: the stored claim of a step, read before a hook's change of its
      status is written (a worker whose claim was taken over must not write); the
      default uses ``get``.
    * ``renew_claim(uuid, claimant, until)``: extend a claim while its hook runs; the
      default uses ``get`` and ``update``.
    * ``next_pending(after, host)``: the next run a worker sharing the store should tick,
      passing over runs other workers hold (see :meth:`IRepository.next_pending`).
    * ``lock_run(uuid)``: inside a unit, hold a run for it or say another worker's unit
      holds it (``SELECT ... FOR UPDATE SKIP LOCKED``); the default holds it.
    * ``wait_for_change(timeout)``: a worker's sleep between rounds, cut short by a change
      (PostgreSQL's ``LISTEN``); the default sleeps.
    * ``now()``: the store's clock for claims' leases (a shared database's, so every host
      agrees); the default is this machine's.
    """

    model: str
    #: Set to ``True`` when ``get``/``search``/``all`` return fresh objects and
    #: ``save``/``update`` keep no reference to their argument; the engine then skips
    #: its defensive copies.
    returns_copies: ClassVar[bool] = False

    def __init__(self, model: str) -> None:
        self.model = model

    def get(self, uuid: str) -> dict[str, Any] | None:
        """The record with this uuid, or ``None``."""
        raise NotImplementedError

    def save(self, data: dict[str, Any]) -> SavedItem:
        """Insert a new record."""
        raise NotImplementedError

    def update(self, uuid: str, data: dict[str, Any]) -> None:
        """Merge ``data`` into the record with this uuid."""
        raise NotImplementedError

    def search(self, filter: list[Any]) -> list[dict[str, Any]]:
        """Records whose ``filter[0]`` field equals ``filter[1]``."""
        raise NotImplementedError

    def unit_of_work(self) -> AbstractContextManager[None]:
        """Group the changes made inside the block; a no-op unless a store overrides it."""
        return contextlib.nullcontext()

    def batch(self) -> AbstractContextManager[None]:
        """Group many units of work; a no-op unless a store overrides it."""
        return contextlib.nullcontext()

    def status_of(self, uuid: str) -> str | None:
        """The stored status of the record with this uuid, or ``None``."""
        data = self.get(uuid)
        return data.get("status") if data else None

    def search_uuids(self, filter: list[Any]) -> list[Any]:
        """The uuids of the records ``search(filter)`` finds."""
        return [record.get("uuid") for record in self.search(filter) or []]

    def due_uuids(self, now: str) -> list[Any]:
        """The uuids of the ``pending`` records due at ``now`` (an ISO-8601 UTC time), oldest first.

        Due: no ``due_at`` (or one that is no time), or one not later than ``now``.
        """
        pending = self.search(["status", Status.PENDING]) or []
        pending.sort(key=lambda record: record.get("created_at") if isinstance(record.get("created_at"), str) else "")
        return [record.get("uuid") for record in pending if is_due(record.get("due_at"), now)]

    def next_due(self) -> str | None:
        """The earliest ``due_at`` of the ``pending`` records, or ``None`` if none waits."""
        found = [stored_time(record.get("due_at")) for record in self.search(["status", Status.PENDING]) or []]
        return min((at for at in found if at is not None), default=None)

    def soonest_due(self, limit: int) -> list[tuple[Any, str]]:
        """``(uuid, due_at)`` of the ``limit`` ``pending`` records with the earliest ``due_at``, earliest first."""
        pending = self.search(["status", Status.PENDING]) or []
        waiting = [(record.get("uuid"), at) for record in pending if (at := stored_time(record.get("due_at")))]
        return heapq.nsmallest(limit, waiting, key=operator.itemgetter(1))

    def all(self) -> list[dict[str, Any]]:
        """Every record of this table, in storage order within each status."""
        return [record for status in Status.ALL for record in (self.search(["status", status]) or [])]

    def columns(self, fields: Sequence[str]) -> list[list[Any]]:
        """The values of ``fields`` of every record, one list per field, records in the order of ``all()``.

        ``None`` where a record lacks a field. The default reads every record.
        """
        return columns_of(repository_method(self, "all")(), fields)

    def checkpoint(self, keep: Keep = None) -> bool:
        """Bring the store's own file up to date; nothing to do unless a store overrides it."""
        return False

    def checkpoint_soon(self) -> None:
        """Bring the store's own file up to date shortly; nothing to do unless a store overrides it."""

    def tally(self) -> dict[tuple[Any, Any], int]:
        """How many records there are of each ``(name, status)``; the default reads every record."""
        return dict(Counter((record.get("name"), record.get("status")) for record in repository_method(self, "all")()))

    def newest(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        """The ``limit`` newest records (of ``status`` only, if given), newest first; the default reads them all."""
        found = self.search(["status", status]) or [] if status else repository_method(self, "all")()
        found.sort(key=lambda record: record.get("created_at") if isinstance(record.get("created_at"), str) else "")
        return found[::-1][:limit]

    def statuses_of(self, uuids: list[str]) -> list[str | None]:
        """The stored statuses of the records with these uuids, in order (``None`` for a missing one)."""
        status_of = repository_method(self, "status_of")
        return [status_of(uuid) for uuid in uuids]

    def claim_of(self, uuid: str) -> str | None:
        """The stored ``claimed_by`` of the record with this uuid (a step's claim), or ``None``."""
        data = self.get(uuid)
        return data.get("claimed_by") if data else None

    def renew_claim(self, uuid: str, claimant: str, until: str) -> bool:
        """Inside a unit: extend the claim of step ``uuid`` to ``until`` if ``claimant`` still holds it; whether it did.

        A store that compares versions on write should not count this as a change of the
        record (the claim's own worker writes it meanwhile).
        """
        data = self.get(uuid)
        if not data or data.get("claimed_by") != claimant or data.get("status") not in Status.OPEN:
            return False
        self.update(uuid, {"claimed_until": until})
        return True

    def wait_for_change(self, timeout: float) -> bool:
        """Sleep until something changes in the store or ``timeout`` seconds pass; whether something did.

        For a worker between rounds. The default sleeps ``timeout`` on the engine's clock
        (a fake clock moves on at once) and says ``False``.
        """
        clock.sleep(timeout)
        return False

    def next_pending(self, after: str | None, host: str) -> tuple[str, str | None, Any] | None:
        """The oldest pending run due now after the run ``after`` that no other host's live claim holds.

        For a store that several workers share: each worker walks the pending runs with it,
        so workers spread over different runs instead of finding each other's claims. A run
        another worker is beginning right now is passed over too. Returns the run's uuid
        and, if its open step is claimed by ``host``, that claim and its lease (the caller
        tells a live local process from a dead one); ``None`` when there is no more. Due: its
        ``due_at`` is absent or not later than the store's ``now()``. The default walks
        ``due_uuids`` and knows no claims.
        """
        now = repository_method(self, "now")()
        uuids = repository_method(self, "due_uuids")(clock.utc_at(now.timestamp()))
        start = uuids.index(after) + 1 if after in uuids else 0
        return (uuids[start], None, None) if start < len(uuids) else None

    def lock_run(self, uuid: str) -> bool:
        """Inside a unit of work: hold the run ``uuid`` for it, or ``False`` if another worker's unit holds it.

        A run held elsewhere is skipped by this pass (it is busy). The default holds it:
        ``unit_of_work`` is atomic already, or the store has one process.
        """
        return True

    def now(self) -> datetime:
        """The store's clock (UTC), in which claims' leases are measured; the default is this machine's."""
        return clock.now_datetime()


#: What every repository class implements (the seed's interface).
REQUIRED_METHODS = ("get", "save", "update", "search")
#: What a repository class may implement to do better; :class:`IRepository` has a default for each.
OPTIONAL_METHODS = (
    "unit_of_work",
    "batch",
    "all",
    "columns",
    "status_of",
    "search_uuids",
    "tally",
    "newest",
    "statuses_of",
    "claim_of",
    "renew_claim",
    "due_uuids",
    "next_due",
    "soonest_due",
    "checkpoint",
    "checkpoint_soon",
    "next_pending",
    "lock_run",
    "now",
    "wait_for_change",
)


#: id of a class -> method name -> whether it has its own. Keyed by id, as a plain dict answers
#: faster than a weak mapping; an entry goes when its class does (``TinyDBRepository.at``
#: makes a class per call), so an id used again never finds an old answer.
_implemented: dict[int, dict[str, bool]] = {}


def implements(repository_class: type, method: str) -> bool:
    """Whether ``repository_class`` has ``method`` of its own: :class:`IRepository`'s stand-in does not count.

    Asked for every call of an optional method, so the answer is kept per class (as long as the class lives).
    """
    known = _implemented.get(id(repository_class))
    if known is None:
        known = _implemented[id(repository_class)] = {}
        weakref.finalize(repository_class, _implemented.pop, id(repository_class), None)
    if method not in known:
        found = getattr(repository_class, method, None)
        known[method] = callable(found) and found is not getattr(IRepository, method, None)
    return known[method]


def repository_method(table: Any, method: str) -> Callable[..., Any]:
    """``table``'s own ``method``, else :class:`IRepository`'s default bound to ``table``."""
    if implements(type(table), method):
        return getattr(table, method)
    return functools.partial(getattr(IRepository, method), table)


def columns_of(records: Sequence[Any], fields: Sequence[str]) -> list[list[Any]]:
    """The values of ``fields`` of each of ``records``, a list per field (``None`` where one lacks it or is no dict)."""
    try:  # in C when every record is a dict
        return [list(map(dict.get, records, itertools.repeat(field))) for field in fields]
    except TypeError:  # a mapping that is not a dict, or no mapping at all
        return [[record.get(field) if isinstance(record, Mapping) else None for record in records] for field in fields]


def is_due(due_at: Any, now: str) -> bool:
    """Whether a record whose ``due_at`` is ``due_at`` is due at ``now`` (a time as ``utc_at`` writes it).

    A ``due_at`` that is no readable time does not hold the record back: it is due at every pass.

    >>> nine, ten = "2026-11-30T09:00:00.000000+00:00", "2026-11-30T10:00:00.000000+00:00"
    >>> is_due(None, nine), is_due(ten, nine), is_due(nine, ten), is_due("2026-11-30T10:30:00+01:00", ten)
    (True, False, True, True)
    >>> is_due("tomorrow", nine)
    True
    """
    due = stored_time(due_at)
    return due is None or due <= now
