"""The text reprs of pipeline classes and runs: plain text, no notebook layer needed.

>>> from prorch_nb.dataclasses.pipeline import PipelineData
>>> from prorch_nb.dataclasses.step import StepData
>>> record = PipelineData(uuid="1f2e3a4b-0c1d", name="Backup", metadata={}, status="pending")
>>> steps = [StepData(uuid=u, name=n, pipeline_uuid=record.uuid, metadata={}, status=s)
...          for u, n, s in [("a", "Generate", "finished"), ("b", "Transfer", "pending")]]
>>> run_text("BackupPipeline", record, steps)
'<BackupPipeline 1f2e3a4b pending: ✓ Generate → ▶ Transfer>'
>>> steps[1].due_at = "2999-01-01T00:00:00.000000+00:00"  # waits for a time (a timer, a retry)
>>> run_text("BackupPipeline", record, steps)
'<BackupPipeline 1f2e3a4b pending: ✓ Generate → ⏳ Transfer>'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prorch_nb.store import Store
from prorch_nb.styles import step_glyph
from prorch_nb.utils.clock import now_datetime
from prorch_nb.utils.uuids import short_uuid

if TYPE_CHECKING:
    from prorch_nb.dataclasses.pipeline import PipelineData
    from prorch_nb.dataclasses.step import StepData
    from prorch_nb.pipeline.pipeline import Pipeline


def run_text(name: str, record: PipelineData, steps: list[StepData]) -> str:
    """``<Name uuid8 status: ✓ StepA → ▶ StepB → · StepC>``; ``⏳`` marks a step that waits for a time now."""
    now = now_datetime()
    flow = " → ".join(f"{step_glyph(record, step, now)} {step.name}" for step in steps)
    return f"<{name} {short_uuid(record.uuid)} {record.status}{': ' + flow if flow else ''}>"


def pipeline_repr(pipeline: Pipeline) -> str:
    """The text repr of a run, read now; ``<Name uuid8 status>`` if reading fails. Never raises."""
    name = type(pipeline).__name__
    record = getattr(pipeline, "_record", None)
    if record is None:
        return f"<{name} (no record)>"
    try:
        return run_text(name, *Store(pipeline.repository_class).read_run(pipeline.uuid))
    except Exception:  # a repr must never raise: fall back to what this object holds
        return f"<{name} {short_uuid(record.uuid)} {record.status}>"


def definition_text(pipeline_class: type[Pipeline]) -> str:
    """``<Name pipeline: StepA → StepB → StepC>``."""
    names = " → ".join(step.name or "" for step in pipeline_class.step_classes())
    return f"<{pipeline_class.__name__} pipeline: {names}>"
