"""UTC timestamps as ISO-8601 strings, the form every record stores."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """Return the current time in UTC, e.g. ``2026-11-27T09:35:55.123456+00:00``."""
    return datetime.now(timezone.utc).isoformat()
