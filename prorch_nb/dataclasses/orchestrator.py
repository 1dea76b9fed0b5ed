"""What a repository returns from ``save`` and how an orchestrator is configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prorch_nb.interfaces.repository import IRepository


@dataclass
class SavedItem:
    """Returned by ``IRepository.save``: the store's own identifier of the new record."""

    identifier: str | int


@dataclass
class OrchestratorConfig:
    """Configuration of an :class:`~prorch_nb.orchestrator.Orchestrator`.

    ``repository_class`` is instantiated as ``repository_class(model)`` for each table.
    """

    repository_class: type[IRepository]
