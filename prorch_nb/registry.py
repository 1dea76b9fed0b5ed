"""Registered pipeline and step classes, looked up by the names stored in records."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from prorch_nb.exceptions.exceptions import NotRegisteredError, RegistrationError

if TYPE_CHECKING:
    from prorch_nb.pipeline.pipeline import Pipeline
    from prorch_nb.step.step import Step
    from prorch_nb.store import Store

PIPELINES: dict[str, type[Pipeline]] = {}
STEPS: dict[str, type[Step]] = {}


def register(registry: dict, kind: str, cls: type) -> None:
    """Register ``cls`` under its ``name``; a new version of the same class replaces the old one.

    Another class (another qualified name, or another module) under a name already
    taken is refused: stored records of the first would run the second's hooks.
    """
    name = cls.name
    known = registry.get(name)
    if known is not None and not _same_class(known, cls):
        raise RegistrationError(
            f"{kind} name {name!r} is registered already by {_describe(known)}; {_describe(cls)} cannot take it "
            f"(records stored under {name!r} would run its hooks): give one of them another name"
        )
    registry[name] = cls


def _same_class(known: type, new: type) -> bool:
    """Whether ``new`` is a new version of ``known``: same qualified name, and same module.

    A script's module (``__main__``: a notebook, ``python file.py``, ``runpy``) may come
    back under another name, so it matches any module.
    """
    if known.__qualname__ != new.__qualname__:
        return False
    return known.__module__ == new.__module__ or not (_importable(known) and _importable(new))


def _importable(cls: type) -> bool:
    return cls.__module__ != "__main__" and cls.__module__ in sys.modules


def _describe(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def pipeline_class(name: str, *, record: str = "") -> type[Pipeline]:
    """The pipeline class registered under ``name``; ``record`` names the record asking."""
    return _lookup(PIPELINES, "pipeline", name, record)


def step_class(name: str, *, record: str = "") -> type[Step]:
    """The step class registered under ``name``; ``record`` names the record asking."""
    return _lookup(STEPS, "step", name, record)


def stored_pipeline(store: Store, pipeline_uuid: str) -> Pipeline:
    """The stored run ``pipeline_uuid``, as an instance of the class registered under its name."""
    record = store.pipeline(pipeline_uuid)
    return pipeline_class(record.name, record=f"pipeline record {record.uuid}")._from_record(record, store)


def _lookup(registry: dict, kind: str, name: str, record: str) -> type:
    try:
        return registry[name]
    except KeyError:
        where = f" ({record})" if record else ""
        known = ", ".join(sorted(registry)) or "none"
        raise NotRegisteredError(
            f"{kind} name {name!r}{where} is not registered in this process; "
            f"import the module that defines it with @register_{kind}. Registered {kind}s: {known}"
        ) from None
