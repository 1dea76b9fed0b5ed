"""Conversion between stored dicts and record dataclasses, tolerant of older records."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from prorch_nb.exceptions.exceptions import InvalidRecordError
from prorch_nb.utils.data import clone

R = TypeVar("R")


def record_from_dict(cls: type[R], data: Mapping[str, Any], required: tuple[str, ...], *, copy: bool = True) -> R:
    """Build ``cls`` from a stored dict: required fields checked, unknown keys ignored.

    Fields a prorch 1.0.1 record lacks (position, timestamps, history, ...) keep their
    defaults, so old databases load unchanged. ``copy=False`` shares ``data``'s nested
    values (for repositories that already return fresh objects).
    """
    if not isinstance(data, Mapping):
        raise InvalidRecordError(f"{cls.__name__}: expected a dict, got {type(data).__name__}: {data!r:.200}")
    missing = [name for name in required if not isinstance(data.get(name), str)]
    if missing:
        raise InvalidRecordError(
            f"{cls.__name__} record {data.get('uuid', '<no uuid>')!r}: "
            f"missing or non-string field(s) {', '.join(missing)}"
        )
    known = _field_set(cls)
    if copy:
        values = {key: clone(value) for key, value in data.items() if key in known and value is not None}
    else:
        values = {key: value for key, value in data.items() if key in known and value is not None}
    for key in ("metadata", "context"):
        if key in values and not isinstance(values[key], dict):
            raise InvalidRecordError(f"{cls.__name__} record {data['uuid']!r}: field {key!r} must be a dict")
    return cls(**values)


def record_to_dict(record: Any, *, copy: bool = True) -> dict[str, Any]:
    """The dict stored for a record; a deep copy unless ``copy=False``."""
    if copy:
        return {name: clone(getattr(record, name)) for name in _field_names(type(record))}
    return {name: getattr(record, name) for name in _field_names(type(record))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@functools.cache
def _field_set(cls: type) -> frozenset[str]:
    return frozenset(_field_names(cls))
