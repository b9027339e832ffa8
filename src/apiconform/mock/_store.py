"""In-memory, ordered store of mock records, keyed by resource and the parent scope in the path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Store:
    """`(resource, scope) -> {id: record}`; scope is the tuple of parent ids in the path."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    def list(self, resource: str, scope: tuple[str, ...] = ()) -> list[Any]:
        return list(self._data.get((resource, scope), {}).values())

    def get(self, resource: str, scope: tuple[str, ...], key: Any) -> Any | None:
        return self._data.get((resource, scope), {}).get(str(key))

    def put(self, resource: str, scope: tuple[str, ...], key: Any, record: Any) -> None:
        self._data.setdefault((resource, scope), {})[str(key)] = record

    def delete(self, resource: str, scope: tuple[str, ...], key: Any) -> bool:
        return self._data.get((resource, scope), {}).pop(str(key), None) is not None

    def keys(self, resource: str) -> Iterator[tuple[tuple[str, ...], str]]:
        """Every (scope, id) stored for a resource: how children find their parents when seeding."""
        for (name, scope), records in list(self._data.items()):
            if name == resource:
                for key in list(records):
                    yield scope, key

    def count(self) -> int:
        return sum(len(r) for r in self._data.values())
