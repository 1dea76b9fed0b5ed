"""When a record started and ended, read from its status history.

A record's ``history`` lists its status changes in order (``status``, ``at``, ``by`` and an
optional ``note``). It started on its first entry into ``pending`` and ended on its first
entry into an ended status.

>>> history = [
...     {"status": "created", "at": "2026-11-27T09:00:00+00:00"},
...     {"status": "pending", "at": "2026-11-27T09:00:01+00:00"},
...     {"status": "finished", "at": "2026-11-27T09:00:03+00:00", "by": "step"},
... ]
>>> started_at(history), ended_at(history), ended_entry(history)["by"]
('2026-11-27T09:00:01+00:00', '2026-11-27T09:00:03+00:00', 'step')
>>> started_at([]), ended_at([])
(None, None)
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
    """The first entry into an ended status (``finished``, ``failed`` or ``cancelled``)."""
    return next((entry for entry in history if entry.get("status") in Status.ENDED), None)


def ended_at(history: list[Entry]) -> str | None:
    """The time of the first entry into an ended status."""
    entry = ended_entry(history)
    return entry.get("at") if entry else None
