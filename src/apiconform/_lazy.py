"""Module attributes imported on first use: a package's public names without its start-up cost."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_attributes(namespace: MutableMapping[str, Any], table: Mapping[str, str], package: str) -> Callable[[str], Any]:
    """A module `__getattr__`: `table` maps a name to the module defining it (absolute, or relative to
    `package`); the module is imported on first access and the value kept in `namespace`."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__


def lazy_dir(namespace: Mapping[str, Any], table: Mapping[str, str]) -> Callable[[], list[str]]:
    """A module `__dir__` showing the public surface: `__all__` and the lazy names, loaded or not."""

    def __dir__() -> list[str]:
        return sorted(set(namespace.get("__all__", ())) | set(table))

    return __dir__
