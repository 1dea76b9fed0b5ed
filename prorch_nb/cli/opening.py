"""The database a command works on (a TinyDB file or a database URL), the run it names, and the error it reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prorch_nb.dataclasses.pipeline import PipelineData
from prorch_nb.interfaces.repository import Keep
from prorch_nb.repositories.sql_repository import SQLRepository
from prorch_nb.repositories.tinydb_repository import TinyDBRepository
from prorch_nb.store import Store


class CliError(Exception):
    """A problem with the command line's input: printed as one line, exit status 2."""


@dataclass(frozen=True)
class Database:
    """``--db`` as given: a TinyDB file's path, or a database URL (with the prefix of its tables)."""

    given: str
    prefix: str | None = None

    @classmethod
    def either(cls, given: str, prefix: str | None) -> Database:
        """A database of ``copy``, whose one ``--prefix`` names the tables of whichever side is a URL."""
        return cls(given, prefix if "://" in given else None)

    @property
    def is_url(self) -> bool:
        return "://" in self.given

    @property
    def path(self) -> Path:
        return Path(self.given)

    def repository(self) -> type:
        """The repository class of this database; a :class:`CliError` for a bad URL or a missing driver."""
        if not self.is_url:
            if self.prefix is not None:
                raise CliError(f"--prefix names tables in a database URL; {self.given} is a file")
            return TinyDBRepository.at(self.path)
        try:
            return SQLRepository.at(self.given, prefix=self.prefix or "prorch_")
        except (ValueError, ImportError) as exc:
            raise CliError(str(exc)) from None

    def python(self) -> str:
        """The Python that names this repository class, for hints (never a password)."""
        if not self.is_url:
            return f"prorch_nb.TinyDBRepository.at({self.given!r})"
        prefix = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"prorch_nb.SQLRepository.at({str(self)!r}{prefix})"

    def __str__(self) -> str:
        if not self.is_url:
            return self.given
        return self.repository()("PIPELINE").database.where  # the URL without its password


def open_store(db: Database, *, missing: str = "") -> Store:
    """The store of the existing database ``db``; ``missing`` is a hint for when there is none."""
    store = _existing(db, missing)
    store.pipelines.newest(1)  # a corrupt file or an unreachable database raises now, before any work
    return store


def checkpoint(db: Database, keep: Keep) -> str:
    """Fold the journal of the existing database ``db`` into its file; what was done, in one line."""
    if db.is_url:
        return f"{db}: a database has no journal to fold"
    folded = _existing(db, "").pipelines.checkpoint(keep=keep)  # no read first: it would refuse a conflict
    return f"{db}: {'journal folded in' if folded else 'no journal: the file is up to date'}"


def _existing(db: Database, missing: str) -> Store:
    if not db.is_url and not db.path.exists():
        raise CliError(f"no database at {db}{missing}")
    return Store(db.repository())


def select_run(records: list[PipelineData], prefix: str, db: Database) -> PipelineData:
    """The one record of ``records`` whose uuid starts with ``prefix``; a :class:`CliError` for none or several."""
    matches = [record for record in records if record.uuid.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CliError(f"no pipeline whose uuid starts with {prefix!r} in {db}")
    found = ", ".join(record.uuid for record in matches)
    raise CliError(f"{prefix!r} matches {len(matches)} pipelines ({found}); give more of the uuid")
