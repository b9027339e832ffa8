"""The loaded contract: operations indexed once, schemas compiled once per process."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from apiconform.contracts._extensions import DEFAULT_ENVELOPE, Envelope, Idempotency, Pagination
from apiconform.contracts._pointer import split, unescape
from apiconform.errors import ContractError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry, Resource

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ACTIONS = ("list", "create", "read", "update", "replace", "delete", "action")
#: kinds of error the mock produces; an error Example Object names the kinds it answers with `x-apiconform-error`
EXAMPLE_ERROR_EXTENSION = "x-apiconform-error"
ERROR_KINDS = ("unauthenticated", "forbidden", "validation", "bad_request", "not_found", "method_not_allowed",
               "rate_limited", "conflict", "unsupported_media_type", "idempotency_conflict")


def declared_error_kinds(example: Any) -> tuple[str, ...]:
    """The error kinds an Example Object is declared for (`x-apiconform-error: kind` or a list)."""
    kinds = example.get(EXAMPLE_ERROR_EXTENSION) if isinstance(example, Mapping) else None
    if isinstance(kinds, str):
        return (kinds,)
    return tuple(str(k) for k in kinds) if isinstance(kinds, list) else ()


@functools.cache
def format_checker() -> Any:
    """jsonschema's format checker for 2020-12 (jsonschema is imported when a validator is first explained)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator.FORMAT_CHECKER


@dataclass(frozen=True)
class MediaSpec:
    """One documented media type of a request body or response."""

    media_type: str
    schema_pointer: str | None
    examples: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ResponseSpec:
    status: str  # "200", "4XX" or "default"
    description: str
    content: Mapping[str, MediaSpec]
    headers: Mapping[str, Mapping[str, Any]]
    links: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Operation:
    """One documented operation, with the apiconform extensions already read."""

    vendor: str
    operation_id: str
    method: str
    path: str
    pointer: str
    definition: Mapping[str, Any]
    parameters: tuple[Mapping[str, Any], ...]
    param_schemas: Mapping[tuple[str, str], str]  # (in, name) -> JSON pointer of the parameter's schema
    request_body: Mapping[str, MediaSpec]
    request_required: bool
    responses: Mapping[str, ResponseSpec]
    security: tuple[Mapping[str, list[str]], ...]
    resource: str | None
    action: str | None
    id_param: str | None
    id_field: str
    pagination: Pagination | None  # typed `x-apiconform-pagination`
    sort: Mapping[str, Any] | None
    idempotency: Idempotency | None  # typed `x-apiconform-idempotency`

    @property
    def label(self) -> str:
        """The name findings and reports use: the operationId, else `METHOD /path`."""
        return self.operation_id or f"{self.method.upper()} {self.path}"

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def envelope_names(self) -> Envelope:
        """Member names of this list's envelope (`count`, `next`, `previous`, `results`): the declared ones,
        else the defaults (a list answer read without a declared envelope still finds `results`)."""
        return self.pagination.names if self.pagination is not None else DEFAULT_ENVELOPE

    @property
    def form_params(self) -> bool:
        """Whether the operation's query parameters may equally arrive as fields of an
        application/x-www-form-urlencoded body (`x-apiconform-form-params: true`): servers that read
        "request parameters" from either place."""
        return bool(self.definition.get("x-apiconform-form-params"))

    @property
    def declared_safe(self) -> bool:
        """Declared to change nothing although its method could (`x-apiconform-safe: true`: a query sent as a
        POST, e.g. `POST /flows/filter`): the write policy lets it through; read-only runs still skip it."""
        return self.definition.get("x-apiconform-safe") is True

    @property
    def is_safe(self) -> bool:
        """Cannot change state on the vendor (RFC 9110 safe methods)."""
        return self.method in ("get", "head", "options")

    def response_for(self, status: int) -> ResponseSpec | None:
        """The documented response for a status: exact, then `4XX`-style range, then `default`."""
        exact = self.responses.get(str(status))
        if exact is not None:
            return exact
        ranged = self.responses.get(f"{status // 100}XX") or self.responses.get(f"{status // 100}xx")
        return ranged or self.responses.get("default")

    @property
    def implied_auth_statuses(self) -> tuple[int, ...]:
        """401 and 403 when the operation requires credentials but documents no auth failure (no 401/403,
        no `4XX`, no `default`): RFC 9110 gives every protected resource those answers, so the mock answers
        401 there and the judge accepts 401/403 as documented by the security requirement (the run says so)."""
        if not any(self.security) or any(k in self.responses for k in ("401", "403", "4XX", "4xx", "default")):
            return ()
        return (401, 403)

    def success_statuses(self) -> list[int]:
        return sorted(int(s) for s in self.responses if s.isdigit() and 200 <= int(s) < 300)

    def path_params(self) -> list[str]:
        return re.findall(r"{([^}]+)}", self.path)

    def fill_path(self, values: Mapping[str, Any], *, encoded: bool = False) -> str:
        """This operation's path with each `{name}` replaced by its value, percent-encoded for the parameter's
        `style` (see `fill_path`); `encoded`: the values are already in their wire form."""
        return fill_path(self.path, values, self._path_styles, encoded=encoded, reserved=self._path_reserved)

    def path_wire(self, name: str, value: Any) -> str:
        """One path parameter's value as this operation sends it (`path_value`: its `style`, `allowReserved`): what a
        value set afterwards (configured, discovered, an id-style value) must look like beside generated ones."""
        return path_value(value, self._path_styles.get(name, "simple"), name, name in self._path_reserved)

    @functools.cached_property
    def _path_styles(self) -> dict[str, str]:
        return {str(p.get("name")): str(p.get("style") or "simple") for p in self.parameters if p.get("in") == "path"}

    @functools.cached_property
    def _path_reserved(self) -> frozenset[str]:
        """Path parameters whose values keep reserved characters (`allowReserved: true`, RFC 6570 `{+name}`)."""
        return frozenset(str(p.get("name")) for p in self.parameters if p.get("in") == "path" and p.get("allowReserved") is True)

    @functools.cached_property
    def _path_regex(self) -> re.Pattern[str]:
        pieces = re.split(r"({[^}]+})", self.path)
        return re.compile("^" + "".join(("(.+)" if p[1:-1] in self._path_reserved else "([^/]+)") if p.startswith("{")
                                        else re.escape(p) for p in pieces) + "$")

    def match_path(self, raw_path: str) -> dict[str, str] | None:
        """Path parameters of a percent-encoded request path, or None if it is not this operation's path.

        Matching happens before decoding, so an encoded `/` (%2F) stays inside its segment; a parameter with
        `allowReserved` may span segments. Each value is read back as its `style` wrote it (`.v`, `;name=v`)."""
        match = self._path_regex.match(raw_path)
        if match is None:
            return None
        values: dict[str, str] = {}
        for name, value in zip(self.path_params(), match.groups()):
            style = self._path_styles.get(name, "simple")
            prefix = "." if style == "label" else f";{name}=" if style == "matrix" else ""
            values[name] = unquote(value.removeprefix(prefix))
        return values

    @property
    def documents_validation(self) -> bool:
        """Whether invalid input has a documented answer (400/422 or a 4XX range): only then can the
        API be blamed for accepting bad input, and only then may a faithful server reject it."""
        return any(s in self.responses for s in ("400", "422", "4XX", "4xx"))



_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}  # a literal dot segment would change the path itself


_RESERVED = ":/[]@!$&'()*+,;="  # RFC 3986 reserved characters but `?` and `#`, which would end the path
_TRIPLET = re.compile(r"(%[0-9A-Fa-f]{2})")


def path_value(value: Any, style: str = "simple", name: str = "", reserved: bool = False) -> str:
    """One path parameter's value in its wire form (RFC 6570 expansion of a scalar, as OpenAPI `style` says):
    `simple` the value, `label` `.value`, `matrix` `;name=value`; every reserved character percent-encoded
    (a `/` inside a value stays inside its segment), unless `reserved` (`allowReserved`: RFC 6570 reserved
    expansion, `{+name}`: reserved characters and percent-encoded triplets pass, so `a/b.txt` spans two segments).
    A dot segment (`.`, `..`) is always encoded: clients and servers would remove it from the path."""
    text = "true" if value is True else "false" if value is False else str(value)
    if reserved:
        quoted = "/".join(_DOT_SEGMENTS.get(part) or "".join(
            piece if _TRIPLET.fullmatch(piece) else quote(piece, safe=_RESERVED) for piece in _TRIPLET.split(part))
            for part in text.split("/"))
    else:
        quoted = _DOT_SEGMENTS.get(text) or quote(text, safe="")
    if style == "label":
        return "." + quoted
    if style == "matrix":
        return f";{name}={quoted}"
    return quoted


def fill_path(template: str, values: Mapping[str, Any], styles: Mapping[str, str] | None = None, *,
              encoded: bool = False, reserved: frozenset[str] = frozenset()) -> str:
    """An OpenAPI path template with each `{name}` replaced by its value (`path_value`, per `styles` and `reserved`,
    the names with `allowReserved`; as it is when `encoded`, e.g. a replayed case's generated values); a name
    without a value is a KeyError.
    The one path filler: the engine's cases, lifecycles, discovery and preflight, `apiconform mock`'s example."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"path parameter {name!r} of {template} has no value")
        if encoded:
            return str(values[name])
        return path_value(values[name], (styles or {}).get(name, "simple"), name, name in reserved)

    return _PLACEHOLDER.sub(value, template)


def echo_pairs(op: Operation) -> list[tuple[str, str]]:
    """`x-apiconform-echo` as (request pointer, response pointer) pairs: a pointer string means the same
    place in both bodies; `{request: ..., response: ...}` maps one onto the other (read by the engine's
    check and the mock's drift alike)."""
    pairs: list[tuple[str, str]] = []
    for entry in op.definition.get("x-apiconform-echo") or []:
        if isinstance(entry, str):
            pairs.append((entry, entry))
        elif isinstance(entry, dict) and entry.get("request") and entry.get("response"):
            pairs.append((str(entry["request"]), str(entry["response"])))
    return pairs

_NOT_LOCAL: Any = object()  # `Contract._local`: the registry decides


@dataclass
class Contract:
    """A vendor contract (or any OpenAPI 3.x document) ready for the engine."""

    vendor: str
    path: Path
    document: dict[str, Any]
    base_uri: str
    operations: dict[str, Operation] = field(default_factory=dict)
    #: how referencing fetches a document another file's `$ref` names (None: no retrieval)
    retrieve: Callable[[str], Resource] | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def registry(self) -> Registry:
        """referencing's registry holding the document, built (and referencing imported, ~50-100 ms with attrs) on
        first use: the validators and a `$ref` to another file need it; a local `$ref` is followed without it."""
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry: Registry = Registry() if self.retrieve is None else Registry(  # type: ignore[call-arg]  # attrs init
            retrieve=self.retrieve)
        resource: Resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        with_document: Registry = registry.with_resource(self.base_uri, resource)
        return with_document

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", self.vendor))

    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", ""))

    @property
    def server_url(self) -> str | None:
        servers = self.document.get("servers") or []
        return servers[0].get("url") if servers else None

    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("components", {}).get("securitySchemes", {}))

    @functools.cached_property
    def asserts_content(self) -> bool:
        """Whether a schema of the document asserts encoded content (`contracts._content`): a known
        `contentEncoding` or a JSON `contentMediaType`; only then are request strings decoded to be judged."""
        from apiconform.contracts._content import uses_content

        return uses_content(self.document)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())

    def __len__(self) -> int:
        return len(self.operations)

    def operation(self, name: str) -> Operation:
        """Look an operation up by operationId or `METHOD /path`."""
        if name in self.operations:
            return self.operations[name]
        method, _, path = name.partition(" ")
        for op in self.operations.values():
            if op.method == method.lower() and op.path == path:
                return op
        raise ContractError(f"{self.path}: no operation {name!r} in contract {self.vendor!r}")

    def resolve(self, node: Any) -> Any:
        """Follow `$ref`s until a concrete node (used for parameters, responses, examples). A `#/...` reference
        within the document is followed by its JSON pointer (`_local`: what referencing finds for it, without
        referencing); any other, or one `_local` cannot follow exactly, goes through the registry."""
        seen = 0
        resolver: Any = None  # referencing's, once a reference needed it (it then follows the rest of the chain)
        while isinstance(node, dict) and "$ref" in node:
            seen += 1
            if seen > 32:
                raise ContractError(f"{self.path}: $ref loop at {node['$ref']}")
            if resolver is None:
                local = self._local(node["$ref"])
                if local is not _NOT_LOCAL:
                    node = local
                    continue
                resolver = self.registry.resolver(self.base_uri)
            from referencing.exceptions import Unresolvable

            try:
                resolved = resolver.lookup(node["$ref"])
            except Unresolvable as exc:
                raise ContractError(f"{self.path}: unresolvable $ref {node['$ref']!r}") from exc
            node, resolver = resolved.contents, resolved.resolver
        return node

    def _local(self, ref: Any) -> Any:
        """The node a `#/...` reference from the document's root names, as referencing's JSON pointer lookup finds
        it (the fragment percent-decoded, `~1`/`~0` unescaped, an integer token into an array), or `_NOT_LOCAL`
        where that lookup could differ or fail: another document, an anchor, a document declaring `$schema` (its
        dialect decides which key is an id), an object on the way holding `$id` (it changes the base of the
        reference after it), anything but objects and arrays on the way, a missing member."""
        if not isinstance(ref, str) or not ref.startswith("#/") or "$schema" in self.document:
            return _NOT_LOCAL
        node: Any = self.document
        for token in unquote(ref[2:]).split("/"):
            if isinstance(node, dict):
                node = node.get(unescape(token), _NOT_LOCAL)
                if node is _NOT_LOCAL or (isinstance(node, dict) and "$id" in node):
                    return _NOT_LOCAL
            elif isinstance(node, list):
                try:
                    node = node[int(token)]
                except (ValueError, IndexError):
                    return _NOT_LOCAL
                if isinstance(node, dict) and "$id" in node:
                    return _NOT_LOCAL
            else:
                return _NOT_LOCAL
        return node

    def at(self, ptr: str) -> Any:
        """The node at a JSON pointer of the document (with `$ref`s followed)."""
        node: Any = self.document
        for token in split(ptr):
            node = self.resolve(node)
            node = node[int(token)] if isinstance(node, list) else node[token]
        return self.resolve(node)

    def parent_resource(self, op: Operation, depth: int) -> str | None:
        """The resource whose item path is `op.path` cut after its `depth`-th parameter (nesting)."""
        pieces = re.split(r"({[^}]+})", op.path)
        norm = re.sub(r"{[^}]+}", "{}", "".join(pieces[: 2 * depth])).rstrip("/")
        for other in self.operations.values():
            if other.action == "read" and re.sub(r"{[^}]+}", "{}", other.path).rstrip("/") == norm:
                return other.resource
        return None

    def path_param_resources(self, op: Operation) -> dict[str, str]:
        """Which resource's ids each path parameter takes (the item itself, or a parent)."""
        result: dict[str, str] = {}
        for i, name in enumerate(op.path_params()):
            if name == op.id_param and op.action not in ("list", "create") and op.resource:
                result[name] = op.resource
            else:
                parent = self.parent_resource(op, i + 1)
                if parent is not None:
                    result[name] = parent
        return result

    def deref_pointer(self, ptr: str) -> str:
        """The same location with local `$ref`s along the way followed, so it can be compiled directly."""
        node: Any = self.document
        real = ""
        for raw in ptr.split("/")[1:]:
            while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
                real = node["$ref"][1:]
                node = self.at(real) if real else self.document
            token = unescape(raw)
            node = node[int(token)] if isinstance(node, list) else node[token]
            real = f"{real}/{raw}"
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            real = node["$ref"][1:]
            node = self.at(real) if real else self.document
        return real

    def validator(self, schema_pointer: str) -> CheckedValidator:
        """A compiled validator for the schema at `schema_pointer`, cached for the process."""
        return _compiled(self, schema_pointer)

    def inline_validator(self, schema: Mapping[str, Any]) -> CheckedValidator:
        """A compiled validator for a schema given by value (a header's), cached for the process by its text."""
        import json

        return _inline(self, json.dumps(schema, sort_keys=True))

    def validate(self, schema_pointer: str, instance: Any) -> list[Any]:
        """All validation errors of `instance`, deepest first: what findings are built from."""
        errors = list(self.validator(schema_pointer).iter_errors(instance))
        return sorted(errors, key=lambda e: (-len(e.absolute_path), str(e.message)))

    def __hash__(self) -> int:  # contracts are singletons per path in a process
        return id(self)


class CheckedValidator:
    """The reference validator (jsonschema: the error messages and paths findings are built from), asked only
    when the compiled Rust validator (jsonschema-rs, which schemathesis already depends on) finds the instance
    invalid. Almost every instance the engine and the mock validate is valid, so most validations cost a few
    microseconds instead of a pure-Python walk. An instance either validator cannot take, or a schema the fast one
    cannot compile, goes to the reference alone; tests/contracts/test_fast_validation.py proves the two agree."""

    __slots__ = ("_make", "_reference", "fast")

    def __init__(self, make_reference: Callable[[], Validator], fast: Any | None) -> None:
        self._make = make_reference
        self._reference: Validator | None = None
        self.fast = fast

    @property
    def reference(self) -> Validator:
        """The jsonschema validator, built (and jsonschema imported) on first need: a run whose instances are
        all valid never loads it (~40 ms of a worker's start-up)."""
        if self._reference is None:
            self._reference = self._make()
        return self._reference

    def _surely_valid(self, instance: Any) -> bool:
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(instance))
        except (ValueError, TypeError, OverflowError):  # not a JSON value the Rust side can read
            return False

    def is_valid(self, instance: Any) -> bool:
        return self._surely_valid(instance) or bool(self.reference.is_valid(instance))

    def decides(self, instance: Any) -> bool:
        """Valid or not by the compiled validator alone where it can read the instance (the reference otherwise).
        Only for a choice between generated values (`engine._request.pin_path`): a finding's verdict always comes
        from `iter_errors`, where the reference has the last word on anything the fast validator rejects."""
        if self.fast is not None:
            try:
                return bool(self.fast.is_valid(instance))
            except (ValueError, TypeError, OverflowError):  # not a JSON value the Rust side can read
                pass
        return bool(self.reference.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        return iter(()) if self._surely_valid(instance) else iter(self.reference.iter_errors(instance))


@functools.lru_cache(maxsize=32)
def _fast_registry(contract: Contract) -> Any | None:
    try:
        import jsonschema_rs

        return jsonschema_rs.Registry([(contract.base_uri, contract.document)])
    except Exception:  # noqa: BLE001 - no fast path for this document; the reference validator decides alone
        return None


def _fast_validator(contract: Contract, schema: dict[str, Any]) -> Any | None:
    registry = _fast_registry(contract)
    if registry is None:
        return None
    try:
        import jsonschema_rs

        return jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True)
    except Exception:  # noqa: BLE001 - a schema the Rust validator cannot compile: the reference alone
        return None


@functools.lru_cache(maxsize=256)
def _inline(contract: Contract, text: str) -> CheckedValidator:
    import json

    schema = json.loads(text)

    def reference() -> Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema, registry=contract.registry, format_checker=format_checker())

    return CheckedValidator(reference, _fast_validator(contract, schema))


@functools.lru_cache(maxsize=4096)
def _compiled(contract: Contract, schema_pointer: str) -> CheckedValidator:
    schema = {"$ref": contract.base_uri + "#" + schema_pointer}

    def reference() -> Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema, registry=contract.registry, format_checker=format_checker())

    # a URI fragment: `{id}` in a path's pointer must be percent-encoded for the Rust resolver
    fast = {"$ref": contract.base_uri + "#" + quote(schema_pointer, safe="/~!$&'()*+,;=:@-._")}
    return CheckedValidator(reference, _fast_validator(contract, fast))
