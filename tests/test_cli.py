"""The prorch-nb command line, run for real: in subprocesses and in-process through main()."""

import json
import os
import pty
import re
import runpy
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import prorch_nb
from prorch_nb import Status, StopReason, TinyDBRepository
from prorch_nb.cli import main
from prorch_nb.examples.backup import BackupAutomationPipeline
from prorch_nb.exceptions.exceptions import StepHookError
from prorch_nb.store import Store
from tests.pipelines import Approval, Broken, Simple
from tests.waiting import wait_for

#: A stored time as the CLI shows it: in the local zone, ISO-8601 with its offset.
LOCAL_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"

ROOT = Path(__file__).resolve().parents[1]
GLYPHS = "✓▶·✗⊘"

#: The user's module for `run`: one pipeline that finishes, one whose step raises.
USER_MODULE = """
from prorch_nb import OnStartMixin, Pipeline, Step, register_pipeline, register_step


@register_step
class CliHello(OnStartMixin, Step):
    name = "CliHello"

    def on_start(self):
        print("hello from", self.pipeline_uuid[:8])
        self.finish()


@register_step
class CliBoom(OnStartMixin, Step):
    name = "CliBoom"

    def on_start(self):
        raise ValueError("disk full")


@register_pipeline
class CliGreet(Pipeline):
    name = "CliGreet"
    steps = [CliHello, CliHello]


@register_pipeline
class CliCrash(Pipeline):
    name = "CliCrash"
    steps = [CliHello, CliBoom, CliHello]
"""


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m prorch_nb ARGS` in `cwd`, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "prorch_nb", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def read_back(db: Path) -> list[tuple[str, str, list[str]]]:
    """(name, status, step statuses) of every pipeline in `db`, oldest first."""
    store = Store(TinyDBRepository.at(db))
    return [(p.name, p.status, [s.status for s in store.steps_of(p.uuid)]) for p in store.all_pipelines()]


# demo ---------------------------------------------------------------------------------


def test_demo_runs_the_backup_pipeline_to_its_end(tmp_path):
    result = cli("demo", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Demo database: {tmp_path / 'demo.json'}" in out
    assert "tick 1: run.start()" in out
    assert "Starting the backup generation process." in out  # the hooks' own lines
    assert "Notifying: backup /backups/" in out
    assert re.search(r"tick 4: .*\n  -> BackupAutomationPipeline \w{8}: ended finished", out)
    assert "\x1b" not in out  # not a terminal: no colour
    table = out[out.index("  #  NAME") :]
    time_ = r"\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"  # time of day, with the zone's offset
    for name in ["BackupAutomationPipeline", "BackupGeneration", "BackupTransfer", "ProcessCompletionNotification"]:
        row = rf"^ .*{name}\s+✓ finished  {time_}  {time_}  [\d.]+ m?s$"  # started, ended, duration
        assert re.search(row, table, re.MULTILINE), table
    assert read_back(tmp_path / "demo.json") == [("BackupAutomationPipeline", Status.FINISHED, [Status.FINISHED] * 3)]


def test_demo_adds_a_new_run_and_keeps_the_earlier_ones(tmp_path, capsys):
    db = tmp_path / "runs" / "demo.json"
    db.parent.mkdir()
    assert main(["demo", "--db", str(db)]) == 0
    assert main(["demo", "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert "(keeping 1 earlier run)" in out
    assert [status for _, status, _ in read_back(db)] == [Status.FINISHED, Status.FINISHED]


# status -------------------------------------------------------------------------------


@pytest.fixture
def mixed_db(tmp_path):
    """A database with a finished, a waiting (pending) and a failed run, in that order."""
    db = tmp_path / "mixed.json"
    repository_class = TinyDBRepository.at(db)
    finished, waiting, failed = (cls(repository_class=repository_class) for cls in (Simple, Approval, Broken))
    for _ in range(4):
        finished.start()
    waiting.start()
    waiting.start()
    failed.start()
    with pytest.raises(StepHookError):
        failed.start()
    failed.start()
    return db, finished, waiting, failed


def test_status_shows_pipelines_and_their_steps_aligned(mixed_db, capsys):
    db, finished, waiting, failed = mixed_db
    assert main(["status", "--db", str(db)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"3 pipelines in {db}: ")
    assert set(lines[0].split(": ", 1)[1].split(", ")) == {"1 finished", "1 pending", "1 failed"}
    header = lines[2]
    assert header.split() == ["PIPELINE", "NAME", "STATUS", "CURRENT", "STEP", "CREATED", "UPDATED"]
    rows = {
        run.uuid[:8]: next(i for i, line in enumerate(lines) if line.startswith(run.uuid[:8]))
        for run in (finished, waiting, failed)
    }
    for run, expected in [(finished, "✓ finished"), (waiting, "▶ pending"), (failed, "✗ failed")]:
        line = lines[rows[run.uuid[:8]]]
        assert line[header.index("STATUS") :].startswith(expected)
        assert line[header.index("NAME") :].startswith(run.name)
        assert re.fullmatch(LOCAL_TIME, line[header.index("CREATED") :][:25])
    assert lines[rows[waiting.uuid[:8]]][header.index("CURRENT STEP") :].startswith("WaitForApproval ")

    failed_steps = lines[rows[failed.uuid[:8]] + 1 : rows[failed.uuid[:8]] + 4]
    assert [line.split()[:4] for line in failed_steps] == [
        ["1.", "Quick", "✓", "finished"],
        ["2.", "Explodes", "✗", "failed"],
        ["3.", "Quick", "·", "created"],
    ]
    assert failed_steps[1].endswith("failed    ValueError: disk full")
    step_lines = [line for line in lines[3:] if line.startswith(" ")]
    assert len(step_lines) == 9
    assert len({line.index(line.split()[2]) for line in step_lines}) == 1  # one status column for all steps
    assert not any("\x1b" in line for line in lines)


def test_status_of_one_pipeline_by_uuid_prefix(mixed_db, capsys):
    db, finished, _, failed = mixed_db
    assert main(["status", "--db", str(db), "--pipeline", failed.uuid[:6]]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"1 of 3 pipelines in {db}: 1 failed")
    assert failed.uuid[:8] in out
    assert finished.uuid[:8] not in out


def test_status_and_demo_times_carry_the_local_zone(mixed_db, tmp_path):
    db, finished, _, _ = mixed_db
    zone = {"TZ": "XYZ-5:30"}  # a POSIX zone five and a half hours east of UTC

    status = cli("status", "--db", str(db), "--pipeline", finished.uuid, cwd=tmp_path, **zone)
    demo = cli("demo", cwd=tmp_path, **zone)

    created = datetime.fromisoformat(finished.record.created_at).astimezone(timezone(timedelta(hours=5, minutes=30)))
    row = next(line for line in status.stdout.splitlines() if line.startswith(finished.uuid[:8]))
    assert created.isoformat(timespec="seconds") in row
    assert re.search(r"BackupTransfer\s+✓ finished  \d\d:\d\d:\d\d\.\d{3}\+05:30  ", demo.stdout)


@pytest.mark.parametrize("content", ["{}", '{"pipelines": {}, "pipeline_steps": {}}'])
def test_status_of_an_empty_database(tmp_path, content):
    (tmp_path / "empty.json").write_text(content)
    result = cli("status", "--db", "empty.json", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "no pipelines in empty.json\n", "")


def test_status_reads_a_database_written_by_prorch_1_0_1(tmp_path, capsys):
    """Seed records: no positions, timestamps or history; steps keep their storage order."""
    step = {"pipeline_uuid": "0a0a0a0a-1", "metadata": {}}
    tables = {
        "pipelines": {
            "1": {"uuid": "0a0a0a0a-1", "name": "Old", "metadata": {"current_step": "s2"}, "status": "pending"}
        },
        "pipeline_steps": {
            "1": {**step, "uuid": "s1", "name": "First", "status": "finished"},
            "2": {**step, "uuid": "s2", "name": "Second", "status": "pending"},
        },
    }
    (tmp_path / "database.json").write_text(json.dumps(tables))
    assert main(["status", "--db", str(tmp_path / "database.json")]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[3].split() == ["0a0a0a0a", "Old", "▶", "pending", "Second", "-", "-"]
    assert [line.split()[1] for line in lines[4:]] == ["First", "Second"]


def run_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Output of the CLI with its stdout on a pseudo-terminal."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "prorch_nb", *args], cwd=cwd, env=env, stdout=terminal, stderr=subprocess.PIPE
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    return b"".join(chunks).decode()


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_status_colours_only_a_terminal_without_no_color(mixed_db, no_color, coloured):
    db = mixed_db[0]
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    if no_color:
        env["NO_COLOR"] = no_color
    out = run_on_a_terminal(["status", "--db", str(db)], db.parent, env)

    assert ("\x1b[" in out) is coloured
    assert re.search(r"(\x1b\[[\d;]+m)?✗ failed(\x1b\[0m)?", out)


def test_status_falls_back_to_ascii_glyphs(mixed_db):
    db = mixed_db[0]
    result = cli("status", "--db", str(db), cwd=db.parent, PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr
    assert "x failed" in result.stdout and "+ finished" in result.stdout
    assert not set(GLYPHS) & set(result.stdout)


# run ----------------------------------------------------------------------------------


@pytest.fixture
def worker_db(tmp_path):
    """The user's module in tmp_path, and a database with two started runs and one never started."""
    module = tmp_path / "cli_pipes.py"
    module.write_text(USER_MODULE)
    pipelines = runpy.run_path(str(module))
    repository_class = TinyDBRepository.at(tmp_path / "work.json")
    for name in ("CliGreet", "CliCrash"):
        pipelines[name](repository_class=repository_class).start()
    pipelines["CliGreet"](repository_class=repository_class)  # created: the worker leaves it alone
    yield tmp_path / "work.json", module, pipelines
    sys.modules.pop("cli_pipes", None)


EXPECTED_AFTER_RUN = [
    ("CliGreet", Status.FINISHED, [Status.FINISHED] * 2),
    ("CliCrash", Status.FAILED, [Status.FINISHED, Status.FAILED, Status.CREATED]),
    ("CliGreet", Status.CREATED, [Status.CREATED] * 2),
]


def test_run_once_with_a_module_file_ends_every_pending_run(worker_db):
    db, module, _ = worker_db
    result = cli("run", "--db", db.name, "--module", str(module), "--once", cwd=db.parent)

    assert result.returncode == 0, result.stderr
    assert "hello from" in result.stdout
    summary = result.stdout.splitlines()[-2]
    assert summary.endswith("done: 2 passes, 2 ended, 1 error; stopped because no pipeline is pending")
    assert re.search(
        r"pass 2: 2 ticked, 0 advanced, 2 ended \(CliGreet \w{8} finished, CliCrash \w{8} failed\)", result.stdout
    )
    [error] = result.stderr.splitlines()  # the hook's error is reported, and the worker goes on
    assert "error: CliCrash" in error and "on_start() raised ValueError: disk full" in error
    assert read_back(db) == EXPECTED_AFTER_RUN


def test_run_once_says_how_many_runs_are_left_created_and_how_to_start_them(worker_db):
    db, module, _ = worker_db
    result = cli("run", "--db", db.name, "--module", str(module), "--once", cwd=db.parent)

    note = result.stdout.splitlines()[-1]
    assert " 1 run left created: a worker ticks pending runs only. " in note
    start = note[note.index("prorch_nb.load_pipeline(") :]
    subprocess.run([sys.executable, "-c", f"import cli_pipes, prorch_nb; {start}"], cwd=db.parent, check=True)
    assert [status for _, status, _ in read_back(db)] == [Status.FINISHED, Status.FAILED, Status.PENDING]


def test_run_once_shows_every_pass_it_counts(tmp_path):
    run = Approval(repository_class=TinyDBRepository.at(tmp_path / "wait.json"))
    run.start()  # its second step waits for an approval: the second pass changes nothing

    result = cli("run", "--db", str(tmp_path / "wait.json"), "--module", "tests.pipelines", "--once", cwd=ROOT)

    lines = result.stdout.splitlines()
    assert [re.search(r" (pass \d+): ", line)[1] for line in lines[:-1]] == ["pass 1", "pass 2"]
    assert lines[-1].endswith(f"done: 2 passes, 0 ended, 0 errors; stopped because {StopReason.WAITING}")


def test_run_once_names_the_error_of_a_pass_that_changed_nothing(error_setup):
    (error_setup / "pipes.py").write_text(USER_MODULE)
    result = cli(*RUN, "pipes.py", "--once", cwd=error_setup)

    summary = result.stdout.splitlines()[-1]
    assert f"stopped because {StopReason.ERRORS} (X abc1: NotRegisteredError: pipeline name 'X'" in summary
    assert "waiting" not in summary and result.returncode == 0


def test_the_demo_pipeline_is_not_registered_in_a_users_worker(worker_db):
    db, module, _ = worker_db
    BackupAutomationPipeline(repository_class=TinyDBRepository.at(db)).start()

    result = cli("run", "--db", db.name, "--module", str(module), "--once", cwd=db.parent)

    [error] = [line for line in result.stderr.splitlines() if "BackupAutomationPipeline" in line][:1]
    assert error.endswith(
        "is not registered in this process; import the module that defines it with "
        "@register_pipeline. Registered pipelines: CliCrash, CliGreet"
    )


@pytest.mark.parametrize(("module", "status"), [("cli_pipes.py", 1), ("tests.pipelines", 0)])
def test_run_with_fail_on_error_exits_1_if_a_run_failed_or_a_pass_reported_errors(worker_db, module, status):
    db, _, _ = worker_db
    if module == "tests.pipelines":  # a database whose runs all finish
        db = db.parent / "fine.json"
        Simple(repository_class=TinyDBRepository.at(db)).start()

    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{db.parent}"}
    result = cli("run", "--db", str(db), "--module", module, "--once", "--fail-on-error", cwd=db.parent, **env)

    assert result.returncode == status, result.stderr
    assert read_back(db)[0][1] == Status.FINISHED


def test_run_once_with_a_dotted_module_name_from_the_current_folder(worker_db, monkeypatch, capsys):
    db, _, _ = worker_db
    monkeypatch.chdir(db.parent)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["run", "--db", db.name, "--module", "cli_pipes", "--once", "--max-ticks", "1"]) == 0

    assert (
        capsys.readouterr()
        .out.splitlines()[-2]
        .endswith("done: 1 pass, 0 ended, 1 error; stopped because it made max_ticks passes")
    )
    assert [status for _, status, _ in read_back(db)] == [Status.PENDING, Status.PENDING, Status.CREATED]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_loops_until_a_signal_stops_it(worker_db, signum):
    db, module, pipelines = worker_db
    worker = subprocess.Popen(
        [sys.executable, "-m", "prorch_nb", "run", "--db", str(db), "--module", str(module), "--interval", "0.2"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: read_back(db) == EXPECTED_AFTER_RUN)
        later = pipelines["CliGreet"](repository_class=TinyDBRepository.at(db))
        later.start()  # work that arrives while the worker sleeps is done in a later round
        wait_for(lambda: later.refresh().status == Status.FINISHED)
        wait_for(lambda: not Path(f"{db}.journal").exists())  # an idle worker folds the journal in
        on_disk = json.loads(db.read_text())["pipelines"].values()
        assert {record["uuid"]: record["status"] for record in on_disk}[later.uuid] == Status.FINISHED
        worker.send_signal(signum)
        out, err = worker.communicate(timeout=300)
    finally:
        worker.kill()

    assert worker.returncode == 0, err
    lines = out.splitlines()
    assert "orchestrating" in lines[0]
    assert lines[-1].endswith(" stopped")
    assert len([line for line in lines if " ended (" in line]) == 2  # the first runs, then the later one
    assert "ValueError: disk full" in err and "Traceback" not in err


def test_a_worker_with_a_waiting_run_keeps_the_file_alone_current_round_after_round(tmp_path):
    db = tmp_path / "wait.json"
    run = Approval(repository_class=TinyDBRepository.at(db))
    run.start()  # its second step now waits for an approval that never comes in the worker

    def in_file_alone() -> tuple[str, int]:
        """The run's status and its waiting step's checks, as plain TinyDB reads the file."""
        tables = json.loads(db.read_text())
        steps = sorted(tables["pipeline_steps"].values(), key=lambda step: step["position"])
        record = next(r for r in tables["pipelines"].values() if r["uuid"] == run.uuid)
        return record["status"], steps[1]["metadata"].get("checks", 0)

    worker = subprocess.Popen(
        [sys.executable, "-m", "prorch_nb", "run", "--db", str(db), "--module", "tests.pipelines", "--interval", ".05"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: in_file_alone()[1] >= 3)  # rounds over a waiting run: each one folds what it committed
        run.end_current_step(Status.FINISHED, "approved")
        wait_for(lambda: in_file_alone()[0] == Status.FINISHED)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=300)
    finally:
        worker.kill()
    assert worker.returncode == 0, err


HANGING_MODULE = """
import os, pathlib, signal, time
from prorch_nb import OnStartMixin, Pipeline, Step, register_pipeline, register_step


@register_step
class Ready(OnStartMixin, Step):
    name = "Ready"

    def on_start(self):
        self.finish()


@register_step
class Hang(OnStartMixin, Step):
    name = "Hang"

    def on_start(self):
        worker_handler = signal.getsignal(signal.SIGINT)

        def telling(signum, frame):  # says when the worker's handler runs, so the test knows a Ctrl-C arrived
            os.write(1, b"SIGINT\\n")
            worker_handler(signum, frame)

        signal.signal(signal.SIGINT, telling)
        print("Hang.on_start", flush=True)
        while pathlib.Path("hang").exists():
            if pathlib.Path("ping").exists():  # the test asks whether the hook is still running
                pathlib.Path("ping").unlink()
                print("still hanging", flush=True)
            time.sleep(0.01)
        self.finish()


@register_pipeline
class Hangs(Pipeline):
    name = "Hangs"
    steps = [Ready, Hang]
"""


def test_second_ctrl_c_interrupts_a_hanging_hook_and_the_next_worker_resumes(tmp_path):
    (tmp_path / "hangs.py").write_text(HANGING_MODULE)
    (tmp_path / "hang").touch()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    create = "import hangs, prorch_nb as pn; hangs.Hangs(repository_class=pn.TinyDBRepository.at('runs.json')).start()"
    subprocess.run([sys.executable, "-c", create], cwd=tmp_path, env=env, check=True, timeout=300)
    command = [sys.executable, "-m", "prorch_nb", "run", "--db", "runs.json", "--module", "hangs.py"]
    worker = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "orchestrating" in worker.stdout.readline()
        assert worker.stdout.readline() == "Hang.on_start\n"
        worker.send_signal(signal.SIGINT)  # the first asks to stop after the pass: the hook still hangs
        assert worker.stdout.readline() == "SIGINT\n"  # handled (a second one sent earlier could merge with it)
        (tmp_path / "ping").touch()
        assert worker.stdout.readline() == "still hanging\n"  # after the worker's handler returned
        worker.send_signal(signal.SIGINT)
        _, err = worker.communicate(timeout=300)
    finally:
        worker.kill()
    assert worker.returncode == 130
    assert err.splitlines() == ["prorch-nb: interrupted during a pass; the next worker resumes its run"]

    (tmp_path / "hang").unlink()
    resumed = cli(
        "run", "--db", "runs.json", "--module", "hangs.py", "--once", cwd=tmp_path, PYTHONPATH=env["PYTHONPATH"]
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "Hang.on_start" in resumed.stdout  # at least once: the interrupted on_start runs again
    assert [status for _, status, _ in read_back(tmp_path / "runs.json")] == [Status.FINISHED]


# errors -------------------------------------------------------------------------------


@pytest.fixture
def error_setup(tmp_path):
    (tmp_path / "db.json").write_text(
        json.dumps({"pipelines": {str(n): {"uuid": f"abc{n}", "name": "X", "status": "pending"} for n in (1, 2)}})
    )
    (tmp_path / "bad.json").write_text('{"pipelines": {"1": ')
    (tmp_path / "binary.json").write_bytes(bytes([0, 5, 0xD8, 0]) * 64 + b"\xff")  # json.loads: a utf-16-be codec error
    (tmp_path / "broken.py").write_text('raise RuntimeError("boom")\n')
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "json.py").write_text(USER_MODULE)
    return tmp_path


RUN = ["run", "--db", "db.json", "--module"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frob"], "invalid choice: 'frob'"),
        (["status"], "the following arguments are required: --db"),
        (["run", "--db", "db.json"], "the following arguments are required: --module"),
        ([*RUN, "m", "--interval", "0"], "--interval: expected a positive number of seconds, got '0'"),
        ([*RUN, "m", "--max-ticks", "many"], "--max-ticks: expected a positive whole number"),
        (["status", "--db", "missing.json"], "no database at missing.json"),
        (["run", "--db", "missing.json", "--module", "m"], "no database at missing.json; create runs first"),
        (["status", "--db", "bad.json"], "bad.json: not valid JSON"),
        (
            ["status", "--db", "binary.json"],
            "binary.json: not valid JSON, a binary file, not text (byte 0x00 at offset 0)",
        ),
        (["demo", "--db", "bad.json"], "bad.json: not valid JSON"),
        (["demo", "--db", "nowhere/demo.json"], "there is no folder nowhere"),
        (["status", "--db", "db.json", "--pipeline", "fff"], "no pipeline whose uuid starts with 'fff'"),
        (["status", "--db", "db.json", "--pipeline", "abc"], "'abc' matches 2 pipelines"),
        ([*RUN, "broken.py"], "cannot import broken.py: RuntimeError: boom"),
        ([*RUN, "syntax"], "cannot import syntax: SyntaxError: invalid syntax"),
        ([*RUN, "no_such_module"], "cannot import no_such_module: ModuleNotFoundError: No module named"),
        ([*RUN, "missing.py"], "no module file missing.py"),
        ([*RUN, "sub/json.py"], "a module named 'json' is already loaded"),
    ],
)
def test_errors_exit_2_with_one_line(error_setup, args, message):
    corrupt = (error_setup / "bad.json").read_bytes()
    result = cli(*args, cwd=error_setup)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("prorch-nb: error: ")
    assert message in line
    assert result.stdout == ""
    assert (error_setup / "bad.json").read_bytes() == corrupt


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"prorch-nb {prorch_nb.__version__}\n"
    assert main(["run", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--once" in help_text and "exit status" in help_text and "SIGINT" in help_text


def test_run_help_is_wrapped_to_the_terminal_and_documents_fail_on_error(tmp_path):
    result = cli("run", "--help", cwd=tmp_path, COLUMNS="80")

    assert result.returncode == 0 and "--fail-on-error" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "  1  `run --fail-on-error`: a run failed or a pass reported errors" in result.stdout
