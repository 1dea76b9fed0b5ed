"""Process orchestration in pipelines of steps, with notebook views.

A drop-in for prorch 1.0.1: change the import root and its code runs.

>>> import prorch_nb as pn
>>> pn.Status.FINISHED
'finished'
"""

from prorch_nb.dataclasses.orchestrator import OrchestratorConfig, SavedItem
from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.dataclasses.step import StepData
from prorch_nb.decorators.decorators import register_pipeline, register_step
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.lifecycle import StatusChange, subscribe
from prorch_nb.mixins.on_continue import OnContinueMixin
from prorch_nb.mixins.on_start import OnStartMixin
from prorch_nb.orchestrator.orchestrator import Orchestrator
from prorch_nb.pipeline.pipeline import Pipeline
from prorch_nb.report import RunReport, TickOutcome, TickReport
from prorch_nb.repositories.memory import InMemoryRepository
from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.runs import batch, checkpoint, load_pipeline
from prorch_nb.step.step import Step
from prorch_nb.utils.constants import Metadata, Status

__version__ = "0.1.0"

__all__ = [
    "IRepository",
    "InMemoryRepository",
    "Metadata",
    "OnContinueMixin",
    "OnStartMixin",
    "Orchestrator",
    "OrchestratorConfig",
    "Pipeline",
    "PipelineData",
    "RunReport",
    "SavedItem",
    "Status",
    "StatusChange",
    "Step",
    "StepData",
    "TickOutcome",
    "TickReport",
    "TinyDBRepository",
    "batch",
    "checkpoint",
    "load_pipeline",
    "register_pipeline",
    "register_step",
    "subscribe",
]
