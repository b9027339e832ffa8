"""Schema comparison: what a (possibly composed) schema promises, and how that promise changed.

Direction matters: a response may only narrow what it sends (fewer types, fewer enum values, more
guarantees), a request may only widen what it accepts. Schemas are compared structurally after resolving
`$ref`s and flattening `allOf`/`oneOf`/`anyOf` (best effort), so moving a schema into `components` is not
a change.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from apiconform.contracts import Contract
from apiconform.findings import Category
from apiconform.gate.diff._model import Direction, Facet, Kind, Location, Sides

MAX_DEPTH = 32

_Marker = tuple[frozenset[int], frozenset[int]]


# ------------------------------------------------------------------------------------- schema views


@dataclass
class _View:
    """What a (possibly composed) schema promises, reduced to the facets a client depends on."""

    types: frozenset[str] | None = None  # declared JSON types incl. "null"; None = unconstrained
    nullable: bool | None = None  # None = not stated
    properties: dict[str, Any] = field(default_factory=dict)  # name -> raw (unresolved) schema
    required: set[str] = field(default_factory=set)
    items: Any = None
    additional: Any = None  # additionalProperties: a schema dict, False, or None (open / unstated)
    enum: list[Any] | None = None  # without null (nullability is tracked separately)
    format: str | None = None
    read_only: bool = False
    write_only: bool = False
    origins: frozenset[int] = frozenset()  # ids of the document nodes that gave properties/items

    @property
    def nonnull(self) -> frozenset[str] | None:
        return None if self.types is None else self.types - {"null"}

    @property
    def is_object(self) -> bool:
        return bool(self.properties) or (self.types is not None and "object" in self.types)


def deref(contract: Contract, schema: Any, depth: int = 0) -> dict[str, Any]:
    """Follow `$ref` (3.1 allows siblings next to it: they win over the target's keywords)."""
    if not isinstance(schema, dict):
        return {} if schema is True or schema is None else {"not": {}}
    if "$ref" not in schema:
        return schema
    if depth > MAX_DEPTH:
        return {}
    target = deref(contract, contract.resolve({"$ref": schema["$ref"]}), depth + 1)
    siblings = {k: v for k, v in schema.items() if k not in ("$ref", "description", "summary")}
    return {**target, **siblings} if siblings else target


def _view(contract: Contract, schema: Any, depth: int = 0) -> _View:
    """Flatten one schema into a `_View`; `allOf` intersects, `oneOf`/`anyOf` unite their branches."""
    node = deref(contract, schema)
    view = _View()
    declared = node.get("type")
    if isinstance(declared, str):
        view.types = frozenset({declared})
    elif isinstance(declared, list):
        view.types = frozenset(str(t) for t in declared)
    if "const" in node:
        view.enum = [node["const"]]
    elif isinstance(node.get("enum"), list):
        view.enum = list(node["enum"])
    if view.types is not None:
        view.nullable = "null" in view.types
    if node.get("nullable") is True or (view.enum is not None and None in view.enum):
        view.nullable = True
    if view.enum is not None:
        view.enum = [v for v in view.enum if v is not None]
    view.properties = dict(node.get("properties") or {})
    view.required = {str(r) for r in node.get("required") or []}
    view.items = node.get("items") if isinstance(node.get("items"), dict) else None
    additional = node.get("additionalProperties", node.get("unevaluatedProperties"))
    view.additional = additional if additional is False or isinstance(additional, dict) else None
    view.format = node.get("format") if isinstance(node.get("format"), str) else None
    view.read_only = node.get("readOnly") is True
    view.write_only = node.get("writeOnly") is True
    view.origins = frozenset(
        id(node[k]) for k in ("properties", "items", "additionalProperties") if isinstance(node.get(k), dict)
    )
    if depth > MAX_DEPTH:
        return view
    for sub in node.get("allOf") or []:
        view = _both(view, _view(contract, sub, depth + 1))
    for keyword in ("oneOf", "anyOf"):
        branches = [_view(contract, sub, depth + 1) for sub in node.get(keyword) or []]
        if branches:
            merged = branches[0]
            for branch in branches[1:]:
                merged = _either(merged, branch)
            view = _both(view, merged)
    return view


def _both(a: _View, b: _View) -> _View:
    """`allOf`: an instance satisfies both."""
    if a.types is None or b.types is None:
        types = a.types if b.types is None else b.types
    else:
        types = _intersect_types(a.types, b.types)
    nullable = False if False in (a.nullable, b.nullable) else (True if True in (a.nullable, b.nullable) else None)
    if a.enum is not None and b.enum is not None:
        enum: list[Any] | None = [v for v in a.enum if _key(v) in {_key(w) for w in b.enum}]
    else:
        enum = a.enum if a.enum is not None else b.enum
    return _View(
        types=types,
        nullable=nullable,
        properties={**b.properties, **a.properties},
        required=a.required | b.required,
        items=a.items if a.items is not None else b.items,
        additional=a.additional if a.additional is not None else b.additional,
        enum=enum,
        format=a.format or b.format,
        read_only=a.read_only or b.read_only,
        write_only=a.write_only or b.write_only,
        origins=a.origins | b.origins,
    )


def _either(a: _View, b: _View) -> _View:
    """`oneOf`/`anyOf`: an instance satisfies one branch; only what all branches share is guaranteed."""
    types = None if a.types is None or b.types is None else a.types | b.types
    null_only_a = a.types == frozenset({"null"})
    null_only_b = b.types == frozenset({"null"})
    if null_only_a or null_only_b:  # `oneOf: [X, {type: null}]` is X made nullable
        base = b if null_only_a else a
        return replace(base, types=None if base.types is None else base.types | {"null"}, nullable=True)
    nullable = True if True in (a.nullable, b.nullable) else (False if a.nullable is b.nullable is False else None)
    enum = None
    if a.enum is not None and b.enum is not None:
        enum = list(a.enum) + [v for v in b.enum if _key(v) not in {_key(w) for w in a.enum}]
    return _View(
        types=types,
        nullable=nullable,
        properties={**b.properties, **a.properties},
        required=a.required & b.required,
        items=a.items if a.items is not None else b.items,
        additional=None,
        enum=enum,
        format=a.format if a.format == b.format else None,
        origins=a.origins | b.origins,
    )


def _intersect_types(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    out = set(a & b)
    if "integer" in a and "number" in b or "integer" in b and "number" in a:
        out.add("integer")
    return frozenset(out)


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of a `narrow`-typed field is also valid for `wide` (integers are numbers)."""
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _type_label(types: frozenset[str] | None) -> str:
    if types is None:
        return "any"
    return "|".join(sorted(types)) or "never"


def _signature(view: _View) -> tuple[str, ...] | None:
    """What two fields must share to be taken for a rename: the same non-null JSON types."""
    if not view.nonnull:
        return None
    return tuple(sorted(view.nonnull))


def _visible(contract: Contract, view: _View, direction: Direction) -> dict[str, Any]:
    """Properties that exist in this direction (readOnly only in responses, writeOnly only in requests)."""
    out: dict[str, Any] = {}
    for name, schema in view.properties.items():
        node = deref(contract, schema)
        if direction == "request" and node.get("readOnly") is True:
            continue
        if direction == "response" and node.get("writeOnly") is True:
            continue
        out[name] = schema
    return out


# ---------------------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Scope:
    """Where two schemas are compared: the side of the exchange, the operation, the part of it (`at`, a
    location without pointer) and the path inside its schema; `category` overrides every facet's (error
    bodies are error-shape changes); `seen` holds the schema pairs already being compared up this path."""

    direction: Direction
    operation: str
    at: Location
    category: Category | None = None
    path: tuple[str, ...] = ()
    seen: frozenset[_Marker] = frozenset()

    @property
    def request(self) -> bool:
        return self.direction == "request"

    @property
    def field_name(self) -> str:
        return "/".join(self.path) or "body"

    def child(self, token: str) -> Scope:
        return replace(self, path=self.path + (token,))

    def emit(
        self,
        sides: Sides,
        facet: Facet,
        *,
        breaking: bool,
        category: Category | None,
        old: Any = None,
        new: Any = None,
        message: str,
    ) -> None:
        """Record a change of the field at this path (the scope's category, if any, wins)."""
        sides.add(
            Kind.of(self.direction, facet), breaking=breaking, category=self.category or category,
            operation=self.operation, at=self.at.at(self.path), old=old, new=new, message=message,
        )


def compare(sides: Sides, old_schema: Any, new_schema: Any, scope: Scope) -> None:
    """Compare two schemas at one location, then their properties, items and additional properties."""
    if len(scope.path) > MAX_DEPTH:
        return
    a, b = _view(sides.old, old_schema), _view(sides.new, new_schema)
    name, req = scope.field_name, scope.request
    # types
    type_changed = False
    if a.nonnull is not None and b.nonnull is not None and a.nonnull and b.nonnull and a.nonnull != b.nonnull:
        type_changed = True
        breaking = not _covers(b.nonnull, a.nonnull) if req else not _covers(a.nonnull, b.nonnull)
        scope.emit(
            sides, Facet.RETYPED, breaking=breaking, category=Category.FIELD_TYPE,
            old=_type_label(a.nonnull), new=_type_label(b.nonnull),
            message=f"{name}: type changed {_type_label(a.nonnull)} -> {_type_label(b.nonnull)}"
            + ("" if breaking else (" (widened)" if req else " (narrowed)")),
        )
    # nullability
    if a.nullable is not None and b.nullable is not None and a.nullable != b.nullable:
        if b.nullable:
            scope.emit(
                sides, Facet.NULLABLE, breaking=not req, category=Category.FIELD_TYPE, old=False, new=True,
                message=f"{name}: may now be null" + ("" if req else " (clients may not handle null)"),
            )
        else:
            scope.emit(
                sides, Facet.NOT_NULLABLE, breaking=req, category=Category.FIELD_TYPE, old=True, new=False,
                message=f"{name}: no longer " + ("accepts" if req else "sent as") + " null",
            )
    if not type_changed:
        _enum(sides, scope, a, b)
    if not type_changed and a.format != b.format:
        if a.format and b.format:
            breaking = True
        elif b.format:  # a format appeared: requests are stricter, responses better specified
            breaking = req
        else:
            breaking = not req
        scope.emit(
            sides, Facet.FORMAT_CHANGED, breaking=breaking, category=Category.FIELD_TYPE, old=a.format, new=b.format,
            message=f"{name}: format {a.format or 'none'} -> {b.format or 'none'}",
        )
    if type_changed and not (a.is_object and b.is_object) and not (a.items is not None and b.items is not None):
        return
    # A recursive schema (Account.parent is an Account): its own facets were compared above, its
    # children already are being compared further up this path.
    marker = (a.origins, b.origins)
    if marker in scope.seen:
        return
    scope = replace(scope, seen=scope.seen | {marker})
    if a.is_object or b.is_object:
        _properties(sides, scope, a, b)
    if a.items is not None and b.items is not None:
        compare(sides, a.items, b.items, scope.child("items"))
    if isinstance(a.additional, dict) and isinstance(b.additional, dict):
        compare(sides, a.additional, b.additional, scope.child("*"))


def _enum(sides: Sides, scope: Scope, a: _View, b: _View) -> None:
    name, req = scope.field_name, scope.request
    if a.enum is not None and b.enum is not None:
        old_keys, new_keys = {_key(v) for v in a.enum}, {_key(v) for v in b.enum}
        for value in b.enum:
            if _key(value) not in old_keys:
                scope.emit(
                    sides, Facet.ENUM_VALUE_ADDED, breaking=not req, category=Category.ENUM, new=value,
                    message=f"{name}: enum value {value!r} added"
                    + ("" if req else " (clients switching on this field may not handle it)"),
                )
        for value in a.enum:
            if _key(value) not in new_keys:
                scope.emit(
                    sides, Facet.ENUM_VALUE_REMOVED, breaking=req, category=Category.ENUM, old=value,
                    message=f"{name}: enum value {value!r} removed" + (" (clients sending it are rejected)" if req else ""),
                )
    elif a.enum is not None:
        scope.emit(
            sides, Facet.ENUM_REMOVED, breaking=not req, category=Category.ENUM, old=a.enum,
            message=f"{name}: no longer restricted to an enum" + ("" if req else " (any value may now be sent)"),
        )
    elif b.enum is not None:
        scope.emit(
            sides, Facet.ENUM_INTRODUCED, breaking=req, category=Category.ENUM, new=b.enum,
            message=f"{name}: now restricted to {b.enum!r}" + (" (other values are rejected)" if req else ""),
        )


def _renames(sides: Sides, old_props: dict[str, Any], new_props: dict[str, Any]) -> dict[str, str]:
    """Response fields that vanished while a same-typed one appeared: most likely renamed (old -> new)."""
    removed = [n for n in old_props if n not in new_props]
    added = [n for n in new_props if n not in old_props]
    renamed: dict[str, str] = {}
    candidates = {n: _signature(_view(sides.new, new_props[n])) for n in added}
    for name in removed:
        sig = _signature(_view(sides.old, old_props[name]))
        if sig is None:
            continue
        pool = [n for n, s in candidates.items() if s == sig and n not in renamed.values()]
        if pool:
            renamed[name] = max(pool, key=lambda n: difflib.SequenceMatcher(None, name, n).ratio())
    return renamed


def _properties(sides: Sides, scope: Scope, a: _View, b: _View) -> None:
    req = scope.request
    old_props, new_props = _visible(sides.old, a, scope.direction), _visible(sides.new, b, scope.direction)
    old_required = a.required & set(old_props) if req else a.required
    new_required = b.required & set(new_props) if req else b.required
    renamed = {} if req else _renames(sides, old_props, new_props)
    prefix = "/".join(scope.path)

    def label(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    for name in (n for n in old_props if n not in new_props):
        field_scope = scope.child(name)
        if name in renamed:
            field_scope.emit(
                sides, Facet.RENAMED, breaking=True, category=Category.REQUIRED_FIELD, old=name, new=renamed[name],
                message=f"{label(name)}: renamed to {renamed[name]!r} (removed and added with the same type)",
            )
        elif req:
            closed = b.additional is False
            field_scope.emit(
                sides, Facet.REMOVED, breaking=closed, category=None, old=name,
                message=f"{label(name)}: no longer accepted"
                + (" and the body is closed (sending it is rejected)" if closed else " (the server ignores it)"),
            )
        else:
            field_scope.emit(
                sides, Facet.REMOVED, breaking=True, category=Category.REQUIRED_FIELD, old=name,
                message=f"{label(name)}: removed from the response",
            )
    for name in (n for n in new_props if n not in old_props):
        if name in renamed.values():
            continue
        if req and name in new_required:
            scope.child(name).emit(
                sides, Facet.ADDED_REQUIRED, breaking=True, category=Category.REQUIRED_FIELD, new=name,
                message=f"{label(name)}: new required request field (existing requests lack it)",
            )
        else:
            scope.child(name).emit(
                sides, Facet.ADDED, breaking=False, category=None, new=name,
                message=f"{label(name)}: new {scope.direction} field",
            )
    for name in (n for n in old_props if n in new_props):
        was, now = name in old_required, name in new_required
        if was != now:
            if req:
                breaking, message = now, "became required" if now else "became optional"
            else:
                breaking, message = not now, "now always present" if now else "no longer always present (was required)"
            scope.child(name).emit(
                sides, Facet.REQUIRED if now else Facet.OPTIONAL, breaking=breaking,
                category=Category.REQUIRED_FIELD, old=was, new=now, message=f"{label(name)}: {message}",
            )
        compare(sides, old_props[name], new_props[name], scope.child(name))
