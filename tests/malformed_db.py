"""A TinyDB file written by hand: two good runs of ``Simple`` (one started) among malformed records.

Shared by the tests of the notebook views and of ``prorch-nb status``.
"""

import json

AT = "2026-01-01T00:00:0{}+00:00"


def good_steps(pipeline_uuid, statuses):
    names = ["Quick", "TwoPhase", "Quick"]
    return [
        {"uuid": f"{pipeline_uuid}-s{n}", "name": names[n], "pipeline_uuid": pipeline_uuid, "status": status}
        | {"position": n, "metadata": {}, "history": [{"status": status, "at": AT.format(n)}]}
        for n, status in enumerate(statuses)
    ]


def tinydb_file(path, pipelines, steps):
    """A TinyDB file holding these records as they are, documents numbered from 1."""
    tables = {"pipelines": pipelines, "pipeline_steps": steps}
    document = {
        table: {str(n): record for n, record in enumerate(records, start=1)} for table, records in tables.items()
    }
    path.write_text(json.dumps(document))
    return path


GOOD = [
    {
        "uuid": "p-1",
        "name": "Simple",
        "status": "pending",
        "metadata": {"current_step": "p-1-s0"},
        "created_at": AT.format(0),
    },
    {"uuid": "p-2", "name": "Simple", "status": "created", "metadata": {}, "created_at": AT.format(1)},
]
#: (pipeline records, step records) in file order; the malformed ones at these places.
PIPELINES = [
    GOOD[0],
    {"name": "NoUuid", "status": "created", "metadata": {}},
    {"uuid": "p-noname", "status": "created"},
    {"uuid": "p-status", "name": "Simple", "status": 5},
    GOOD[1],
]
STEPS = [
    *good_steps("p-1", ["pending", "created", "created"]),
    {"uuid": "s-orphan", "name": "Quick", "status": "created"},
    *good_steps("p-2", ["created", "created", "created"]),
    {"uuid": "s-nostatus", "name": "Quick", "pipeline_uuid": "p-1", "position": 7},
]
MALFORMED_PIPELINES = [
    "pipeline record #2 (no uuid): 'uuid' must be a string, got None",
    "pipeline record #3 (uuid 'p-noname'): 'name' must be a string, got None",
    "pipeline record #4 (uuid 'p-status'): 'status' must be",
]
MALFORMED_STEPS = [
    "step record #4 (uuid 's-orphan'): 'pipeline_uuid' must be a string, got None",
    "step record #8 (uuid 's-nostatus'): 'status' must be",
]
