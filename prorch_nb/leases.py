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
from dataclasses import dataclass, field

from prorch_nb.claims import lease_end
from prorch_nb.exceptions.exceptions import StoreWarning


@dataclass(order=True)
class _Held:
    """A running tick's claim, due for renewal at ``due`` (monotonic seconds)."""

    due: float
    claimant: str = field(compare=False)
    step_uuid: str = field(compare=False)
    repository_class: type = field(compare=False)
    lease_seconds: float = field(compare=False)


class LeaseKeeper:
    """Renews the claims of running ticks; :data:`KEEPER` is this process's one."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._queue: list[_Held] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def hold(self, claimant: str, step_uuid: str, repository_class: type, lease_seconds: float) -> None:
        """Renew ``claimant``'s claim of ``step_uuid`` every third of its lease until :meth:`release`."""
        held = _Held(time.monotonic() + lease_seconds / 3, claimant, step_uuid, repository_class, lease_seconds)
        with self._changed:
            self._held[claimant] = held
            earliest = self._queue[0].due if self._queue else None
            heapq.heappush(self._queue, held)
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
                self._queue = list(self._held.values())
                heapq.heapify(self._queue)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue or self._queue[0].due > time.monotonic():
                    self._changed.wait(None if not self._queue else self._queue[0].due - time.monotonic())
                held = heapq.heappop(self._queue)
                if self._held.get(held.claimant) is not held:
                    continue  # released
            if _renew(held):
                with self._changed:
                    if self._held.get(held.claimant) is held:
                        held.due = time.monotonic() + held.lease_seconds / 3
                        heapq.heappush(self._queue, held)


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
