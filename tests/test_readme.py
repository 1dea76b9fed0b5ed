"""The README's code runs as written, and its two commands are the ones CI uses."""

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quick_start_runs_and_finishes(tmp_path):
    (quick_start,) = blocks("python")
    result = subprocess.run(
        [sys.executable, "-c", quick_start],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Starting the backup generation process.",
        "Backup generation completed.",
        "Transferring /backups/1.tar",
        "pass 1: <TickReport: 1 ticked, 1 advanced, 0 ended, 0 failed, 0 errors>",
    ]
    assert "stopped: no pipeline is pending" in lines
    assert (tmp_path / "quickstart.json").exists()


def test_two_commands_demo_then_tests():
    demo, tests = blocks("bash")
    assert demo.strip().endswith("prorch-nb demo")
    assert tests.strip().endswith("python -m pytest")
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert tests.strip() in ci  # CI runs it word for word
