"""A TinyDB storage that never leaves a half-written file and refuses to read a bad one."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from typing import Any

from tinydb.storages import Storage

from prorch_nb.exceptions.exceptions import StoreFileError


class AtomicJSONStorage(Storage):
    """TinyDB's JSON layout, written to a temporary file, fsynced and renamed over.

    Readers therefore always see a complete committed state. A file that is empty,
    truncated, not JSON, or not shaped like a TinyDB database raises
    :class:`StoreFileError` naming the file and the problem; it is never overwritten.
    Usable with TinyDB itself: ``TinyDB(path, storage=AtomicJSONStorage)``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The file's tables, or ``None`` if the file does not exist yet."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreFileError(f"{self.path}: cannot be read: {exc.strerror or exc}") from exc
        return parse_database(raw, self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with ``data`` atomically."""
        self.write_chunks((json.dumps(data, separators=(",", ":")),))

    def write_chunks(self, chunks: Iterable[str]) -> None:
        """Replace the file with the concatenation of ``chunks`` (JSON text) atomically.

        The chunks are encoded and written one by one, so the whole file is never held in
        memory as one string (nor as bytes).
        """
        folder = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(prefix=os.path.basename(self.path) + ".", suffix=".tmp", dir=folder)
        try:
            os.fchmod(handle, _file_mode(self.path))
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk.encode())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException as exc:
            _remove_quietly(temporary)
            if isinstance(exc, OSError):
                raise StoreFileError(f"{self.path}: cannot be written: {exc.strerror or exc}") from exc
            raise
        _fsync_folder(folder)

    def close(self) -> None:
        """Nothing stays open between calls."""


def parse_database(raw: bytes, path: str) -> dict[str, dict[str, Any]]:
    """Check and decode a TinyDB JSON file: ``{table: {doc_id: record}}``."""
    if not raw.strip():
        raise StoreFileError(
            f"{path}: the file is empty ({len(raw)} bytes), not a TinyDB database; "
            "it was left untouched (remove it to start a new database)"
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreFileError(
            f"{path}: not valid JSON, the file is truncated or corrupt ({exc}); it was left untouched"
        ) from exc
    if not isinstance(data, dict):
        raise StoreFileError(
            f"{path}: expected a JSON object of tables, found {type(data).__name__}; it was left untouched"
        )
    for table, rows in data.items():
        if not isinstance(rows, dict):
            raise StoreFileError(
                f"{path}: table {table!r} should map document ids to records, "
                f"found {type(rows).__name__}; the file was left untouched"
            )
        for doc_id, row in rows.items():
            if not isinstance(row, dict):
                raise StoreFileError(
                    f"{path}: table {table!r}, document {doc_id}: expected a record "
                    f"(object), found {type(row).__name__}; the file was left untouched"
                )
    return data


def _file_mode(path: str) -> int:
    """The existing file's permissions, or the usual ones for a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
