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


def defer_httpx_cli() -> None:
    """Keep `import httpx` from importing httpx's own command-line client.

    httpx's `__init__` runs `from ._main import main`, which imports click, rich and pygments whenever they are
    installed (rich is one of our dependencies): ~0.1 s of every process start that imports httpx, for a
    console script apiconform never calls. Before httpx is first imported, `httpx._main` is a stand-in module
    that imports the real one when anything of it is used (`httpx.main()` still works)."""
    import sys
    import types

    name = "httpx._main"
    if "httpx" in sys.modules or name in sys.modules:
        return

    def real() -> types.ModuleType:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)

    def main(*args: Any, **kwargs: Any) -> Any:
        return real().main(*args, **kwargs)

    def attribute(attr: str) -> Any:
        if attr.startswith("__"):  # the import system asks for `__path__` & co.: a plain module has none
            raise AttributeError(attr)
        return getattr(real(), attr)

    stand_in = types.ModuleType(name, "httpx's command-line client, imported on first use (apiconform._lazy)")
    stand_in.main = main  # type: ignore[attr-defined]
    stand_in.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules[name] = stand_in
