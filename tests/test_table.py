"""The indexed in-memory table under the bundled stores: indexes follow every change, and rows cost the GC nothing."""

import gc

from prorch_nb.repositories.table import IndexedTable


def row(number: int, status: str = "created", **extra) -> dict:
    return {"uuid": f"u{number}", "name": "Step", "status": status, "pipeline_uuid": f"p{number // 3}", **extra}


def test_indexes_follow_inserts_updates_new_fields_renamed_uuids_and_removals():
    table = IndexedTable()
    for number in range(6):
        table.insert(row(number))

    table.update("u1", {"status": "pending"})  # other fields than stored: merged into the row
    table.update("u2", row(2, "finished"))  # the same fields: replaced as they are
    table.update("u3", {"note": "new field", "status": "failed"})
    table.put("u4", row(44, "cancelled"))  # the record u4 now holds uuid u44
    table.restore(table.doc_id_of("u5"), None)

    assert [r["uuid"] for r in table.search("status", "created")] == ["u0"]
    assert table.search_uuids("status", "pending") == ["u1"] and table.status_of("u1") == "pending"
    assert table.get("u2") == row(2, "finished") and table.get("u3")["note"] == "new field"
    assert table.search_uuids("pipeline_uuid", "p14") == ["u44"] and table.get("u4") is None
    assert table.status_of("u5") is None and table.search_uuids("pipeline_uuid", "p1") == ["u3"]
    assert table.search_uuids("note", "new field") == ["u3"]  # not indexed: found by reading the rows
    assert len(table) == 5


def test_a_large_table_leaves_the_garbage_collector_nothing_to_track_per_row():
    table = IndexedTable()
    gc.collect()
    tracked = len(gc.get_objects())

    for number in range(10_000):
        table.insert(row(number, metadata={"size": number}, history=[{"status": "created"}]))
    gc.collect()

    assert len(gc.get_objects()) - tracked < 1_000  # one object per row would be 10,000


def test_columns_come_from_the_facts_and_a_value_indexed_by_its_repr_from_its_row():
    table = IndexedTable()
    table.insert(row(0))
    table.insert({"uuid": "u1", "name": ["a", "list"], "status": {"not": "a status"}})  # and no pipeline_uuid
    table.insert(row(2, created_at="2026-01-01T00:00:00+00:00"))

    assert table.columns(["uuid", "name", "status", "pipeline_uuid"]) == [
        ["u0", "u1", "u2"],
        ["Step", ["a", "list"], "Step"],
        ["created", {"not": "a status"}, "created"],
        ["p0", None, "p0"],
    ]
    assert table.columns(["created_at"]) == [[None, None, "2026-01-01T00:00:00+00:00"]]
    assert table.search_uuids("name", ["a", "list"]) == ["u1"]  # still found by its value


def test_the_runs_due_first_follow_every_change_of_due_at_and_status():
    def t(hours_minutes):
        return f"2026-11-30T{hours_minutes}:00.000000+00:00"

    table = IndexedTable()
    for number, due in enumerate([t("09:05"), t("09:01"), None, t("09:03"), 930, t("09:02"), "soon"]):
        table.insert(row(number, "pending", due_at=due))  # 930, "soon": no times, never due first
    assert table.soonest_due(3) == [("u1", t("09:01")), ("u5", t("09:02")), ("u3", t("09:03"))]

    table.update("u1", {"due_at": None})  # a signal woke it: due at every pass
    table.update("u5", {"status": "finished"})  # ended: no longer waits
    table.update("u2", row(2, "pending", due_at=t("09:00")))  # began to wait
    table.restore(table.doc_id_of("u3"), None)  # taken out
    table.put("u0", row(0, "pending", due_at=t("09:04")))  # written again, in its place
    assert table.soonest_due(10) == [("u2", t("09:00")), ("u0", t("09:04"))]
    assert table.soonest_due(1) == [("u2", t("09:00"))] and IndexedTable().soonest_due(5) == []
