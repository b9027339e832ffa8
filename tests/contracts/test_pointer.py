"""`contracts._pointer`: the one JSON-pointer helper (RFC 6901) every stage names places with."""

from __future__ import annotations

from typing import Any

import pytest

from apiconform.contracts._pointer import escape, objects, pointer, resolve, split, unescape, walk

# RFC 6901 section 5: the example document and what each pointer names
RFC_DOC: dict[str, Any] = {
    "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8,
}
RFC_CASES = [
    ("", RFC_DOC), ("/foo", ["bar", "baz"]), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2), ("/e^f", 3),
    ("/g|h", 4), ("/i\\j", 5), ('/k"l', 6), ("/ ", 7), ("/m~0n", 8),
]


@pytest.mark.parametrize(("ptr", "value"), RFC_CASES)
def test_resolve_follows_rfc_6901(ptr: str, value: Any) -> None:
    assert resolve(RFC_DOC, ptr) == value


def test_tokens_round_trip_and_the_order_of_unescaping_matters() -> None:
    assert escape("a/b~c") == "a~1b~0c" and unescape("a~1b~0c") == "a/b~c"
    assert unescape("~01") == "~1"  # `~0` first would give "/"
    assert escape(3) == "3"
    assert pointer("paths", "/accounts/{id}", "get") == "/paths/~1accounts~1{id}/get" and pointer() == ""
    assert split("/paths/~1accounts~1{id}/get") == ["paths", "/accounts/{id}", "get"]
    assert split("") == [] and split("/") == [""]
    for tokens in (["a/b", "c~d", "", "~1"], ["x"], []):
        assert split(pointer(*tokens)) == tokens


def test_resolve_gives_the_default_where_nothing_is() -> None:
    body = {"items": [{"id": 1}], "n": None}
    missing = object()
    assert resolve(body, "/items/0/id") == 1
    assert resolve(body, "/n", missing) is None  # a present null is a value
    for ptr in ("/items/1/id", "/items/x", "/items/-1", "/nope", "/items/0/id/deeper"):
        assert resolve(body, ptr, missing) is missing, ptr


def test_walk_is_in_document_order_sees_replaced_children_and_does_not_recurse() -> None:
    doc = {"b": [1, {"a/c": 2}], "a": {"externalValue": "x.json"}}
    assert [p for p, _ in walk(doc)] == ["", "/b", "/b/0", "/b/1", "/b/1/a~1c", "/a", "/a/externalValue"]
    seen = []
    for ptr, node in objects(doc):
        seen.append(ptr)
        if "externalValue" in node:  # the loader inlines examples in place while it walks
            node["value"] = {"inlined": True}
            del node["externalValue"]
    assert seen == ["", "/b/1", "/a", "/a/value"]
    deep: Any = {}
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit
        node["x"] = {}
        node = node["x"]
    assert sum(1 for _ in walk(deep)) == 5001


def test_assign_copies_the_way_to_the_place_and_shares_the_rest() -> None:
    from apiconform.contracts import assign

    body = {"a/b": [{"x": 0}, {"x": 1}], "other": {"kept": True}}
    changed = assign(body, "/a~1b/1/x", 5)
    assert changed == {"a/b": [{"x": 0}, {"x": 5}], "other": {"kept": True}}
    assert body["a/b"][1] == {"x": 1}  # the original is untouched
    assert changed["other"] is body["other"] and changed["a/b"][0] is body["a/b"][0]
    assert assign(body, "", 3) == 3 and assign({"a": 1}, "/b", 2) == {"a": 1, "b": 2}
    for missing in ("/a~1b/7/x", "/nothing/here", "/other/kept/deeper"):
        with pytest.raises(KeyError):
            assign(body, missing, 1)
