"""Bounds on what hostile input may cost: JSON nesting depth (for answers and for the mock's requests)."""

from __future__ import annotations

import json
from typing import Any

#: Deeper JSON is refused: validating or walking it recursively would exhaust the interpreter's stack.
MAX_JSON_DEPTH = 100


def nesting_depth(value: Any, stop: int = MAX_JSON_DEPTH + 1) -> int:
    """Depth of nested lists/objects (a scalar is 0), computed without recursion; stops counting at `stop`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest >= stop:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads_bounded(text: str | bytes) -> tuple[Any, str | None]:
    """json.loads, refusing documents nested deeper than MAX_JSON_DEPTH: (value, None) or (None, reason).
    Raises ValueError for text that is not JSON, like json.loads."""
    try:
        value = json.loads(text)
    except RecursionError:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    if nesting_depth(value) > MAX_JSON_DEPTH:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return value, None
