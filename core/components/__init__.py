"""The component catalogue: every component the designer offers, looked up by id or name.

Each module of this package lists its components in a ``COMPONENTS`` tuple; the catalogue is
gathered from those, so adding a family is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from core.components.base import Component, DataAccess, Params, Port, PortType, RunContext

__all__ = ["CATALOGUE", "Component", "DataAccess", "Params", "Port", "PortType", "RunContext", "lookup"]


def _gather() -> dict[str, type[Component]]:
    found: dict[str, type[Component]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for component in getattr(module, "COMPONENTS", ()):
            if component.id in found:
                raise RuntimeError(f"component id {component.id!r} is defined twice")
            found[component.id] = component
    return found


CATALOGUE: dict[str, type[Component]] = _gather()
_BY_NAME: dict[str, type[Component]] = {c.name.lower(): c for c in CATALOGUE.values()}


def lookup(ref: str) -> type[Component] | None:
    """A component by id (``split_data``) or designer name (``Split Data``, any case)."""
    return CATALOGUE.get(ref) or _BY_NAME.get(ref.strip().lower())
