"""Checking that what hooks store in ``metadata`` and ``context`` is JSON, exactly.

A value JSON would change on the way (a tuple read back as a list, a key ``1`` read back
as ``"1"``, NaN) is refused like one it cannot hold at all (a datetime, a set), with an
error naming the key: nothing is ever stored differently from what the hook wrote.

>>> check_json({"at": "2026-11-29", "sizes": [1, 2.5, None]}, "metadata")
>>> check_json({"at": ()}, "metadata")
Traceback (most recent call last):
...
prorch_nb.exceptions.exceptions.NotJSONError: metadata['at'] is a tuple, not JSON (use a list)
"""

from __future__ import annotations

import math
import re
from typing import Any

from prorch_nb.exceptions.exceptions import NotJSONError

_SCALARS = (int, bool, type(None))
#: Characters not every store keeps in a string: NUL (PostgreSQL's JSON refuses it) and
#: lone surrogates (not Unicode: no UTF-8 file or database holds them). Refused everywhere,
#: so that runs copy from one store to another.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]").search
_HINTS = {"tuple": " (use a list)", "set": " (use a sorted list)", "frozenset": " (use a sorted list)"}


def check_json(value: Any, where: str) -> None:
    """Raise :class:`NotJSONError` naming the first part of ``value`` JSON would not keep as it is.

    ``where`` names ``value`` in the message (``"metadata"``, ``"context"``).
    """
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is str:
        _check_text(value, where)
        return
    if kind is float:
        if not math.isfinite(value):
            raise NotJSONError(f"{where} is {value!r}, which JSON cannot hold")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise NotJSONError(
                    f"{where} has the key {key!r} ({type(key).__name__}); JSON keys are strings, "
                    "and converting it could merge two keys"
                )
            _check_text(key, f"{where} key {key!r}")
            check_json(item, f"{where}[{key!r}]")
        return
    if kind is list:
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]")
        return
    name = kind.__name__
    raise NotJSONError(f"{where} is a{'n' if name[0] in 'aeiou' else ''} {name}, not JSON{_HINTS.get(name, '')}")


def _check_text(text: str, where: str) -> None:
    found = _UNSTORABLE(text)
    if found is not None:
        what = "a NUL character (PostgreSQL refuses it)" if found.group() == "\x00" else "a lone surrogate"
        raise NotJSONError(f"{where} holds {what} at index {found.start()}: not text every store keeps")
