"""`apiconform diff`: classify the changes between two contract versions as breaking or not for a client.

The question answered is "can code written against OLD keep working against NEW?". Direction matters:
a response may only narrow what it sends (fewer types, fewer enum values, more guarantees), a request
may only widen what it accepts. Schemas are compared structurally after resolving `$ref`s and flattening
`allOf`/`oneOf`/`anyOf` (best effort), so moving a schema into `components` is not a change.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from apiconform.contracts import Contract, Operation, contracts_dir, load_contract, vendor_contract
from apiconform.contracts._loader import CONTRACT_FILE, contract_path, read_document
from apiconform.errors import ContractError, UsageError
from apiconform.findings import Category, jsonable

__all__ = [
    "FORMATS",
    "Change",
    "DiffReport",
    "diff_contracts",
    "open_contract",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
]

Direction = Literal["request", "response"]
FORMATS = ("text", "md", "json")
_MAX_DEPTH = 32


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Change:
    """One difference between the versions, judged from the point of view of an existing client."""

    kind: str
    breaking: bool
    category: Category | None
    operation: str
    location: str
    old: Any
    new: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "breaking": self.breaking,
            "category": self.category.value if self.category else None,
            "operation": self.operation,
            "location": self.location,
            "old": jsonable(self.old),
            "new": jsonable(self.new),
            "message": self.message,
        }


@dataclass
class DiffReport:
    """All changes, in document order (operations of OLD first, then added ones)."""

    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def non_breaking(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]

    @property
    def has_breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def kinds(self) -> list[str]:
        return [c.kind for c in self.changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "summary": {"breaking": len(self.breaking), "non_breaking": len(self.non_breaking)},
            "changes": [c.to_dict() for c in self.changes],
        }


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


def _deref(contract: Contract, schema: Any, depth: int = 0) -> dict[str, Any]:
    """Follow `$ref` (3.1 allows siblings next to it: they win over the target's keywords)."""
    if not isinstance(schema, dict):
        return {} if schema is True or schema is None else {"not": {}}
    if "$ref" not in schema:
        return schema
    if depth > _MAX_DEPTH:
        return {}
    target = _deref(contract, contract.resolve({"$ref": schema["$ref"]}), depth + 1)
    siblings = {k: v for k, v in schema.items() if k not in ("$ref", "description", "summary")}
    return {**target, **siblings} if siblings else target


def _view(contract: Contract, schema: Any, depth: int = 0) -> _View:
    """Flatten one schema into a `_View`; `allOf` intersects, `oneOf`/`anyOf` unite their branches."""
    node = _deref(contract, schema)
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
    if depth > _MAX_DEPTH:
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
        return _View(
            types=None if base.types is None else base.types | {"null"},
            nullable=True,
            properties=base.properties,
            required=base.required,
            items=base.items,
            additional=base.additional,
            enum=base.enum,
            format=base.format,
            read_only=base.read_only,
            write_only=base.write_only,
            origins=base.origins,
        )
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


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# -------------------------------------------------------------------------------------------- differ


class _Differ:
    """Collects changes while walking two contracts side by side."""

    def __init__(self, old: Contract, new: Contract) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []

    # ---- helpers
    def add(
        self,
        kind: str,
        breaking: bool,
        category: Category | None,
        operation: str,
        location: str,
        old: Any,
        new: Any,
        message: str,
    ) -> None:
        self.changes.append(Change(kind, breaking, category, operation, location, old, new, message))

    # ---- contract level
    def run(self) -> list[Change]:
        self._security_schemes()
        pairs, removed, added = _match_operations(list(self.old), list(self.new))
        for op in removed:
            self.add(
                "operation-removed", True, None, op.label, op.key, op.key, None,
                f"operation {op.label} ({op.key}) was removed: clients calling it will fail",
            )
        for old_op, new_op in pairs:
            self._operation(old_op, new_op)
        for op in added:
            self.add(
                "operation-added", False, None, op.label, op.key, None, op.key, f"new operation {op.label} ({op.key})"
            )
        return self.changes

    def _security_schemes(self) -> None:
        old_schemes, new_schemes = self.old.security_schemes, self.new.security_schemes
        for name, scheme in old_schemes.items():
            where = f"#/components/securitySchemes/{_escape(name)}"
            if name not in new_schemes:
                self.add(
                    "security-scheme-removed", True, Category.AUTH, "", where, scheme, None,
                    f"security scheme {name!r} was removed",
                )
            elif _strip_docs(self.old.resolve(scheme)) != _strip_docs(self.new.resolve(new_schemes[name])):
                self.add(
                    "security-scheme-changed", True, Category.AUTH, "", where,
                    _strip_docs(self.old.resolve(scheme)), _strip_docs(self.new.resolve(new_schemes[name])),
                    f"security scheme {name!r} changed: clients must authenticate differently",
                )
        for name, scheme in new_schemes.items():
            if name not in old_schemes:
                self.add(
                    "security-scheme-added", False, Category.AUTH, "", f"#/components/securitySchemes/{_escape(name)}",
                    None, scheme, f"new security scheme {name!r}",
                )

    # ---- operation level
    def _operation(self, old: Operation, new: Operation) -> None:
        label = new.label
        if (old.method, old.path) != (new.method, new.path):
            if (old.method, _template(old.path)) == (new.method, _template(new.path)):
                self.add(
                    "path-parameter-renamed", False, None, label, new.key, old.key, new.key,
                    f"path parameters renamed in the template ({old.path} -> {new.path}); the URL is unchanged",
                )
            else:
                self.add(
                    "operation-moved", True, None, label, new.key, old.key, new.key,
                    f"operation {label} moved from {old.key} to {new.key} (path/verb changed)",
                )
        elif _explicit_id(old) and _explicit_id(new) and old.operation_id != new.operation_id:
            self.add(
                "operation-id-changed", False, None, label, new.key, old.operation_id, new.operation_id,
                f"operationId renamed {old.operation_id} -> {new.operation_id} (generated SDK method names change)",
            )
        self._security(old, new)
        self._pagination(old, new)
        self._parameters(old, new)
        self._request_body(old, new)
        self._responses(old, new)

    def _security(self, old: Operation, new: Operation) -> None:
        old_alts, new_alts = _security_alternatives(old), _security_alternatives(new)
        if old_alts == new_alts:
            return
        where = f"{new.key} security"
        public_before, public_after = not old_alts or frozenset() in old_alts, not new_alts or frozenset() in new_alts
        dropped = old_alts - new_alts
        if public_before and not public_after:
            breaking, message = True, "operation now requires authentication"
        elif public_after and not public_before:
            breaking, message = False, "operation no longer requires authentication"
        elif dropped:
            breaking, message = True, "accepted authentication changed: " + ", ".join(
                _alt_label(a) for a in sorted(dropped, key=_alt_label)
            ) + " no longer accepted"
        else:
            breaking, message = False, "additional authentication alternatives accepted"
        self.add(
            "auth-changed" if breaking else "auth-relaxed", breaking, Category.AUTH, new.label, where,
            sorted(_alt_label(a) for a in old_alts), sorted(_alt_label(a) for a in new_alts), message,
        )

    def _pagination(self, old: Operation, new: Operation) -> None:
        a, b = dict(old.pagination or {}), dict(new.pagination or {})
        if a == b:
            return
        where = f"{new.key} x-apiconform-pagination"
        if not a or not b:
            message = "operation is now paginated: clients reading one response get only the first page" if b else (
                "operation is no longer paginated: pagination parameters/envelope are gone"
            )
            self.add("pagination-changed", True, Category.PAGINATION, new.label, where, a or None, b or None, message)
            return
        scheme_keys = sorted(k for k in set(a) | set(b) if k not in ("max", "default"))
        changed = [k for k in scheme_keys if a.get(k) != b.get(k)]
        if changed:
            self.add(
                "pagination-changed", True, Category.PAGINATION, new.label, where,
                {k: a.get(k) for k in changed}, {k: b.get(k) for k in changed},
                "pagination scheme changed (" + ", ".join(changed) + ")",
            )
        if a.get("default") != b.get("default"):
            self.add(
                "pagination-default-changed", True, Category.PAGINATION, new.label, f"{where}/default",
                a.get("default"), b.get("default"),
                f"default page size changed {a.get('default')} -> {b.get('default')}: "
                "clients not passing it see different pages",
            )
        if a.get("max") != b.get("max"):
            lowered = a.get("max") is None or (b.get("max") is not None and b["max"] < a["max"])
            self.add(
                "pagination-max-changed", bool(lowered), Category.PAGINATION, new.label, f"{where}/max",
                a.get("max"), b.get("max"),
                f"maximum page size changed {a.get('max')} -> {b.get('max')}"
                + (": larger page requests are now rejected or capped" if lowered else ""),
            )

    def _parameters(self, old: Operation, new: Operation) -> None:
        old_params, new_params = _param_index(self.old, old), _param_index(self.new, new)
        for key, param in old_params.items():
            where = f"{new.key} {_param_label(param)}"
            if key not in new_params:
                self.add(
                    "parameter-removed", False, None, new.label, where, param.get("name"), None,
                    f"parameter {_param_label(param)} removed (the server ignores it now)",
                )
                continue
            other = new_params[key]
            was, now = bool(param.get("required")), bool(other.get("required"))
            if not was and now:
                self.add(
                    "parameter-required", True, Category.REQUIRED_FIELD, new.label, where, False, True,
                    f"parameter {_param_label(other)} became required",
                )
            elif was and not now:
                self.add(
                    "parameter-optional", False, Category.REQUIRED_FIELD, new.label, where, True, False,
                    f"parameter {_param_label(other)} became optional",
                )
            if "schema" in param or "schema" in other:
                self._schema(param.get("schema", {}), other.get("schema", {}), "request", new, where, None, (), set())
        for key, param in new_params.items():
            if key in old_params:
                continue
            where = f"{new.key} {_param_label(param)}"
            if param.get("required"):
                self.add(
                    "parameter-added-required", True, Category.REQUIRED_FIELD, new.label, where,
                    None, param.get("name"),
                    f"new required parameter {_param_label(param)}: existing calls lack it",
                )
            else:
                self.add(
                    "parameter-added", False, None, new.label, where, None, param.get("name"),
                    f"new optional parameter {_param_label(param)}",
                )

    def _request_body(self, old: Operation, new: Operation) -> None:
        where = f"{new.key} request"
        if not old.request_body and new.request_body:
            breaking = new.request_required
            self.add(
                "request-body-added", breaking, Category.REQUIRED_FIELD if breaking else None, new.label, where, None,
                sorted(new.request_body),
                "operation now " + ("requires" if breaking else "accepts") + " a request body",
            )
            return
        if old.request_body and not new.request_body:
            self.add(
                "request-body-removed", False, None, new.label, where, sorted(old.request_body), None,
                "operation no longer takes a request body (the server ignores it now)",
            )
            return
        if not old.request_required and new.request_required:
            self.add(
                "request-body-required", True, Category.REQUIRED_FIELD, new.label, where, False, True,
                "request body became required",
            )
        elif old.request_required and not new.request_required:
            self.add(
                "request-body-optional", False, Category.REQUIRED_FIELD, new.label, where, True, False,
                "request body became optional",
            )
        old_media, new_media = _media_index(old.request_body), _media_index(new.request_body)
        for media, name in old_media.items():
            if media not in new_media:
                self.add(
                    "request-content-type-removed", True, Category.CONTENT_TYPE, new.label, f"{where} {name}",
                    name, None,
                    f"request content type {name} no longer accepted",
                )
        for media, name in new_media.items():
            if media not in old_media:
                self.add(
                    "request-content-type-added", False, Category.CONTENT_TYPE, new.label, f"{where} {name}",
                    None, name,
                    f"request content type {name} now accepted",
                )
        for media in old_media.keys() & new_media.keys():
            a, b = old.request_body[old_media[media]], new.request_body[new_media[media]]
            if a.schema_pointer or b.schema_pointer:
                self._schema(
                    self.old.at(a.schema_pointer) if a.schema_pointer else {},
                    self.new.at(b.schema_pointer) if b.schema_pointer else {},
                    "request", new, f"{where} {new_media[media]}", None, (), set(),
                )

    def _responses(self, old: Operation, new: Operation) -> None:
        old_codes, new_codes = list(old.responses), list(new.responses)
        removed = [s for s in old_codes if s not in new.responses]
        added = [s for s in new_codes if s not in old.responses]
        added_ok = [s for s in added if _is_success(s)]
        for status in removed:
            where = f"{new.key} {status}"
            if _is_success(status) and added_ok:
                replacement = added_ok.pop(0)
                added.remove(replacement)
                self.add(
                    "success-status-changed", True, Category.STATUS_CODE, new.label, where, status, replacement,
                    f"success status changed {status} -> {replacement}: clients checking the status will fail",
                )
            elif _is_success(status):
                self.add(
                    "success-status-removed", True, Category.STATUS_CODE, new.label, where, status, None,
                    f"success status {status} no longer documented",
                )
            else:
                self.add(
                    "status-removed", False, Category.STATUS_CODE, new.label, where, status, None,
                    f"response {status} no longer documented",
                )
        for status in added:
            self.add(
                "status-added", False, Category.STATUS_CODE, new.label, f"{new.key} {status}", None, status,
                f"response {status} newly documented",
            )
        for status in (s for s in old_codes if s in new.responses):
            self._response(old, new, status)

    def _response(self, old: Operation, new: Operation, status: str) -> None:
        a, b = old.responses[status], new.responses[status]
        where = f"{new.key} {status}"
        error = not _is_success(status) and not status.startswith(("1", "3"))
        for name in a.headers:
            if name.lower() not in {h.lower() for h in b.headers}:
                category = Category.PAGINATION if name.lower() in ("link", "x-total-count") and new.pagination else None
                self.add(
                    "response-header-removed", True, category, new.label, f"{where} header {name}", name, None,
                    f"response header {name} no longer documented",
                )
        for name in b.headers:
            if name.lower() not in {h.lower() for h in a.headers}:
                self.add(
                    "response-header-added", False, None, new.label, f"{where} header {name}", None, name,
                    f"response header {name} newly documented",
                )
        old_media, new_media = _media_index(a.content), _media_index(b.content)
        for media, name in old_media.items():
            if media not in new_media:
                self.add(
                    "response-content-type-removed", True, Category.CONTENT_TYPE, new.label, f"{where} {name}", name,
                    None, f"response content type {name} no longer sent",
                )
        for media, name in new_media.items():
            if media not in old_media:
                self.add(
                    "response-content-type-added", False, Category.CONTENT_TYPE, new.label, f"{where} {name}", None,
                    name, f"response content type {name} newly documented",
                )
        for media in old_media.keys() & new_media.keys():
            ma, mb = a.content[old_media[media]], b.content[new_media[media]]
            loc = f"{where} {new_media[media]}"
            if ma.schema_pointer and not mb.schema_pointer:
                self.add(
                    "response-schema-removed", True, Category.ERROR_SHAPE if error else None, new.label, loc,
                    ma.schema_pointer, None, "response body schema no longer documented",
                )
                continue
            if not ma.schema_pointer:
                continue
            envelope: set[str] = set()
            if _is_success(status):  # old and new names: a renamed envelope field is found under either
                for pagination in (old.pagination, new.pagination):
                    envelope |= {str(v) for v in ((pagination or {}).get("envelope") or {}).values()}
            before = len(self.changes)
            self._schema(
                self.old.at(ma.schema_pointer), self.new.at(mb.schema_pointer) if mb.schema_pointer else {}, "response", new, loc,
                Category.ERROR_SHAPE if error else None, (), set(),
            )
            if envelope or (new.action == "list" and _is_success(status)):
                self._mark_envelope(before, envelope)

    def _mark_envelope(self, start: int, envelope: set[str]) -> None:
        """Breaking changes to a list response's top level (or its envelope fields) are pagination changes."""
        for i in range(start, len(self.changes)):
            change = self.changes[i]
            ptr = change.location.rpartition(" #")[2]
            tokens = [t for t in ptr.split("/") if t]
            top = ptr in ("", "/") or (len(tokens) == 1 and tokens[0] in envelope)
            if change.breaking and top:
                self.changes[i] = Change(
                    change.kind, True, Category.PAGINATION, change.operation, change.location,
                    change.old, change.new, change.message + " (list envelope changed)",
                )

    # ---- schema level
    def _schema(
        self,
        old_schema: Any,
        new_schema: Any,
        direction: Direction,
        op: Operation,
        where: str,
        category: Category | None,
        path: tuple[str, ...],
        stack: set[tuple[frozenset[int], frozenset[int]]],
    ) -> None:
        """Compare two schemas at one location; `category` overrides the facet's category (error bodies)."""
        if len(path) > _MAX_DEPTH:
            return
        a, b = _view(self.old, old_schema), _view(self.new, new_schema)
        loc = f"{where} #" + "".join("/" + _escape(t) for t in path)
        field_name = "/".join(path) or "body"
        req = direction == "request"

        def emit(kind: str, breaking: bool, cat: Category | None, old: Any, new: Any, message: str) -> None:
            self.add(f"{direction}-{kind}", breaking, category or cat, op.label, loc, old, new, message)

        # types
        type_changed = False
        if a.nonnull is not None and b.nonnull is not None and a.nonnull and b.nonnull and a.nonnull != b.nonnull:
            type_changed = True
            breaking = not _covers(b.nonnull, a.nonnull) if req else not _covers(a.nonnull, b.nonnull)
            emit(
                "field-retyped", breaking, Category.FIELD_TYPE, _type_label(a.nonnull), _type_label(b.nonnull),
                f"{field_name}: type changed {_type_label(a.nonnull)} -> {_type_label(b.nonnull)}"
                + ("" if breaking else (" (widened)" if req else " (narrowed)")),
            )
        # nullability
        if a.nullable is not None and b.nullable is not None and a.nullable != b.nullable:
            if b.nullable:
                emit(
                    "field-nullable", not req, Category.FIELD_TYPE, False, True,
                    f"{field_name}: may now be null" + ("" if req else " (clients may not handle null)"),
                )
            else:
                emit(
                    "field-not-nullable", req, Category.FIELD_TYPE, True, False,
                    f"{field_name}: no longer " + ("accepts" if req else "sent as") + " null",
                )
        # enums
        if not type_changed:
            self._enum(a, b, direction, emit, field_name)
        # format
        if not type_changed and a.format != b.format:
            if a.format and b.format:
                breaking = True
            elif b.format:  # a format appeared: requests are stricter, responses better specified
                breaking = req
            else:
                breaking = not req
            emit(
                "field-format-changed", breaking, Category.FIELD_TYPE, a.format, b.format,
                f"{field_name}: format {a.format or 'none'} -> {b.format or 'none'}",
            )
        if type_changed and not (a.is_object and b.is_object) and not (a.items is not None and b.items is not None):
            return
        # A recursive schema (Account.parent is an Account): its own facets were compared above, its
        # children already are being compared further up this path.
        marker = (a.origins, b.origins)
        if marker in stack:
            return
        stack = stack | {marker}
        # objects
        if a.is_object or b.is_object:
            self._properties(a, b, direction, op, where, category, path, stack)
        # arrays
        if a.items is not None and b.items is not None:
            self._schema(a.items, b.items, direction, op, where, category, path + ("items",), stack)
        if isinstance(a.additional, dict) and isinstance(b.additional, dict):
            self._schema(a.additional, b.additional, direction, op, where, category, path + ("*",), stack)

    def _enum(self, a: _View, b: _View, direction: Direction, emit: Any, field_name: str) -> None:
        req = direction == "request"
        if a.enum is not None and b.enum is not None:
            old_keys, new_keys = {_key(v) for v in a.enum}, {_key(v) for v in b.enum}
            for value in b.enum:
                if _key(value) not in old_keys:
                    emit(
                        "enum-value-added", not req, Category.ENUM, None, value,
                        f"{field_name}: enum value {value!r} added"
                        + ("" if req else " (clients switching on this field may not handle it)"),
                    )
            for value in a.enum:
                if _key(value) not in new_keys:
                    emit(
                        "enum-value-removed", req, Category.ENUM, value, None,
                        f"{field_name}: enum value {value!r} removed"
                        + (" (clients sending it are rejected)" if req else ""),
                    )
        elif a.enum is not None:
            emit(
                "enum-removed", not req, Category.ENUM, a.enum, None,
                f"{field_name}: no longer restricted to an enum"
                + ("" if req else " (any value may now be sent)"),
            )
        elif b.enum is not None:
            emit(
                "enum-introduced", req, Category.ENUM, None, b.enum,
                f"{field_name}: now restricted to {b.enum!r}" + (" (other values are rejected)" if req else ""),
            )

    def _properties(
        self,
        a: _View,
        b: _View,
        direction: Direction,
        op: Operation,
        where: str,
        category: Category | None,
        path: tuple[str, ...],
        stack: set[tuple[frozenset[int], frozenset[int]]],
    ) -> None:
        req = direction == "request"
        old_props, new_props = self._visible(self.old, a, direction), self._visible(self.new, b, direction)
        old_required = a.required & set(old_props) if req else a.required
        new_required = b.required & set(new_props) if req else b.required
        removed = [n for n in old_props if n not in new_props]
        added = [n for n in new_props if n not in old_props]

        def loc(name: str) -> str:
            return f"{where} #" + "".join("/" + _escape(t) for t in path + (name,))

        def emit(kind: str, breaking: bool, cat: Category | None, name: str, old: Any, new: Any, msg: str) -> None:
            self.add(f"{direction}-{kind}", breaking, category or cat, op.label, loc(name), old, new, msg)

        renamed: dict[str, str] = {}
        if not req:  # a response field that vanished while a same-typed one appeared: most likely a rename
            candidates = {n: _signature(_view(self.new, new_props[n])) for n in added}
            for name in removed:
                sig = _signature(_view(self.old, old_props[name]))
                if sig is None:
                    continue
                pool = [n for n, s in candidates.items() if s == sig and n not in renamed.values()]
                if pool:
                    best = max(pool, key=lambda n: difflib.SequenceMatcher(None, name, n).ratio())
                    renamed[name] = best
        prefix = "/".join(path)
        for name in removed:
            label = f"{prefix}/{name}" if prefix else name
            if name in renamed:
                emit(
                    "field-renamed", True, Category.REQUIRED_FIELD, name, name, renamed[name],
                    f"{label}: renamed to {renamed[name]!r} (removed and added with the same type)",
                )
            elif req:
                closed = b.additional is False
                emit(
                    "field-removed", closed, None, name, name, None,
                    f"{label}: no longer accepted" + (" and the body is closed (sending it is rejected)" if closed else
                                                       " (the server ignores it)"),
                )
            else:
                emit(
                    "field-removed", True, Category.REQUIRED_FIELD, name, name, None,
                    f"{label}: removed from the response",
                )
        for name in added:
            label = f"{prefix}/{name}" if prefix else name
            if name in renamed.values():
                continue
            if req and name in new_required:
                emit(
                    "field-added-required", True, Category.REQUIRED_FIELD, name, None, name,
                    f"{label}: new required request field (existing requests lack it)",
                )
            else:
                emit("field-added", False, None, name, None, name, f"{label}: new {direction} field")
        for name in (n for n in old_props if n in new_props):
            label = f"{prefix}/{name}" if prefix else name
            was, now = name in old_required, name in new_required
            if was != now:
                if req:
                    emit(
                        "field-required" if now else "field-optional", now, Category.REQUIRED_FIELD, name, was, now,
                        f"{label}: " + ("became required" if now else "became optional"),
                    )
                else:
                    emit(
                        "field-required" if now else "field-optional", not now, Category.REQUIRED_FIELD, name, was, now,
                        f"{label}: " + ("now always present" if now else "no longer always present (was required)"),
                    )
            self._schema(old_props[name], new_props[name], direction, op, where, category, path + (name,), stack)

    @staticmethod
    def _visible(contract: Contract, view: _View, direction: Direction) -> dict[str, Any]:
        """Properties that exist in this direction (readOnly only in responses, writeOnly only in requests)."""
        out: dict[str, Any] = {}
        for name, schema in view.properties.items():
            node = _deref(contract, schema)
            if direction == "request" and node.get("readOnly") is True:
                continue
            if direction == "response" and node.get("writeOnly") is True:
                continue
            out[name] = schema
        return out


# ----------------------------------------------------------------------------------------- utilities


def _signature(view: _View) -> tuple[str, ...] | None:
    """What two fields must share to be taken for a rename: the same non-null JSON types."""
    if not view.nonnull:
        return None
    return tuple(sorted(view.nonnull))


def _template(path: str) -> str:
    return re.sub(r"{[^}]+}", "{}", path)


def _explicit_id(op: Operation) -> str | None:
    value = op.definition.get("operationId")
    return str(value) if value else None


def _match_operations(
    old: list[Operation], new: list[Operation]
) -> tuple[list[tuple[Operation, Operation]], list[Operation], list[Operation]]:
    """Pair operations by operationId first, then by verb + path template; the rest are removed/added."""
    pairs: list[tuple[Operation, Operation]] = []
    new_by_id = {_explicit_id(op): op for op in new if _explicit_id(op)}
    used: set[int] = set()
    unmatched: list[Operation] = []
    for op in old:
        oid = _explicit_id(op)
        match = new_by_id.get(oid) if oid else None
        if match is not None and id(match) not in used:
            pairs.append((op, match))
            used.add(id(match))
        else:
            unmatched.append(op)
    removed: list[Operation] = []
    for op in unmatched:
        match = next(
            (
                n for n in new
                if id(n) not in used and n.method == op.method and _template(n.path) == _template(op.path)
                and not (_explicit_id(n) and any(_explicit_id(o) == _explicit_id(n) for o in old))
            ),
            None,
        )
        if match is None:
            removed.append(op)
        else:
            pairs.append((op, match))
            used.add(id(match))
    order = {id(op): i for i, op in enumerate(old)}
    pairs.sort(key=lambda p: order[id(p[0])])
    added = [op for op in new if id(op) not in used]
    return pairs, removed, added


def _security_alternatives(op: Operation) -> frozenset[frozenset[tuple[str, tuple[str, ...]]]]:
    return frozenset(
        frozenset((str(name), tuple(sorted(scopes or []))) for name, scopes in requirement.items())
        for requirement in op.security
    )


def _alt_label(alt: frozenset[tuple[str, tuple[str, ...]]]) -> str:
    if not alt:
        return "anonymous"
    return "+".join(name + (f"[{','.join(scopes)}]" if scopes else "") for name, scopes in sorted(alt))


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_docs(v) for k, v in node.items() if k not in ("description", "summary")}
    return node


def _param_index(contract: Contract, op: Operation) -> dict[tuple[str, str], dict[str, Any]]:
    """Parameters keyed by location; path parameters by position, since renaming them keeps the URL."""
    positions = {name: i for i, name in enumerate(op.path_params())}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in op.parameters:
        param = contract.resolve(raw)
        where, name = str(param.get("in")), str(param.get("name"))
        if where == "header":
            name = name.lower()
        key = (where, f"#{positions[name]}") if where == "path" and name in positions else (where, name)
        out[key] = dict(param)
    return out


def _param_label(param: dict[str, Any]) -> str:
    return f"{param.get('in')}:{param.get('name')}"


def _media_index(content: Any) -> dict[str, str]:
    """Media types keyed without parameters (`application/json; charset=utf-8` is `application/json`)."""
    return {name.split(";")[0].strip().lower(): name for name in content}


def _is_success(status: str) -> bool:
    return status.startswith("2")


# ----------------------------------------------------------------------------------------------- API


def diff_contracts(
    old: Contract, new: Contract, *, old_label: str | None = None, new_label: str | None = None
) -> DiffReport:
    """Every change from `old` to `new`, each judged breaking or not for an existing client."""
    changes = _Differ(old, new).run()
    return DiffReport(old=old_label or str(old.path), new=new_label or str(new.path), changes=changes)


def render_text(report: DiffReport) -> str:
    lines = [
        f"apiconform diff {report.old} -> {report.new}",
        f"{len(report.breaking)} breaking, {len(report.non_breaking)} non-breaking",
    ]
    for title, group in (("BREAKING", report.breaking), ("NON-BREAKING", report.non_breaking)):
        if not group:
            continue
        lines += ["", f"{title}:"]
        for c in group:
            cat = f"[{c.category.value}] " if c.category else ""
            op = f"{c.operation}: " if c.operation else ""
            lines.append(f"  {cat}{c.kind}  {op}{c.location}")
            lines.append(f"      {c.message}")
    if not report.changes:
        lines += ["", "no changes"]
    return "\n".join(lines) + "\n"


def render_markdown(report: DiffReport) -> str:
    def cell(text: Any) -> str:
        return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")

    lines = [
        f"# Contract diff: `{report.old}` → `{report.new}`",
        "",
        f"**{len(report.breaking)} breaking**, {len(report.non_breaking)} non-breaking.",
    ]
    for title, group in (("Breaking changes", report.breaking), ("Non-breaking changes", report.non_breaking)):
        if not group:
            continue
        lines += ["", f"## {title}", "", "| Kind | Category | Operation | Location | Change |", "|---|---|---|---|---|"]
        for c in group:
            lines.append(
                f"| {cell(c.kind)} | {cell(c.category.value if c.category else '')} | {cell(c.operation)} | "
                f"`{cell(c.location)}` | {cell(c.message)} |"
            )
    if not report.changes:
        lines += ["", "No changes."]
    return "\n".join(lines) + "\n"


def render_json(report: DiffReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render(report: DiffReport, fmt: str = "text") -> str:
    """Render in one of FORMATS."""
    renderers = {"text": render_text, "md": render_markdown, "json": render_json}
    if fmt not in renderers:
        raise UsageError(f"unknown diff format {fmt!r} (known: {', '.join(FORMATS)})")
    return renderers[fmt](report)


# ------------------------------------------------------------------------------- loading OLD and NEW


@contextlib.contextmanager
def open_contract(spec: str) -> Iterator[Contract]:
    """Load `PATH`, `VENDOR`, `PATH@REV` or `VENDOR@REV`; temporary copies live until the block exits.

    Diffing needs only schemas, so a contract whose example files are missing (often the case at an old
    revision, or in a half-written working tree) is loaded from a copy with `externalValue`s stripped.
    """
    with contextlib.ExitStack() as stack:
        target, rev = _split_rev(spec)
        if rev is None:
            path = contract_path(target)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apiconform-diff-")))
            path = _materialise(target, rev, tmp)
        yield _load_lenient(path, stack)


def _split_rev(spec: str) -> tuple[str, str | None]:
    if "@" not in spec or Path(spec).exists():
        return spec, None
    target, _, rev = spec.rpartition("@")
    if not target or not rev:
        raise UsageError(f"{spec!r}: expected PATH, VENDOR, PATH@GITREV or VENDOR@GITREV")
    return target, rev


def _target_file(target: str) -> Path:
    """The contract file a target names, whether or not it exists in the working tree."""
    candidate = Path(target)
    if candidate.suffix in (".yaml", ".yml", ".json") or os.sep in target or candidate.exists():
        if candidate.is_dir() or not candidate.suffix:
            candidate = candidate / CONTRACT_FILE
        return candidate.resolve()
    return (vendor_contract(target) or contracts_dir() / target / CONTRACT_FILE).resolve()


def _git(cwd: Path, *args: str, binary: bool = False) -> Any:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed: cannot read a contract at a revision") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return proc.stdout if binary else proc.stdout.decode()


def _materialise(target: str, rev: str, tmp: Path) -> Path:
    """Extract the contract's folder (contract, examples, split files) as of `rev` into `tmp`."""
    file = _target_file(target)
    anchor = file.parent
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    top = Path(_git(anchor, "rev-parse", "--show-toplevel").strip()).resolve()
    try:
        rel = file.relative_to(top)
    except ValueError:
        raise UsageError(f"{file}: not inside the git repository {top}") from None
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=top, capture_output=True, check=False
    )
    if check.returncode != 0:
        raise UsageError(f"unknown git revision {rev!r}")
    exists = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}:{rel.as_posix()}"], cwd=top, capture_output=True, check=False
    )
    if exists.returncode != 0:
        raise ContractError(f"{rel.as_posix()}: does not exist at revision {rev}")
    out = tmp / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    if rel.parent == Path("."):  # a contract at the repository root: the file alone, not the whole tree
        out.write_bytes(_git(top, "show", f"{rev}:{rel.as_posix()}", binary=True))
        return out
    data = _git(top, "archive", "--format=tar", rev, "--", rel.parent.as_posix(), binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            archive.extractall(tmp)  # noqa: S202 - our own repository's archive
    return out


def _load_lenient(path: Path, stack: contextlib.ExitStack) -> Contract:
    try:
        return load_contract(path)
    except ContractError as first:
        stripped = _strip_examples(path, stack)
        if stripped is None:
            raise
        try:
            return load_contract(stripped)
        except ContractError:
            raise first from None


_NOT_CONTRACT_FILES = ("examples", ".git", ".venv", "node_modules", "__pycache__", "*.py", "*.md", "*.txt")


def _has_external_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_external_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_external_refs(v) for v in node)
    return False


def _strip_examples(path: Path, stack: contextlib.ExitStack) -> Path | None:
    """A copy of the contract folder whose document has no `externalValue` (None if it had none)."""
    document = read_document(path)
    found = False

    def strip(node: Any) -> None:
        nonlocal found
        if isinstance(node, dict):
            if isinstance(node.get("externalValue"), str):
                del node["externalValue"]
                found = True
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(document)
    if not found:
        return None
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apiconform-diff-")))
    folder = tmp / path.parent.name
    if _has_external_refs(document):  # split contract: bring the sibling documents along
        shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns(*_NOT_CONTRACT_FILES))
    else:
        folder.mkdir()
    out = folder / path.name
    if path.suffix == ".json":
        out.write_text(json.dumps(document), encoding="utf-8")
    else:
        out.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out
