"""The notebooks are saved with their outputs: those outputs must not carry the machine they ran on."""

import json
import re
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
#: Absolute paths as any machine writes them: folders under the usual roots, a drive letter.
ABSOLUTE = re.compile(r"(?<![\w.~/-])(?:/(?:home|root|tmp|work|Users|var|opt|srv|mnt|private)/|[A-Za-z]:\\\\)")


def outputs(notebook: Path) -> str:
    """Every stored output of ``notebook`` (text, HTML, SVG, tracebacks), as one string."""
    cells = json.loads(notebook.read_text())["cells"]
    return json.dumps([cell.get("outputs", []) for cell in cells])


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) == 6


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_saved_outputs_carry_no_absolute_path(notebook):
    saved = outputs(notebook)
    here = [re.escape(f"{folder}/") for folder in {str(REPO_ROOT), str(Path.home()), tempfile.gettempdir()}]
    places = [match.start() for pattern in [ABSOLUTE, *here] for match in re.finditer(pattern, saved)]
    assert [saved[max(0, at - 30) : at + 50] for at in sorted(set(places))] == []
