"""How views write times, paths and repository names for people.

>>> format_time("2026-11-27T09:43:38.123456+00:00"), format_time(None)
('2026-11-27 09:43:38 UTC', '-')
>>> from datetime import datetime, timezone
>>> today = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
>>> short_time("2026-11-27T09:43:38+00:00", today), short_time("2026-11-28T09:43:38+00:00", today)
('09:43:38 UTC', '2026-11-28 09:43:38 UTC')
>>> import os
>>> shown_path(os.path.join(os.getcwd(), "runs", "db.json")) == os.path.join("runs", "db.json")
True
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime, timezone
from typing import Any

from prorch_nb.utils.clock import parse_time
from prorch_nb.utils.durations import UNKNOWN

#: How views write a time (always UTC, to the second).
TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
#: How views write a time of the current day (see :func:`short_time`).
CLOCK_FORMAT = "%H:%M:%S UTC"
#: The folder prorch_nb itself is imported from.
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: The file of each frame of a Python traceback, with the text around it.
_TRACEBACK_FILE = re.compile(r'(File ")([^"\n]+)(")')


def format_time(at: str | None) -> str:
    """A stored ISO-8601 time to the second, in UTC: ``2026-11-27 09:43:38 UTC`` (unreadable text as is)."""
    moment = parse_time(at)
    if moment is None:
        return at or UNKNOWN
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def short_time(at: str | None, now: datetime) -> str:
    """Like :func:`format_time`, without the date when it is the date of ``now`` (in UTC)."""
    moment = parse_time(at)
    if moment is None or moment.astimezone(timezone.utc).date() != now.astimezone(timezone.utc).date():
        return format_time(at)
    return moment.astimezone(timezone.utc).strftime(CLOCK_FORMAT)


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the working folder when it lies inside it; otherwise as it is."""
    absolute = os.path.abspath(path)
    inside = os.path.commonpath([absolute, os.getcwd()]) == os.getcwd()
    return os.path.relpath(absolute) if inside else os.fspath(path)


def repository_name(repository_class: Any) -> str:
    """How views name a repository: its file (see :func:`shown_path`), for one kept in a file; else its class's name."""
    path = getattr(repository_class, "path", None)
    if isinstance(path, (str, os.PathLike)):
        return shown_path(path)
    return getattr(repository_class, "__name__", repr(repository_class))


def readable_traceback(text: str) -> str:
    """A traceback with each file named without the machine's folders.

    A file inside the working folder is named relative to it, a module by its path from
    the folder Python imports it from (``prorch_nb/step/step.py``), a notebook cell as
    IPython names it (``Cell In[3]``), anything else by its name alone.

    >>> print(readable_traceback('  File "/nowhere/at/all/job.py", line 3, in run'))
      File "job.py", line 3, in run
    """
    return _TRACEBACK_FILE.sub(lambda match: f"{match[1]}{_short_file(match[2])}{match[3]}", text)


def _short_file(path: str) -> str:
    if not os.path.isabs(path):
        return path
    if os.path.commonpath([path, os.getcwd()]) == os.getcwd():
        return os.path.relpath(path)
    folders = [*sys.path, _PACKAGE_ROOT]  # an editable install imports prorch_nb from outside sys.path
    roots = [root for root in map(os.path.abspath, folders) if root and os.path.commonpath([path, root]) == root]
    if roots:
        return os.path.relpath(path, max(roots, key=len))
    return _notebook_cell(path) or os.path.basename(path)


def _notebook_cell(path: str) -> str | None:
    """``Cell In[3]`` for the file IPython compiled a cell into (as its own tracebacks say), in IPython only."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    number = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(path)
    return None if number is None else f"Cell In[{number}]"
