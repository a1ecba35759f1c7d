"""Domain rules: event types, state and pure deciders, one module per aggregate."""

from __future__ import annotations

import importlib
import pkgutil

from events.catalogue import CATALOGUE


def load_all() -> None:
    """Import every domain module, so that each event type is in the catalogue."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def catalogue_markdown() -> str:
    """The published event catalogue, as the README shows it (a test keeps the two equal)."""
    load_all()
    rows = [
        f"| `{cls.type_name()}` | {cls.schema_version} | {cls.severity.value} | "
        + ", ".join(f"`{name}`" for name in cls.model_fields)
        + " |"
        for cls in CATALOGUE
    ]
    return "\n".join(["| event | schema | severity | fields |", "|---|---|---|---|", *rows])
