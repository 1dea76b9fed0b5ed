"""Which version of the database file is loaded, and the file's text with its generation.

Each rewrite by prorch_nb gives the file a new random *generation*, kept in a small
table of its own (TinyDB keeps tables it does not know when it writes)::

    "_prorch_nb": {"1": {"format": 1, "generation": "<hex>", "previous": "<hex>"}}

The journal names the generation it extends, so it is only ever replayed onto that
version of the file, or onto that version as another program edited it in place; never
onto a file that was removed, replaced or recreated. ``previous`` is the generation the
rewrite replaced: a journal extending it is already folded in (the rewrite's process was
killed before it removed the journal).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from prorch_nb.repositories.json_file import Signature, parse_database, read_file
from prorch_nb.repositories.table import IndexedTable, compact_json

#: The table holding the file's generation.
META_TABLE = "_prorch_nb"


class FileState(NamedTuple):
    """What this process loaded: the file's signature and digest (``None``: no file), size and generations."""

    signature: Signature | None
    digest: str | None
    size: int
    generation: str | None
    previous: str | None


NO_FILE = FileState(None, None, 0, None, None)


def load_file(path: str, known: FileState | None) -> tuple[FileState, dict[str, dict[str, Any]] | None]:
    """Read the file: its state, and its tables unless its content is the one ``known`` describes.

    The generation table is taken out of the tables returned.
    """
    found = read_file(path)
    if found is None:
        return NO_FILE, (None if known == NO_FILE else {})
    raw, content = found
    if known is not None and content.digest == known.digest:
        return known._replace(signature=content.signature), None
    data = parse_database(raw, path)
    generation, previous = _generations(data.pop(META_TABLE, None))
    return FileState(content.signature, content.digest, len(raw), generation, previous), data


def json_chunks(tables: dict[str, IndexedTable], generation: str, previous: str | None) -> Iterator[str]:
    """The file's JSON text in pieces: ``{"<table>": {"<doc_id>": record, ...}, ..., "_prorch_nb": ...}``."""
    yield "{"
    for name, table in tables.items():
        yield f"{compact_json(name)}:"
        yield from table.json_chunks()
        yield ","
    meta = {"format": 1, "generation": generation, "previous": previous}
    yield f'{compact_json(META_TABLE)}:{{"1":{compact_json(meta)}}}}}'


def _generations(meta: Any) -> tuple[str | None, str | None]:
    """The generation and previous generation in a file's meta table (``None`` if absent or odd)."""
    row = meta.get("1") if isinstance(meta, dict) else None
    if not isinstance(row, dict):
        return None, None
    generation, previous = row.get("generation"), row.get("previous")
    return (
        generation if isinstance(generation, str) else None,
        previous if isinstance(previous, str) else None,
    )
