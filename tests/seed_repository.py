"""The seed README's own TinyDBRepository example, as a user would have written it."""

from tinydb import TinyDB, where

from prorch_nb.dataclasses.orchestrator import SavedItem
from prorch_nb.interfaces.repository import IRepository
from prorch_nb.utils.constants import Metadata


class SeedTinyDBRepository(IRepository):
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
