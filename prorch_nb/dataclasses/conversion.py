"""Conversion between stored dicts and record dataclasses, tolerant of older records."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, NamedTuple, TypeVar

from prorch_nb.exceptions.exceptions import InvalidRecordError
from prorch_nb.utils.data import clone

R = TypeVar("R")


def record_from_dict(cls: type[R], data: Mapping[str, Any], required: tuple[str, ...], *, copy: bool = True) -> R:
    """Build ``cls`` from a stored dict: required fields checked, unknown keys ignored.

    Fields a prorch 1.0.1 record lacks (position, timestamps, history, ...) keep their
    defaults, so old databases load unchanged. ``copy=False`` shares ``data``'s nested
    values (for repositories that already return fresh objects).
    """
    if not isinstance(data, dict) and not isinstance(data, Mapping):
        raise InvalidRecordError(f"{cls.__name__}: expected a dict, got {type(data).__name__}: {data!r:.200}")
    for name in required:
        if not isinstance(data.get(name), str):
            missing = [name for name in required if not isinstance(data.get(name), str)]
            raise InvalidRecordError(
                f"{cls.__name__} record {data.get('uuid', '<no uuid>')!r}: "
                f"missing or non-string field(s) {', '.join(missing)}"
            )
    known = _layout(cls).known
    values = {key: value for key, value in data.items() if value is not None and key in known}
    if copy:
        values = {key: clone(value) for key, value in values.items()}
    for key in ("metadata", "context", "signals"):
        if key in values and not isinstance(values[key], dict):
            raise InvalidRecordError(f"{cls.__name__} record {data['uuid']!r}: field {key!r} must be a dict")
    attempts = values.get("attempts")
    if attempts is not None and (type(attempts) is not int or attempts < 0):
        raise InvalidRecordError(
            f"{cls.__name__} record {data['uuid']!r}: field 'attempts' must be a whole number >= 0, got {attempts!r}"
        )
    return cls(**values)


def record_to_dict(record: Any, *, copy: bool = True) -> dict[str, Any]:
    """The dict stored for a record; a deep copy unless ``copy=False``."""
    layout = _layout(type(record))
    values = dict(zip(layout.names, layout.read(record), strict=True))
    return {name: clone(value) for name, value in values.items()} if copy else values


class _Layout(NamedTuple):
    names: tuple[str, ...]
    known: frozenset[str]
    read: Callable[[Any], tuple[Any, ...]]  #: every field's value, in order


@functools.cache
def _layout(cls: type) -> _Layout:
    names = tuple(f.name for f in fields(cls))
    return _Layout(names, frozenset(names), operator.attrgetter(*names))
