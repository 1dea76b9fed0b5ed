"""``columns(fields)``: some fields of every record, as ``all()`` has them, on every repository."""

from prorch_nb import FakeClock, Metadata, use_clock
from prorch_nb.interfaces.repository import repository_method
from prorch_nb.utils.clock import as_datetime, utc_at
from tests import durable_pipelines as durable

AT = "2026-01-01T00:00:00+00:00"
RECORDS = [
    {
        "uuid": "s-1",
        "name": "Quick",
        "pipeline_uuid": "p-1",
        "status": "finished",
        "position": 0,
        "history": [{"status": "created", "at": AT}, {"status": "finished", "at": AT, "by": "step"}],
        "metadata": {"rows": 3, "nested": {"ok": True}},
        "created_at": AT,
    },
    {"uuid": "s-2", "name": "Slow", "pipeline_uuid": "p-1", "status": "created", "position": 1, "metadata": {}},
    {"uuid": "s-3", "name": "Old", "pipeline_uuid": "p-2", "status": "pending"},  # prorch 1.0.1's: no position
]
FIELDS = ["uuid", "name", "status", "pipeline_uuid", "position", "history", "metadata", "created_at", "missing"]
#: What retries, timeouts, timers and signals add to step and run records.
DURABLE_STEP_FIELDS = ["uuid", "attempts", "due_at", "waiting_since", "deadline", "on_start_done"]
DURABLE_RUN_FIELDS = ["uuid", "due_at", "signals", "signaled_at"]
START = "2026-11-30T09:00:00+00:00"


def after(seconds: float) -> str:
    """The stored time ``seconds`` after START."""
    return utc_at(as_datetime(START).timestamp() + seconds)


def saved(repository_class, records):
    """The step table of ``repository_class`` holding ``records``."""
    steps = repository_class(Metadata.STEP_MODEL)
    for record in records:
        steps.save(record)
    return steps


def by_uuid(columns):
    return {row[0]: row for row in zip(*columns, strict=True)}


def test_columns_hold_each_field_of_every_record_in_the_order_of_all(repository_class):
    steps = saved(repository_class, RECORDS)

    columns = repository_method(steps, "columns")(FIELDS)

    records = repository_method(steps, "all")()
    assert columns == [[record.get(field) for record in records] for field in FIELDS]
    assert by_uuid(columns) == {record["uuid"]: tuple(record.get(field) for field in FIELDS) for record in RECORDS}


def test_columns_give_each_value_as_stored_also_one_no_view_can_show(repository_class):
    odd = {"uuid": "s-odd", "name": 5, "status": "created", "pipeline_uuid": None, "created_at": 12}
    steps = saved(repository_class, [RECORDS[1], odd])

    columns = repository_method(steps, "columns")(["uuid", "name", "pipeline_uuid", "created_at", "position"])

    assert by_uuid(columns) == {
        "s-2": ("s-2", "Slow", "p-1", None, 1),
        "s-odd": ("s-odd", 5, None, 12, None),  # a database's text columns hold '5' and '12'; the record, 5 and 12
    }


def test_any_field_name_can_be_read(repository_class):
    steps = saved(repository_class, [{**RECORDS[1], 'a "quoted" key': True, "a.dot": 1}])

    columns = repository_method(steps, "columns")

    assert columns(["uuid", "a.dot"]) == [["s-2"], [1]]  # a path in a database's JSON would read a["dot"]
    assert columns(["uuid", 'a "quoted" key']) == [["s-2"], [True]]


def test_the_columns_of_an_empty_table_are_empty(repository_class):
    assert repository_method(repository_class(Metadata.PIPELINES_MODEL), "columns")(["uuid", "history"]) == [[], []]


def test_retries_timers_and_signals_come_back_as_the_records_hold_them(repository_class):
    with use_clock(FakeClock(START)):
        retried = durable.Upload(repository_class=repository_class)
        retried.start()  # attempt 1 raises: attempt 2 is due in 10 s
        approval = durable.SignalledApproval(repository_class=repository_class)
        approval.start()  # waits an hour, for a day at most
        approval.send("approval", {"by": "ann", "tags": ["a", 1, None]})
    found = {}
    for model, fields in ((Metadata.STEP_MODEL, DURABLE_STEP_FIELDS), (Metadata.PIPELINES_MODEL, DURABLE_RUN_FIELDS)):
        table = repository_class(model)
        columns = repository_method(table, "columns")(fields)
        assert columns == [[record.get(field) for record in repository_method(table, "all")()] for field in fields]
        found.update(by_uuid(columns))

    assert found[retried.record.step_uuids[0]] == (retried.record.step_uuids[0], 1, after(10), None, None, False)
    assert found[approval.record.step_uuids[0]] == (
        approval.record.step_uuids[0],
        1,
        after(3600),
        after(0),
        after(24 * 3600),
        True,
    )
    assert found[retried.uuid] == (retried.uuid, after(10), {}, None)
    assert found[approval.uuid] == (approval.uuid, None, {"approval": {"by": "ann", "tags": ["a", 1, None]}}, after(0))
