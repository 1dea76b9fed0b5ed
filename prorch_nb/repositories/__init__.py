"""Bundled repositories: the TinyDB file (the default) and an in-memory one."""

from prorch_nb.repositories.memory import InMemoryRepository
from prorch_nb.repositories.tinydb_repository import TinyDBRepository

__all__ = ["InMemoryRepository", "TinyDBRepository"]
