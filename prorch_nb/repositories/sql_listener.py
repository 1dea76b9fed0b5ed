"""Waking sleeping workers on PostgreSQL: a unit that wrote sends ``NOTIFY``, workers ``LISTEN``.

The channel is named after the schema and prefix, so projects sharing a database do not
wake each other. A worker that cannot listen (the server restarted, a pooler that drops
``LISTEN``) sleeps its whole interval instead, and is told once.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import warnings
from typing import Any

import sqlalchemy as sa

from prorch_nb.exceptions.exceptions import StoreWarning

#: PostgreSQL cuts identifiers, channel names among them, at 63 bytes.
MAX_CHANNEL = 63


def channel_name(schema: str | None, prefix: str) -> str:
    """The channel of a schema and prefix: readable when it fits in 63 bytes, else shortened with a digest."""
    name = f"{schema + '.' if schema else ''}{prefix}changes"
    if len(name.encode()) <= MAX_CHANNEL:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
    return f"{name[: MAX_CHANNEL - len(digest) - 1]}~{digest}"


class ChangeListener:
    """A psycopg connection of its own, listening on one channel (opened at the first wait, again after a failure)."""

    def __init__(self, url: sa.URL, channel: str, where: str) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self._where = where
        self._connection: Any = None
        self._warned = False

    def wait(self, timeout: float) -> bool:
        """Sleep until a change is notified or ``timeout`` passes; whether one was (several wake one wait)."""
        import psycopg  # the PostgreSQL driver: there whenever the dialect is

        try:
            connection = self._listening()
            woken = any(True for _ in connection.notifies(timeout=timeout, stop_after=1))
            while woken and any(True for _ in connection.notifies(timeout=0, stop_after=1)):
                pass
            return woken
        except psycopg.Error as exc:
            self.close()
            if not self._warned:
                self._warned = True
                warnings.warn(
                    StoreWarning(
                        f"{self._where}: cannot listen for changes ({str(exc).strip() or type(exc).__name__}); "
                        "workers look for work at every interval instead of at once"
                    ),
                    stacklevel=3,
                )
            time.sleep(timeout)
            return False

    def _listening(self) -> Any:
        import psycopg
        from psycopg import sql

        if self._connection is None:
            connection = psycopg.connect(self._dsn, autocommit=True)
            try:
                connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def close(self) -> None:
        """Stop listening (a later wait listens again)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):  # it may be broken already
                self._connection.close()
            self._connection = None
