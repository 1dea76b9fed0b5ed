"""When a record started and ended, read from its status history.

A record's ``history`` lists its status changes in order (``status``, ``at``, ``by`` and an
optional ``note``). It started on its first entry into ``pending``, and has ended if its last
entry is into an ended status: a record a resume put back to ``pending`` has not ended
(again) yet.

>>> history = [
...     {"status": "created", "at": "2026-11-27T09:00:00+00:00"},
...     {"status": "pending", "at": "2026-11-27T09:00:01+00:00"},
...     {"status": "finished", "at": "2026-11-27T09:00:03+00:00", "by": "step"},
... ]
>>> started_at(history), ended_at(history), ended_entry(history)["by"]
('2026-11-27T09:00:01+00:00', '2026-11-27T09:00:03+00:00', 'step')
>>> started_at([]), ended_at([])
(None, None)
>>> resumed = [*history[:1], {"status": "pending", "at": "..."}, {"status": "failed", "at": "..."},
...            {"status": "pending", "at": "...", "by": "hand"}]
>>> ended_entry(resumed), ended_entry([*resumed, history[-1]])["by"]
(None, 'step')
"""

from __future__ import annotations

from typing import Any

from prorch_nb.utils.constants import Status

#: One status change of a record, as stored.
Entry = dict[str, Any]


def started_at(history: list[Entry]) -> str | None:
    """The time of the first entry into ``pending``."""
    return next((entry.get("at") for entry in history if entry.get("status") == Status.PENDING), None)


def ended_entry(history: list[Entry]) -> Entry | None:
    """The last entry, if it is into an ended status (``finished``, ``failed`` or ``cancelled``)."""
    last = history[-1] if history else None
    return last if last is not None and last.get("status") in Status.ENDED else None


def ended_at(history: list[Entry]) -> str | None:
    """The time of :func:`ended_entry`."""
    entry = ended_entry(history)
    return entry.get("at") if entry else None
