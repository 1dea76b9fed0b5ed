"""``Orchestrator.run_until_done`` in a background thread, so the kernel stays responsive.

The thread touches widgets only through the callbacks it is given, which assign traits
(a progress value, an HTML value). ipywidgets sends a trait change as a comm message
from whichever thread made it, and ipykernel's IOPub sending is thread-safe (a
dedicated IOPub thread since ipykernel 4.3; ipykernel 7.0.0 broke sends from threads,
fixed in 7.1): the pattern of the ipywidgets docs' "Updating a widget in the background".
Output widgets are not used from the thread: their capture follows whatever cell runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prorch_nb.notebook.widgets.log import capture_stdout
from prorch_nb.orchestrator.orchestrator import Orchestrator
from prorch_nb.report import RunReport, TickReport


class BackgroundRun:
    """One ``run_until_done`` in a daemon thread, stoppable between passes.

    ``on_pass(n, report)`` is called after each pass, ``on_output(text)`` with what hooks
    print in the thread, ``on_end(report, error)`` once at the end (``report`` is ``None``
    if the run raised ``error``). All are called in the thread and must not raise.
    """

    def __init__(
        self,
        orchestrator: Orchestrator,
        on_pass: Callable[[int, TickReport], None],
        on_output: Callable[[str], None],
        on_end: Callable[[RunReport | None, Exception | None], None],
    ) -> None:
        self._orchestrator = orchestrator
        self._on_pass, self._on_output, self._on_end = on_pass, on_output, on_end
        self._stop = threading.Event()
        self._started = threading.Event()
        self._finished = threading.Event()
        self.report: RunReport | None = None
        self.thread = threading.Thread(target=self._run, name="prorch-run-until-done", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._started.set()
        self.thread.start()

    def stop(self) -> None:
        """Ask the run to stop before its next pass (the pass under way finishes)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """Whether the run has started and not yet ended (``on_end`` already sees it ended)."""
        return self._started.is_set() and not self._finished.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _run(self) -> None:
        error: Exception | None = None
        try:
            with capture_stdout(self._on_output):
                self.report = self._orchestrator.run_until_done(on_tick=self._on_pass, should_stop=self._stop.is_set)
        except Exception as exc:  # handed to on_end, shown by the dashboard
            error = exc
        self._finished.set()
        self._on_end(self.report, error)
