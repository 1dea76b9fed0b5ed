"""``due_uuids(now)`` and ``next_due()``: which pending runs a pass ticks now, and when the next waiting one is due."""

from prorch_nb import Metadata, Status
from prorch_nb.interfaces.repository import repository_method

NOW = "2026-11-30T10:00:00.000000+00:00"


def hour(text: str) -> str:
    """A stored time on the day of NOW, e.g. ``hour("09:30")``."""
    return f"2026-11-30T{text}:00.000000+00:00"


def saved_runs(repository_class, runs):
    """The runs table of ``repository_class`` holding ``runs`` of (uuid, status, due_at), created in that order."""
    table = repository_class(Metadata.PIPELINES_MODEL)
    for position, (uuid, status, due_at) in enumerate(runs):
        record = {"uuid": uuid, "name": "Timer", "status": status, "created_at": f"2026-11-29T00:00:{position:02d}"}
        table.save(record if due_at == "absent" else {**record, "due_at": due_at})
    return table


def answers(table, now=NOW):
    """What ``table`` says is due at ``now``, and its next due time."""
    return list(repository_method(table, "due_uuids")(now)), repository_method(table, "next_due")()


def test_due_runs_are_the_pending_ones_waiting_for_no_time_or_a_past_one_oldest_first(repository_class):
    table = saved_runs(
        repository_class,
        [
            ("never-waited", Status.PENDING, "absent"),
            ("woke-at-nine", Status.PENDING, hour("09:00")),
            ("wakes-now", Status.PENDING, NOW),
            ("wakes-at-eleven", Status.PENDING, hour("11:00")),
            ("finished", Status.FINISHED, hour("08:00")),
            ("wakes-at-half-past", Status.PENDING, hour("10:30")),
            ("signalled", Status.PENDING, None),
            ("not-started", Status.CREATED, hour("07:00")),
        ],
    )

    assert answers(table) == (["never-waited", "woke-at-nine", "wakes-now", "signalled"], hour("09:00"))
    assert answers(table, hour("10:30")) == (
        ["never-waited", "woke-at-nine", "wakes-now", "wakes-at-half-past", "signalled"],
        hour("09:00"),
    )


def test_due_runs_follow_each_change_of_a_run(repository_class):
    table = saved_runs(
        repository_class,
        [
            ("first", Status.PENDING, hour("09:00")),
            ("second", Status.PENDING, hour("11:00")),
            ("third", Status.CREATED, None),
        ],
    )

    table.update("first", {"status": Status.FINISHED})
    table.update("second", {"due_at": None})  # a signal woke it
    table.update("third", {"status": Status.PENDING, "due_at": hour("12:00")})

    assert answers(table) == (["second"], hour("12:00"))
    table.update("third", {"due_at": hour("09:59")})
    assert answers(table) == (["second", "third"], hour("09:59"))


def test_a_table_where_no_run_is_pending_has_none_due(repository_class):
    assert answers(repository_class(Metadata.PIPELINES_MODEL)) == ([], None)
    table = saved_runs(repository_class, [("done", Status.FINISHED, hour("09:00")), ("new", Status.CREATED, None)])
    assert answers(table) == ([], None)
