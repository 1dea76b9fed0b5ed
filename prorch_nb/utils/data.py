"""Copying the JSON-shaped data records are made of."""

from __future__ import annotations

from typing import Any


def clone(value: Any) -> Any:
    """Copy JSON-shaped data (dicts, lists, scalars); much faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value
