"""Status values and the table names records are stored under (the seed's constants)."""

from __future__ import annotations


class Status:
    """Status strings of pipelines and steps, as stored in every record."""

    CREATED = "created"
    PENDING = "pending"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    #: Every status, in lifecycle order (the order of the categorical in frames).
    ALL = (CREATED, PENDING, FINISHED, FAILED, CANCELLED)
    #: Statuses that never change again, but by ``resume()`` (failed or cancelled, by hand, to pending).
    ENDED = frozenset({FINISHED, FAILED, CANCELLED})
    #: Ended statuses that ``resume()`` may take back to ``pending``, by hand.
    RESUMABLE = frozenset({FAILED, CANCELLED})
    #: Statuses of a step that still has work to do.
    OPEN = frozenset({CREATED, PENDING})


class Metadata:
    """Model names a repository class is instantiated with, and their table names."""

    PIPELINES_MODEL = "PIPELINE"
    STEP_MODEL = "STEP"

    TABLE_NAMES = {
        PIPELINES_MODEL: "pipelines",
        STEP_MODEL: "pipeline_steps",
    }
