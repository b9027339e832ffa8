"""Values the target answered: every scalar member of a successful JSON answer (and each scalar of a list member:
`label_ids: [5, 7]`), by member name, at any depth, newest first.

A run reads records before it writes (discovery lists, reads, creates), so by the time a write is built the
target has already named real values for most of the fields the write refers to (`learner_id`, `course_id`):
`Discovery.realistic` reuses them instead of the docs' placeholders or drawn values, which name no record.
Bounded: at most `PER_NAME` values per member name, `MAX_NODES` nodes walked per answer.
"""

from __future__ import annotations

from typing import Any

PER_NAME = 64
MAX_NODES = 5000


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""


class Observed:
    """Scalar values per member name (strings and integers; never booleans, floats or nulls), newest first."""

    def __init__(self) -> None:
        self._values: dict[str, list[str | int]] = {}

    def see(self, body: Any) -> None:
        """Record every scalar member of one answer body."""
        stack: list[Any] = [body]
        walked = 0
        found: list[tuple[str, str | int]] = []
        while stack and walked < MAX_NODES:
            node = stack.pop()
            walked += 1
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, (dict, list)):
                        stack.append(value)
                    if isinstance(value, list):  # a list of scalars (`label_ids: [5, 7]`): each under its name
                        found.extend((str(key), item) for item in value if _scalar(item))
                    elif _scalar(value):
                        found.append((str(key), value))
            elif isinstance(node, list):
                stack.extend(reversed(node))
        for key, value in reversed(found):  # the answer's first records end up first
            values = self._values.setdefault(key, [])
            if value in values:
                values.remove(value)
            values.insert(0, value)
            del values[PER_NAME:]

    def values(self, name: str) -> list[str | int]:
        """What the target answered under `name`, newest first (empty: never seen)."""
        return list(self._values.get(name, ()))


__all__ = ["Observed"]
