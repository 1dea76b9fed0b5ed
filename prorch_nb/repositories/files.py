"""Files beside a database: created with its permissions and owner, never through a symlink.

The lock, the journal and the temporary file of a rewrite live next to the database and
hold the same data, so they get the database file's mode (a ``chmod 600`` database never
gains a world-readable journal) and, when this process runs as root, its owner. The
process umask is never changed; a file made before the database exists gets the usual
``0o666`` less the umask.
"""

from __future__ import annotations

import contextlib
import errno
import os

from prorch_nb.exceptions.exceptions import StoreFileError

#: Flags of every file this store creates beside a database.
_CREATE = os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def open_beside(database: str, path: str, flags: int, *, what: str) -> int:
    """Open (creating if needed) the file ``path`` that belongs to ``database``; returns a descriptor.

    ``what`` names the file in errors ("lock file", "journal"). A symbolic link at
    ``path`` is refused, so nothing is ever created where a dangling link points.
    """
    try:
        descriptor = os.open(path, flags | _CREATE, 0o666)
    except OSError as exc:
        raise StoreFileError(_refusal(database, path, what, exc)) from exc
    try:
        match_database(database, descriptor)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def create_unique(database: str, path: str) -> int:
    """Create the new file ``path`` (it must not exist) for writing, like ``open_beside``."""
    return open_beside(database, path, os.O_WRONLY | os.O_EXCL, what="temporary file")


def match_database(database: str, descriptor: int) -> None:
    """Give the open file the database file's mode, and its owner when running as root."""
    try:
        wanted = os.stat(database)
    except FileNotFoundError:
        return  # a new database: the usual mode for new files
    found = os.fstat(descriptor)
    try:
        if found.st_mode & 0o7777 != wanted.st_mode & 0o7777:
            os.fchmod(descriptor, wanted.st_mode & 0o7777)
        if os.geteuid() == 0 and (found.st_uid, found.st_gid) != (wanted.st_uid, wanted.st_gid):
            os.fchown(descriptor, wanted.st_uid, wanted.st_gid)
    except PermissionError:
        pass  # another user's file opened by us: it keeps the mode its creator gave it


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def fsync_folder(folder: str) -> None:
    """Make the folder's entries (a rename, a new file) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _refusal(database: str, path: str, what: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return f"{database}: its {what} {path} is a symbolic link; remove it (the store never writes through one)"
    return f"{database}: cannot open its {what} {path}: {exc.strerror or exc}"
