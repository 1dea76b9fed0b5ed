"""Claims: which worker is running a step's hooks, and until when.

A claim is ``host:pid:token``. It is live until its lease expires (in the store's clock:
a shared database's, whichever host looks), or, on this host,
until its process has died (so a restarted worker takes over at once after a crash), or,
in its own process, until its tick has ended (a tick that raised leaves no stuck claim).
``host`` is the host name and, on Linux, the pid namespace (``name/pidns<inode>``): a
worker in a container that shares the host name but not the pids (``--network host``)
must not read another namespace's live pid as a dead one of its own. A claim from
another namespace, or in the older ``name:pid:token`` form, lasts until its lease ends.
"""

from __future__ import annotations

import functools
import os
import socket
from datetime import datetime, timezone

from prorch_nb.dataclasses.step import StepData
from prorch_nb.utils.clock import utc_at

#: Default lease of a claim: a hook running longer may be taken over by another worker.
DEFAULT_LEASE_SECONDS = 900.0
#: The environment variable naming this host in claims, instead of its host name.
HOST_ENV = "PRORCH_NB_HOST"


#: Claimants of this process whose tick is still running (a claim of this process not in
#: here was left by a tick that raised: it is dead).
_RUNNING: set[str] = set()


def new_claimant() -> str:
    """An identifier for one tick of this process and thread, live until :func:`claim_ended`."""
    claimant = f"{this_host()}:{os.getpid()}:{os.urandom(4).hex()}"
    _RUNNING.add(claimant)
    return claimant


def claim_ended(claimant: str) -> None:
    """The tick of ``claimant`` is over (whether or not its claim could be released in the store)."""
    _RUNNING.discard(claimant)


def lease_end(now: datetime, seconds: float) -> str:
    """ISO-8601 UTC time ``seconds`` after ``now`` (the store's clock: the database's, for a shared one)."""
    return utc_at(now.timestamp() + seconds)


def claim_is_live(step: StepData, now: datetime) -> bool:
    """Whether another tick is running this step's hooks at ``now`` (the store's clock)."""
    return held_at(step.claimed_by, step.claimed_until, now)


def held_at(claimed_by: str | None, claimed_until: str | datetime | None, now: datetime) -> bool:
    """Whether the claim ``claimed_by``, leased until ``claimed_until``, is live at ``now``."""
    if not claimed_by:
        return False
    until = datetime.fromisoformat(claimed_until) if isinstance(claimed_until, str) else claimed_until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)  # a database column without zones keeps UTC
    if until is not None and until <= now:
        return False
    host, _, pid = claimed_by.rpartition(":")[0].rpartition(":")
    if host != this_host() or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return claimed_by in _RUNNING
    return _process_alive(int(pid))


@functools.cache
def this_host() -> str:
    """Where a pid names one process: the host name, this boot of the machine and the pid namespace.

    The boot id tells apart machines that share a host name (cloned virtual machines all
    called ``localhost``), the namespace containers on one machine. ``PRORCH_NB_HOST``
    replaces the host name (and tests play several hosts on one machine with it).
    """
    name = os.environ.get(HOST_ENV) or socket.gethostname()
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot:
            name += f"/boot{boot.read().strip().replace('-', '')[:12]}"
        return f"{name}/pidns{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # no /proc: one pid space per host
        return name


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
