"""The orchestrator, at the seed's module paths."""

from prorch_nb.orchestrator.orchestrator import Orchestrator

__all__ = ["Orchestrator"]
