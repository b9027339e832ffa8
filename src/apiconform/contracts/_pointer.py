"""JSON pointers (RFC 6901), spelled once: the loader, the lint, the checks, the mock, auth and the gate
all name places in documents and bodies with them, and an unescaped `/` or `~` in a key would point elsewhere."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def escape(token: Any) -> str:
    """One reference token as it is written in a pointer (`~` -> `~0`, `/` -> `~1`)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """One reference token as the key it names (`~1` -> `/`, then `~0` -> `~`)."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: Any) -> str:
    """The pointer of a path of keys and indexes (no token is the whole document, `""`)."""
    return "".join("/" + escape(t) for t in tokens)


def split(ptr: str) -> list[str]:
    """The unescaped tokens of a pointer (`""` is no token, `"/"` is one empty token)."""
    return [unescape(t) for t in ptr.split("/")[1:]]


def resolve(node: Any, ptr: str, default: Any = None) -> Any:
    """The value at `ptr` in a JSON value (object keys, array indexes), or `default` where there is none."""
    for token in split(ptr):
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, Mapping) and token in node:
            node = node[token]
        else:
            return default
    return node


def assign(node: Any, ptr: str, value: Any) -> Any:
    """A copy of a JSON value with `value` at `ptr` (an object member or an existing array index); the objects and
    arrays on the way are copied, the rest shared. The pointer must name a place the value has (else KeyError)."""
    tokens = split(ptr)
    if not tokens:
        return value
    head, rest = tokens[0], pointer(*tokens[1:])
    if isinstance(node, list) and head.isdigit() and int(head) < len(node):
        copy = list(node)
        copy[int(head)] = assign(node[int(head)], rest, value)
        return copy
    if isinstance(node, Mapping) and (head in node or not rest):
        return {**node, head: assign(node[head], rest, value) if rest else value}
    raise KeyError(ptr)


def walk(document: Any, ptr: str = "") -> Iterator[tuple[str, Any]]:
    """Every node of a document with its pointer, depth-first in document order, without recursion.

    A node's children are read when the walk moves past it, so a caller may replace them in place.
    """
    stack: list[tuple[str, Any]] = [(ptr, document)]
    while stack:
        here, node = stack.pop()
        yield here, node
        if isinstance(node, dict):
            stack.extend((f"{here}/{escape(k)}", v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((f"{here}/{i}", v) for i, v in reversed(list(enumerate(node))))


def objects(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object of a document with its pointer (where `$ref`s, examples and schemas live)."""
    for ptr, node in walk(document):
        if isinstance(node, dict):
            yield ptr, node
