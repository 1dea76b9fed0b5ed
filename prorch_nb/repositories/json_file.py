"""The database file itself: read and checked whole, replaced atomically, identified by content.

A rewrite goes to a temporary file beside the database (``<file>.prorch_nb-<random>.tmp``,
a pattern no one else uses), is fsynced and renamed over the file, so readers see the
old file or the new one, never a mix. A file that is empty, truncated, not JSON, or not
shaped like a TinyDB database raises :class:`StoreFileError` naming the file and the
problem; it is never overwritten.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from prorch_nb.exceptions.exceptions import StoreFileError, StoreWarning
from prorch_nb.repositories.files import create_unique, fsync_folder, remove_quietly

#: What tells two versions of a file apart cheaply: inode, size, modification time.
Signature = tuple[int, int, int]

_TEMPORARY = ".prorch_nb-{}.tmp"


class FileContent(NamedTuple):
    """A version of the file as read or written: its signature and a digest of its bytes."""

    signature: Signature
    digest: str


def signature_of(path: str) -> Signature | None:
    """The signature of the file at ``path`` now, ``None`` if there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def digest_of(data: bytes) -> str:
    """A digest of a file's bytes, to tell whether it changed when its signature looks the same."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_file(path: str) -> tuple[bytes, FileContent] | None:
    """The file's bytes and content identity, or ``None`` if there is no file."""
    try:
        with open(path, "rb") as handle:
            found = os.fstat(handle.fileno())
            raw = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    return raw, FileContent((found.st_ino, found.st_size, found.st_mtime_ns), digest_of(raw))


def write_file(path: str, chunks: Iterable[str], unchanged: Callable[[], bool] | None = None) -> FileContent | None:
    """Replace the file with the concatenation of ``chunks`` (JSON text), atomically and durably.

    The chunks are encoded and written one by one, so a large file is never held in
    memory whole. Returns the identity of what was written, or ``None`` (and nothing is
    replaced) if ``unchanged()``, asked right before the rename, says the file changed.
    """
    temporary = path + _TEMPORARY.format(os.urandom(6).hex())
    descriptor = create_unique(path, temporary)
    digest = hashlib.blake2b(digest_size=16)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                data = chunk.encode()
                digest.update(data)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
            found = os.fstat(out.fileno())
        if unchanged is not None and not unchanged():
            remove_quietly(temporary)
            return None
        os.replace(temporary, path)
    except BaseException as exc:
        remove_quietly(temporary)
        if isinstance(exc, OSError):
            raise StoreFileError(f"{path}: cannot be written: {exc.strerror or exc}") from exc
        raise
    try:
        fsync_folder(os.path.dirname(path))
    except OSError as exc:  # the new file is in place: only a power cut could undo the rename now
        warnings.warn(
            StoreWarning(f"{path}: rewritten, but its folder could not be synced: {exc.strerror or exc}"), stacklevel=3
        )
    return FileContent((found.st_ino, found.st_size, found.st_mtime_ns), digest.hexdigest())


def remove_stale_temporaries(path: str) -> None:
    """Remove temporary files a rewrite of ``path`` left when its process was killed.

    Call under the database's lock: no rewrite of this store is under way then.
    """
    for stale in glob.glob(glob.escape(path) + _TEMPORARY.format("*")):
        remove_quietly(stale)


def parse_database(raw: bytes, path: str) -> dict[str, dict[str, Any]]:
    """Check and decode a TinyDB JSON file: ``{table: {doc_id: record}}``."""
    if not raw.strip():
        raise StoreFileError(
            f"{path}: the file is empty ({len(raw)} bytes), not a TinyDB database; "
            "it was left untouched (remove it to start a new database; a journal of the old one is then set aside)"
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"the file is truncated or corrupt ({exc})"
        nul = raw.find(b"\x00")  # JSON text holds none; without one, a decoding error is a byte that is not UTF-8
        if nul >= 0 or isinstance(exc, UnicodeDecodeError):
            at = nul if nul >= 0 else exc.start
            problem = f"a binary file, not text (byte {raw[at]:#04x} at offset {at})"
        raise StoreFileError(f"{path}: not valid JSON, {problem}; it was left untouched") from exc
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
