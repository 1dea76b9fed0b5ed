"""Keeping claims alive while long hooks run: one thread renews the lease of every running tick.

A claim's lease lets another worker take a step over when its worker is gone (on another
host, or frozen). A hook may legitimately run longer than the lease: while it runs, the
keeper extends the claim every third of the lease, in the store's clock, as long as the
claim is still this tick's. Ticks register and unregister for a few microseconds each;
the thread starts with the first tick and sleeps until a lease is due for renewal.
"""

from __future__ import annotations

import heapq
import threading
import time
import warnings
from dataclasses import dataclass

from prorch_nb.claims import lease_end
from prorch_nb.exceptions.exceptions import StoreWarning


@dataclass
class _Held:
    """A running tick's claim, due for renewal at ``due`` (monotonic seconds)."""

    due: float
    claimant: str
    step_uuid: str
    repository_class: type
    lease_seconds: float


class LeaseKeeper:
    """Renews the claims of running ticks; :data:`KEEPER` is this process's one.

    The queue holds only when and whose: a released tick leaves nothing of its
    repository behind (a class made by ``TinyDBRepository.at`` may then be collected).
    """

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._queue: list[tuple[float, str]] = []  #: (due, claimant), soonest first
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def hold(self, claimant: str, step_uuid: str, repository_class: type, lease_seconds: float) -> None:
        """Renew ``claimant``'s claim of ``step_uuid`` every third of its lease until :meth:`release`."""
        held = _Held(time.monotonic() + lease_seconds / 3, claimant, step_uuid, repository_class, lease_seconds)
        with self._changed:
            self._held[claimant] = held
            earliest = self._queue[0][0] if self._queue else None
            heapq.heappush(self._queue, (held.due, claimant))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="prorch_nb lease keeper", daemon=True)
                self._thread.start()
            elif earliest is None or held.due < earliest:
                self._changed.notify()

    def release(self, claimant: str) -> None:
        """The tick is over: its claim is no longer renewed."""
        with self._changed:
            self._held.pop(claimant, None)
            if len(self._queue) > 2 * len(self._held) + 64:  # released entries wait in the queue: drop them
                self._queue = [(held.due, held.claimant) for held in self._held.values()]
                heapq.heapify(self._queue)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue or self._queue[0][0] > time.monotonic():
                    self._changed.wait(None if not self._queue else self._queue[0][0] - time.monotonic())
                due, claimant = heapq.heappop(self._queue)
                held = self._held.get(claimant)
                if held is None or held.due != due:
                    continue  # released
            if _renew(held):
                with self._changed:
                    if self._held.get(claimant) is held:
                        held.due = time.monotonic() + held.lease_seconds / 3
                        heapq.heappush(self._queue, (held.due, claimant))


def _renew(held: _Held) -> bool:
    """Extend the claim if it is still this tick's; whether it was (or may still be)."""
    from prorch_nb.store import Store  # the engine's gateway, imported at first use: it imports the claims

    try:
        store = Store(held.repository_class)
        with store.unit_of_work():
            until = lease_end(store.now(), held.lease_seconds)
            return store.renew_claim(held.step_uuid, held.claimant, until)
    except Exception as exc:  # the keeper must outlive any failure of a store: it tries again later
        warnings.warn(StoreWarning(f"could not renew the claim {held.claimant}: {exc}"), stacklevel=1)
        return True


#: This process's keeper.
KEEPER = LeaseKeeper()
