"""Short uuids: the first characters of a record's uuid, enough to tell runs apart on screen.

>>> short_uuid("1f2e3a4b-0c1d-4e5f-8a9b-0c1d2e3f4a5b")
'1f2e3a4b'
"""

from __future__ import annotations

#: How many characters of a uuid views and the command line show.
SHORT_UUID_LENGTH = 8


def short_uuid(uuid: str) -> str:
    """The first :data:`SHORT_UUID_LENGTH` characters of ``uuid`` (the whole of a shorter one)."""
    return uuid[:SHORT_UUID_LENGTH]
