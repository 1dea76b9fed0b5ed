"""The seed README's own TinyDBRepository example, as a user would have written it.

The one copy of it in the tests: ``seed_repository(root)`` builds it against the import
root ``prorch`` (1.0.1) or ``prorch_nb``, importing that root only when called, so a
``prorch`` run never loads ``prorch_nb``. ``SeedTinyDBRepository`` is the ``prorch_nb``
one, built on first use. Scripts run in a subprocess import this module as
``tests.seed_repository`` with the repository root on their ``sys.path``.
"""

import functools
import importlib

from tinydb import TinyDB, where


@functools.cache
def seed_repository(root: str) -> type:
    """The seed README's TinyDBRepository example, unchanged but for the import root."""
    SavedItem = importlib.import_module(f"{root}.dataclasses.orchestrator").SavedItem
    IRepository = importlib.import_module(f"{root}.interfaces.repository").IRepository
    Metadata = importlib.import_module(f"{root}.utils.constants").Metadata

    class TinyDBRepository(IRepository):
        def __init__(self, model: str):
            super().__init__(model)
            self._db = TinyDB("database.json")
            self._table = self._db.table(Metadata.TABLE_NAMES[model])

        def get(self, uuid):
            return self._table.get(where("uuid") == uuid)

        def save(self, data):
            id = self._table.insert(data)
            return SavedItem(identifier=id)

        def update(self, uuid, data):
            self._table.update(data, where("uuid") == uuid)

        def search(self, filter):
            field, value = filter
            return self._table.search(where(field) == value)

    return TinyDBRepository


def __getattr__(name: str):
    """``SeedTinyDBRepository``: the example for ``prorch_nb``, imported on first use."""
    if name == "SeedTinyDBRepository":
        return seed_repository("prorch_nb")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
