"""Steps that retry, time out, wait and take signals, driven by the tests under a fake clock."""

import os
import signal

from prorch_nb import OnContinueMixin, OnStartMixin, Pipeline, Retry, Step, register_pipeline, register_step
from prorch_nb.utils.clock import as_datetime, utc_at

#: When the tests' fake clock starts (the ``clock`` fixture).
START = "2026-11-30T09:00:00+00:00"
#: How many attempts of ``FlakyUpload`` raise before one succeeds, by pipeline uuid (default: 2).
FAILURES: dict[str, int] = {}
#: Runs whose ``Crashes`` step no longer fails (the disk was cleaned up).
FIXED: set[str] = set()


def at(seconds: float) -> str:
    """The stored time ``seconds`` after START."""
    return utc_at(as_datetime(START).timestamp() + seconds)


def clear_flags() -> None:
    """Forget what earlier tests set in FAILURES and FIXED."""
    FAILURES.clear()
    FIXED.clear()


@register_step
class FlakyUpload(OnStartMixin, Step):
    name = "FlakyUpload"
    retry = Retry(max_attempts=4, interval=10, backoff=3, max_interval=60)

    def on_start(self):
        if self.attempts <= FAILURES.get(self.pipeline_uuid, 2):
            raise ConnectionError(f"upload refused on attempt {self.attempts}")
        self.metadata["uploaded_on"] = self.attempts
        self.finish()


@register_step
class PickyRetry(OnStartMixin, Step):
    """Retries ``ConnectionError`` only."""

    name = "PickyRetry"
    retry = Retry(max_attempts=5, interval=1, retry_if=lambda exc: isinstance(exc, ConnectionError))

    def on_start(self):
        raise (ConnectionError if self.attempts == 1 else PermissionError)(f"attempt {self.attempts}")


@register_step
class BrokenPredicate(OnStartMixin, Step):
    name = "BrokenPredicate"
    retry = Retry(retry_if=lambda exc: 1 / 0)

    def on_start(self):
        raise ConnectionError("down")


@register_step
class AwaitApproval(OnStartMixin, OnContinueMixin, Step):
    """Waits an hour at a time for an ``approval`` signal, for at most a day."""

    name = "AwaitApproval"
    timeout = 24 * 3600

    def on_start(self):
        self.wait(seconds=3600)

    def on_continue(self):
        self.metadata["checks"] = self.metadata.get("checks", 0) + 1
        approval = self.receive("approval")
        if approval is None:
            self.wait(seconds=3600)
            return
        self.metadata["approved_by"] = approval["by"]
        self.finish(approval.get("comment"))


@register_step
class Sleeper(OnStartMixin, OnContinueMixin, Step):
    """Waits until the time in the context's ``until``, then finishes."""

    name = "Sleeper"

    def on_start(self):
        self.wait(until=self.context["until"])

    def on_continue(self):
        self.finish()


@register_step
class Crashes(OnStartMixin, Step):
    """Fails until its run is in ``FIXED``."""

    name = "Crashes"

    def on_start(self):
        if self.pipeline_uuid not in FIXED:
            raise OSError("disk full")
        self.finish()


class DiesWhenRecorded(Exception):
    """An error whose recording kills the process: the attempt failed, and its record is never written."""

    def __str__(self) -> str:
        os.kill(os.getpid(), signal.SIGKILL)
        return "unreachable"


@register_step
class KilledOnce(OnStartMixin, Step):
    """Attempt 1 fails and its worker is killed before recording it; attempt 2 succeeds."""

    name = "KilledOnce"
    retry = Retry(max_attempts=3, interval=0)

    def on_start(self):
        if self.attempts == 1:
            raise DiesWhenRecorded()
        self.finish()


@register_step
class KilledAlways(OnStartMixin, Step):
    """Every attempt's worker is killed inside the hook."""

    name = "KilledAlways"
    retry = Retry(max_attempts=2, interval=0)

    def on_start(self):
        os.kill(os.getpid(), signal.SIGKILL)


@register_step
class Impatient(OnStartMixin, OnContinueMixin, Step):
    """Waits an hour, but times out a minute after its start."""

    name = "Impatient"
    timeout = 60

    def on_start(self):
        self.wait(seconds=3600)

    def on_continue(self):
        self.finish()


@register_step
class WaitsWithoutContinue(OnStartMixin, Step):
    """Calls wait() though nothing would run when the wait ends."""

    name = "WaitsWithoutContinue"

    def on_start(self):
        self.wait(seconds=60)


@register_step
class WaitsForJunk(OnStartMixin, OnContinueMixin, Step):
    name = "WaitsForJunk"

    def on_start(self):
        self.wait(until=self.context["until"])

    def on_continue(self):
        self.finish()


# Pipelines of one or two of the steps above, each under its class name.


def _pipeline(name: str, *steps: type[Step]) -> type[Pipeline]:
    """A registered pipeline class ``name`` of ``steps``."""
    return register_pipeline(type(name, (Pipeline,), {"name": name, "steps": list(steps)}))


Hurried = _pipeline("Hurried", Impatient)
KillOnce = _pipeline("KillOnce", KilledOnce)
KillAlways = _pipeline("KillAlways", KilledAlways)
Upload = _pipeline("Upload", FlakyUpload)
Picky = _pipeline("Picky", PickyRetry)
Predicate = _pipeline("Predicate", BrokenPredicate)
SignalledApproval = _pipeline("SignalledApproval", AwaitApproval)
Timer = _pipeline("Timer", Sleeper)
Resumable = _pipeline("Resumable", Crashes, FlakyUpload)
BadWaits = _pipeline("BadWaits", WaitsWithoutContinue)
JunkWait = _pipeline("JunkWait", WaitsForJunk)
