"""Process orchestration in pipelines of steps, with notebook views.

A drop-in for prorch 1.0.1: change the import root and its code runs.

>>> import prorch_nb as pn
>>> pn.Status.FINISHED
'finished'

Where things are (imports point down this list: the engine never imports the views)

============================  ==============================================================
``notebook/``                 views: Graphviz diagrams, pandas frames, ipywidgets panels
``display.py``                the Jupyter shim of engine objects (views imported when shown)
``cli/``                      ``prorch-nb``: demo, status, run (the worker), checkpoint, copy
``repositories/``             stores: TinyDB file (journal, checkpoints), in-memory, SQL
``orchestrator/``             :class:`Orchestrator`: passes over the pending runs
``pipeline/``, ``step/``      :class:`Pipeline` (a run per instance, its tick), :class:`Step`
``mixins/``, ``decorators/``  the seed's hook mixins and registration decorators
``lifecycle.py``              the one write path for status changes (history, listeners)
``store.py``                  the engine's gateway to a repository class: typed records
``claims.py``, ``leases.py``  which worker runs a step's hooks, until when; renewing leases
``registry.py``, ``runs.py``  registered names; loading and checkpointing stored runs
``copying.py``                copying runs from one repository to another
``reprs.py``                  the text of runs and pipeline classes in a terminal
``record_checks.py``          records views and the CLI cannot show, found and described
``report.py``                 what ticks, passes and runs did (and why a run stopped)
``styles.py``                 the status palette shared by every view
``interfaces/``               :class:`IRepository`, and which optional methods a store has
``dataclasses/``              stored records (``PipelineData``, ``StepData``), conversion
``exceptions/``               every exception, each also a fitting builtin
``utils/``                    constants, clock, durations, history, plurals, short uuids, ...
``examples/``                 the seed's backup automation (``prorch-nb demo``)
============================  ==============================================================

Glossary

run
    One stored instance of a pipeline: a pipeline record and one record per step.
tick
    ``pipeline.start()``: a run ends if its steps say so, else starts at most one step
    and continues the pending one.
pass
    ``Orchestrator.execute_pipelines()``: every pending run ticks once, oldest first;
    ``run_until_done()`` makes passes until it stops (:class:`StopReason`).
unit of work
    A group of changes committed all or nothing (a run's creation, a tick's start, a
    step's end); hooks never run inside one.
claim
    A worker's mark on a step whose hooks it runs (``claimed_by``, ``claimed_until``),
    so no other worker runs them meanwhile; it lapses when its lease ends (renewed while
    the hook runs) or its process dies. A worker whose claim lapsed cannot write the step.
journal
    The TinyDB store's append-only file beside the database: one line per unit of work
    committed since the file was last rewritten.
checkpoint (fold)
    Rewriting the database file with the journal folded in, then removing the journal,
    so that the file alone is current.
generation
    The random id each rewrite gives the database file; a journal names the generation
    it extends and is never replayed onto another.
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
from prorch_nb.report import RunReport, StopReason, TickOutcome, TickReport
from prorch_nb.repositories.memory import InMemoryRepository
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.runs import batch, checkpoint, load_pipeline
from prorch_nb.schedule import Retry
from prorch_nb.step.step import Step
from prorch_nb.utils.clock import FakeClock, use_clock
from prorch_nb.utils.constants import Metadata, Status

__version__ = "0.1.0"

__all__ = [
    "FakeClock",
    "IRepository",
    "InMemoryRepository",
    "Metadata",
    "OnContinueMixin",
    "OnStartMixin",
    "Orchestrator",
    "OrchestratorConfig",
    "Pipeline",
    "PipelineData",
    "Retry",
    "RunReport",
    "SQLRepository",
    "SavedItem",
    "Status",
    "StatusChange",
    "Step",
    "StepData",
    "StopReason",
    "TickOutcome",
    "TickReport",
    "TinyDBRepository",
    "batch",
    "checkpoint",
    "load_pipeline",
    "register_pipeline",
    "register_step",
    "subscribe",
    "use_clock",
]
