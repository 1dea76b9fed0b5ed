"""A real in-memory repository that counts what is read from it, to check what a view reads."""

from collections import Counter

from prorch_nb import InMemoryRepository, Metadata


def counting_repository():
    """A fresh in-memory repository class whose ``reads`` count each read method's calls per table."""

    class Counting(InMemoryRepository.fresh("Counting")):
        reads: Counter = Counter()

        def _count(self, method):
            table = "pipelines" if self.model == Metadata.PIPELINES_MODEL else "steps"
            Counting.reads[f"{table}.{method}"] += 1

        def get(self, uuid):
            self._count("get")
            return super().get(uuid)

        def search(self, filter):
            self._count(f"search {filter[0]}")
            return super().search(filter)

        def search_uuids(self, filter):
            self._count(f"search_uuids {filter[0]}")
            return super().search_uuids(filter)

        def status_of(self, uuid):
            self._count("status_of")
            return super().status_of(uuid)

        def all(self):
            self._count("all")
            return super().all()

        def columns(self, fields):
            self._count(f"columns {' '.join(fields)}")
            return super().columns(fields)

        def tally(self):
            self._count("tally")
            return super().tally()

        def newest(self, limit, status=None):
            self._count("newest")
            return super().newest(limit, status)

    return Counting
