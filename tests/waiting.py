"""Waiting in tests for something to become true: an observable state, never an amount of time."""

import time

#: Long enough for a loaded machine; reached only if what is awaited never happens.
PATIENCE = 300.0


def wait_for(condition, timeout: float = PATIENCE):
    """``condition()``'s first true value, polled until it comes; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out waiting for a condition"
        time.sleep(0.02)
    return found
