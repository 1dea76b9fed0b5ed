"""``prorch-nb`` on hostile input, run for real in a subprocess: malformed records, names no terminal can show.

``status`` leaves malformed records out and names them at the end; no command prints a
traceback because of what it prints: what the output's encoding lacks comes out as
``?``, control characters in stored names as escapes.
"""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from prorch_nb import TinyDBRepository
from tests.malformed_db import GOOD, PIPELINES, STEPS, good_steps, tinydb_file

ROOT = Path(__file__).resolve().parents[1]
#: The locale and encoding variables a test sets itself (the others are taken from the test's environment).
LOCALE = ("LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8", "NO_COLOR")
ASCII = {"PYTHONIOENCODING": "ascii", "LANG": "C"}
UTF8_STRICT = {"PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8"}

#: Names a JSON file may hold: glyphs, a lone surrogate (written "\\udcff" in the file), control characters.
GLYPHS, SURROGATE, CONTROLS = "Grüße ✓", "lone \udcff", "clear \x1b[2J, bell \x07"


def prorch_nb(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``python -m prorch_nb ARGS`` in ``cwd`` with ``env`` as its locale; output as bytes."""
    base = {key: value for key, value in os.environ.items() if key not in LOCALE}
    return subprocess.run(
        [sys.executable, "-m", "prorch_nb", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        timeout=60,
    )


def assert_clean_exit(result: subprocess.CompletedProcess, status: int = 0) -> None:
    assert result.returncode == status, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr


# Malformed records --------------------------------------------------------------------


def test_status_leaves_malformed_records_out_and_names_each_at_the_end(tmp_path):
    tinydb_file(tmp_path / "runs.json", PIPELINES, STEPS)
    result = prorch_nb("status", "--db", "runs.json", cwd=tmp_path, **UTF8_STRICT)
    assert_clean_exit(result)
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "2 pipelines in runs.json: 1 pending, 1 created"
    assert [line.split()[0] for line in lines[3:11]] == ["p-1", "1.", "2.", "3.", "p-2", "1.", "2.", "3."]
    assert lines[-7:] == [
        "",
        "skipped 5 malformed records in runs.json:",
        "  pipeline record #2 (no uuid): 'uuid' must be a string, got None",
        "  pipeline record #3 (uuid 'p-noname'): 'name' must be a string, got None",
        "  pipeline record #4 (uuid 'p-status'): 'status' must be a string, got 5",
        "  step record #4 (uuid 's-orphan'): 'pipeline_uuid' must be a string, got None",
        "  step record #8 (uuid 's-nostatus'): 'status' must be a string, got None",
    ]


def test_one_malformed_record_is_named_on_one_line_and_a_uuid_prefix_still_selects(tmp_path):
    tinydb_file(tmp_path / "one.json", [GOOD[0], {"name": "X", "status": "created"}], good_steps("p-1", ["pending"]))
    result = prorch_nb("status", "--db", "one.json", "--pipeline", "p-", cwd=tmp_path, **UTF8_STRICT)
    assert_clean_exit(result)
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "1 of 1 pipeline in one.json: 1 pending"
    skipped = "pipeline record #2 (no uuid): 'uuid' must be a string, got None"
    assert lines[-1] == f"skipped 1 malformed record in one.json: {skipped}"


def test_a_file_of_malformed_records_only_says_so(tmp_path):
    tinydb_file(tmp_path / "bad.json", [{"uuid": 1}], [])
    result = prorch_nb("status", "--db", "bad.json", cwd=tmp_path, **UTF8_STRICT)
    assert_clean_exit(result)
    assert result.stdout.decode().splitlines() == [
        "no pipelines in bad.json",
        "skipped 1 malformed record in bad.json: pipeline record #1 (no uuid): 'uuid' must be a string, got 1",
    ]


# Output encodings ---------------------------------------------------------------------


@pytest.fixture
def hostile_names(tmp_path):
    """A database whose names and error message no ASCII terminal can show, some no encoder at all."""
    pipeline = {**GOOD[0], "name": f"{GLYPHS} {SURROGATE}"}
    steps = good_steps("p-1", ["finished", "failed", "cancelled"])
    steps[0]["name"] = CONTROLS
    steps[1] |= {"name": SURROGATE, "error": {"type": "ValueError", "message": f"{GLYPHS} {SURROGATE}"}}
    steps[2]["history"].append({"status": "cancelled", "at": steps[2]["history"][0]["at"], "note": CONTROLS})
    path = tinydb_file(tmp_path / "names.json", [pipeline], steps)
    assert '"lone \\udcff' in path.read_text()  # as json.dumps writes a lone surrogate
    return path


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        (ASCII, [b"  Gr??e ? lone ?  ", b"x failed ", b"ValueError: Gr??e ? lone ?\n"]),
        (UTF8_STRICT, ["  Grüße ✓ lone ?  ".encode(), "✗ failed ".encode(), "ValueError: Grüße ✓ lone ?\n".encode()]),
        ({"LANG": "C", "LC_ALL": "C"}, [b"lone \xff"]),  # Python's C locale: UTF-8, lone surrogates as their byte
    ],
)
def test_status_prints_what_the_encoding_lacks_as_question_marks_and_escapes_controls(hostile_names, env, shown):
    result = prorch_nb("status", "--db", hostile_names.name, cwd=hostile_names.parent, **env)
    assert_clean_exit(result)
    assert result.stderr == b""
    for text in shown:
        assert text in result.stdout
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert rb"clear \x1b[2J, bell \x07" in result.stdout  # the step's name and the cancelled step's note
    if env is ASCII:
        assert max(result.stdout) < 128


def test_errors_stay_one_line_on_an_ascii_terminal(tmp_path):
    result = prorch_nb("status", "--db", "nowhere/données.json", cwd=tmp_path, **ASCII)
    assert_clean_exit(result, 2)
    assert result.stderr == b"prorch-nb: error: no database at nowhere/donn\\xe9es.json\n"


def test_demo_prints_a_path_it_cannot_encode(tmp_path):
    (tmp_path / "données").mkdir()
    result = prorch_nb("demo", "--db", "données/demo.json", cwd=tmp_path, **ASCII)
    assert_clean_exit(result)
    assert f"Demo database: {tmp_path}/donn?es/demo.json".encode() in result.stdout
    assert b"Run " in result.stdout and b" finished after " in result.stdout


WORKER_MODULE = """
from prorch_nb import OnStartMixin, Pipeline, Step, register_pipeline, register_step


@register_step
class Greets(OnStartMixin, Step):
    name = "Grüße ✓ \\udcff"

    def on_start(self):
        print("hook prints ✓ \\udcff")
        self.finish()


@register_step
class Fails(OnStartMixin, Step):
    name = "Fails ✗"

    def on_start(self):
        raise ValueError("kaputt ✗ \\udcff")


@register_pipeline
class Unicode(Pipeline):
    name = "Ünïcode ✓ \\udcff"
    steps = [Greets, Fails]
"""


def test_a_worker_prints_names_and_hook_output_it_cannot_encode(tmp_path):
    module = tmp_path / "unicode_pipes.py"
    module.write_text(WORKER_MODULE)
    db = tmp_path / "runs.json"
    runpy.run_path(str(module))["Unicode"](repository_class=TinyDBRepository.at(db)).start()
    result = prorch_nb("run", "--db", "runs.json", "--module", module.name, "--once", cwd=tmp_path, **ASCII)
    assert_clean_exit(result)
    assert b"?n?code ? ? " in result.stdout and b" failed)" in result.stdout
    assert b" error: " in result.stderr and b"kaputt \\u2717 \\udcff" in result.stderr
    assert json.loads(db.read_text()) is not None
