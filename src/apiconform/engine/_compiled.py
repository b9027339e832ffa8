"""Valid requests drawn from strategies compiled once per operation, for the JSON Schema subset contracts use.

schemathesis builds its hypothesis strategies for every operation afresh, through layers of lazy, filtered and
example-mixing strategies, and its text strategies need hypothesis' per-codec unicode tables (computed over every
code point on a runner without a `.hypothesis/` directory): a first run on a contract spent ~10 ms per valid case
generating it. Here each parameter and body schema is compiled once (per contract, operation, known path values)
into plain hypothesis strategies — `integers`, `floats`, `text` over a fixed alphabet, `sampled_from`,
`fixed_dictionaries`, `lists`, `one_of` — so valid cases are still hypothesis-driven, seeded and shrinkable, and
a first run costs little more than a replay. Positive cases only; negative generation stays schemathesis'.

What it cannot compile exactly (`not`, `if`, `patternProperties`, cookies, non-JSON bodies, query objects,
formats it does not know, …) raises `Unsupported` and the operation is drawn by schemathesis as before. Every
drawn case is re-judged against the contract (`contracts._validate.validate_request`, the judge's own check)
and a case the contract would refuse is rejected inside hypothesis, so a positive case is always valid.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from apiconform.contracts import Contract, Operation
from apiconform.contracts import _content as content
from apiconform.engine._casecache import WireCase, fill_path

if TYPE_CHECKING:
    from hypothesis import settings as Settings
    from hypothesis.strategies import SearchStrategy

#: every character a generated string may hold: printable ASCII, then a few beyond it (Latin-1, CJK, an emoji,
#: a no-break space), so servers still see non-ASCII input; a fixed alphabet needs no unicode table
TEXT = "".join(chr(c) for c in range(0x20, 0x7F)) + "\u00e9\u00df\u00a0\u4e2d\u6587\U0001f600\u0416"
#: header values: visible ASCII only (no leading/trailing space, nothing httpx refuses to put on the wire)
HEADER_TEXT = "".join(chr(c) for c in range(0x21, 0x7F))
#: keywords that only annotate: they never make an instance invalid
ANNOTATIONS = frozenset({
    "description", "title", "default", "example", "examples", "deprecated", "readOnly", "writeOnly", "$comment",
    "xml", "externalDocs", "discriminator", "$schema", "$id", "$anchor", "$defs", "definitions",
})
#: keywords this compiler turns into strategies exactly
UNDERSTOOD = ANNOTATIONS | {
    "type", "enum", "const", "nullable", "properties", "required", "additionalProperties", "items", "minItems",
    "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "format", "anyOf", "oneOf", "allOf", "$ref",
    "contentEncoding", "contentMediaType", "contentSchema",  # drawn as the content they carry (`contracts._content`)
}
FORMATS = frozenset({"uuid", "date", "date-time", "email", "uri", "ipv4", "int32", "int64", "float", "double",
                     "byte", "binary", "password"})
MAX_DEPTH = 16
EXTRA_ITEMS = 3  # lists hold at most minItems + this


class Unsupported(Exception):
    """The operation uses something this compiler does not draw exactly: schemathesis draws it instead."""


# Functions handed to hypothesis (`map`, `filter`, `builds`) are named, never lambdas: hypothesis describes a lambda
# by parsing its source file (~0.3 s per process on a first run), a named function by its name.

@functools.cache
def _json_leaf() -> SearchStrategy[Any]:
    """Any JSON value (a schema that says nothing): scalars, and lists and objects of them, unicode keys included."""
    from hypothesis import strategies as st

    def nested(inner: SearchStrategy[Any]) -> SearchStrategy[Any]:
        return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(TEXT, max_size=8), inner, max_size=3))

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(TEXT, max_size=8),
                        st.floats(allow_nan=False, allow_infinity=False))
    return st.recursive(scalars, nested, max_leaves=6)


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    python = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}.get(kind)
    return python is not None and isinstance(value, python)


class _Compiler:
    def __init__(self, contract: Contract, alphabet: str = TEXT, min_text: int = 0) -> None:
        self.contract = contract
        self.alphabet = alphabet
        self.min_text = min_text

    def schema(self, node: Any, depth: int = 0) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        if depth > MAX_DEPTH:
            raise Unsupported("schema nested too deeply (recursive?)")
        if node is True or node == {}:
            return _json_leaf()
        if not isinstance(node, Mapping):
            raise Unsupported(f"schema {node!r}")
        if "$ref" in node:
            siblings = set(node) - {"$ref"} - ANNOTATIONS
            if siblings:
                raise Unsupported(f"$ref beside {sorted(siblings)}")
            return self.schema(self.contract.resolve(dict(node)), depth + 1)
        unknown = set(node) - UNDERSTOOD
        if any(not k.startswith("x-") for k in unknown):
            raise Unsupported(f"keywords {sorted(k for k in unknown if not k.startswith('x-'))}")
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            values = list(node["enum"])
            if not values:
                raise Unsupported("empty enum")
            return st.sampled_from(values)
        for combinator in ("anyOf", "oneOf", "allOf"):
            if combinator in node:
                return self._combined(node, combinator, depth)
        kinds = node.get("type")
        if isinstance(kinds, list):
            options = [self._typed(node, kind, depth) for kind in kinds]
            base: SearchStrategy[Any] = st.one_of(*options)
        elif isinstance(kinds, str):
            base = self._typed(node, kinds, depth)
        else:
            base = self._untyped(node, depth)
        if node.get("nullable") is True:
            return st.one_of(st.none(), base)
        return base

    def _combined(self, node: Mapping[str, Any], combinator: str, depth: int) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        siblings = set(node) - {combinator} - ANNOTATIONS - {"nullable"}
        branches = list(node[combinator])
        if combinator == "allOf":
            if len(branches) != 1 or siblings:
                raise Unsupported("allOf")
            return self.schema(branches[0], depth + 1)
        if siblings - {"type"}:
            raise Unsupported(f"{combinator} beside {sorted(siblings)}")
        options = [self.schema(branch, depth + 1) for branch in branches]  # oneOf: the judge rejects double matches
        if node.get("nullable") is True:
            options.insert(0, st.none())
        if "type" in node:  # the branches' values of the declared type(s)
            kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]

            def declared(value: Any) -> bool:
                return any(_is_type(value, kind) for kind in kinds)

            return st.one_of(*options).filter(declared)
        return st.one_of(*options)

    def _untyped(self, node: Mapping[str, Any], depth: int) -> SearchStrategy[Any]:
        if "properties" in node or "required" in node or "additionalProperties" in node:
            return self._typed(node, "object", depth)
        if "items" in node:
            return self._typed(node, "array", depth)
        if any(k in node for k in ("minLength", "maxLength", "pattern", "format")):
            return self._typed(node, "string", depth)
        if any(k in node for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return self._typed(node, "number", depth)
        return _json_leaf()

    def _typed(self, node: Mapping[str, Any], kind: str, depth: int) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return self._integer(node)
        if kind == "number":
            return self._number(node)
        if kind == "string":
            return self._string(node)
        if kind == "array":
            return self._array(node, depth)
        if kind == "object":
            return self._object(node, depth)
        raise Unsupported(f"type {kind!r}")

    def _integer(self, node: Mapping[str, Any]) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        low, high, ex_low, ex_high = _bounds(node)
        lo = None if low is None else (math.floor(low) + 1 if ex_low else math.ceil(low))
        hi = None if high is None else (math.ceil(high) - 1 if ex_high else math.floor(high))
        if node.get("format") == "int32":
            lo = -(2**31) if lo is None else max(lo, -(2**31))
            hi = 2**31 - 1 if hi is None else min(hi, 2**31 - 1)
        step = node.get("multipleOf")
        if step is not None:
            if not isinstance(step, int) or step <= 0:
                raise Unsupported("multipleOf")
            lo_k = None if lo is None else -(-lo // step)
            hi_k = None if hi is None else hi // step
            if lo_k is not None and hi_k is not None and lo_k > hi_k:
                raise Unsupported("no multiple in range")

            def multiple(k: int) -> int:
                return int(k * step)

            return st.integers(lo_k, hi_k).map(multiple)
        if lo is not None and hi is not None and lo > hi:
            raise Unsupported("empty integer range")
        return st.integers(lo, hi)

    def _number(self, node: Mapping[str, Any]) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        if node.get("multipleOf") is not None:
            raise Unsupported("multipleOf on a number")
        low, high, ex_low, ex_high = _bounds(node)
        return st.floats(min_value=low, max_value=high, exclude_min=ex_low and low is not None,
                         exclude_max=ex_high and high is not None, allow_nan=False, allow_infinity=False)

    def _string(self, node: Mapping[str, Any]) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        if content.asserted(node):
            return self._content(node)
        fmt = node.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise Unsupported(f"format {fmt!r}")
        low = max(int(node.get("minLength", 0)), self.min_text)
        high = node.get("maxLength")
        if high is not None and int(high) < low:
            raise Unsupported("empty string range")

        def sized(s: str) -> bool:
            return low <= len(s) and (high is None or len(s) <= int(high))

        if "pattern" in node:
            if fmt not in (None, "password", "byte", "binary"):
                raise Unsupported("pattern with a format")
            return st.from_regex(str(node["pattern"])).filter(sized)
        if fmt == "uuid":
            return st.uuids().map(str)
        if fmt == "date":
            return st.dates(date(1970, 1, 1), date(2100, 12, 31)).map(date.isoformat)
        if fmt == "date-time":
            return st.datetimes(datetime(1970, 1, 1), datetime(2100, 12, 31), timezones=st.just(UTC)).map(
                datetime.isoformat)
        if fmt == "email":
            local = st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=12).filter(_dot_atom)
            return local.map(_email).filter(sized)
        if fmt == "uri":
            return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", max_size=12).map(_uri).filter(sized)
        if fmt == "ipv4":
            return st.ip_addresses(v=4).map(str)
        return st.text(self.alphabet, min_size=low, max_size=None if high is None else int(high))

    def _content(self, node: Mapping[str, Any]) -> SearchStrategy[Any]:
        """A string carrying what its content keywords say: a JSON document (of `contentSchema`, drawn by this
        compiler) and/or bytes in a known encoding (base64, ...), within the string's own length bounds."""
        from hypothesis import strategies as st

        if "pattern" in node or node.get("format") not in (None, "byte", "binary", "password"):
            raise Unsupported("content with a pattern or format")
        encoding = content.encoding_of(node)
        if content.is_json_media(node):
            text: SearchStrategy[Any] = self.schema(node.get("contentSchema", True)).map(_json_text)
            data = text.map(_utf8)
        else:
            text = st.text(self.alphabet)
            data = st.binary(max_size=24)
        wire = text if encoding is None else data.map(functools.partial(_encoded, encoding))
        return wire.filter(functools.partial(_within, int(node.get("minLength", 0)), node.get("maxLength")))

    def _array(self, node: Mapping[str, Any], depth: int) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        items = self.schema(node.get("items", True), depth + 1)
        low = int(node.get("minItems", 0))
        high = min(int(node.get("maxItems", low + EXTRA_ITEMS)), low + EXTRA_ITEMS)
        if high < low:
            raise Unsupported("empty array range")
        if node.get("uniqueItems"):
            return st.lists(items, min_size=low, max_size=high,
                            unique_by=_canonical)
        return st.lists(items, min_size=low, max_size=high)

    def _object(self, node: Mapping[str, Any], depth: int) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        props = {name: schema for name, schema in (node.get("properties") or {}).items()
                 if not (isinstance(schema, Mapping) and self.contract.resolve(dict(schema)).get("readOnly"))}
        required = [name for name in node.get("required") or [] if name in props or name not in (node.get("properties") or {})]
        missing = [name for name in required if name not in props]
        extra = node.get("additionalProperties", True)
        if missing:  # required but not described: drawn from additionalProperties
            if extra is False:
                raise Unsupported("required property that cannot exist")
            for name in missing:
                props[name] = extra
        must = {name: self.schema(props[name], depth + 1) for name in required}
        may = {name: self.schema(schema, depth + 1) for name, schema in props.items() if name not in must}
        base = st.fixed_dictionaries(must, optional=may)
        if extra is False:
            return base
        values = _json_leaf() if extra is True or extra == {} else self.schema(extra, depth + 1)
        alphabet = TEXT if not props else "abcdefghijklmnopqrstuvwxyz_"  # a free-form object: any key at all

        def undescribed(key: str) -> bool:
            return key not in props

        keys = st.text(alphabet, min_size=1, max_size=8).filter(undescribed)
        more = st.dictionaries(keys, values, max_size=2)
        return st.builds(_merged, base, more)


def _bounds(node: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, exclusive low, exclusive high) of a numeric schema, OpenAPI 3.0's boolean exclusives or 3.1's."""
    low, high = node.get("minimum"), node.get("maximum")
    ex_low = ex_high = False
    if isinstance(node.get("exclusiveMinimum"), bool):  # OpenAPI 3.0 style
        ex_low = bool(node["exclusiveMinimum"])
    elif node.get("exclusiveMinimum") is not None:
        low, ex_low = node["exclusiveMinimum"], True
    if isinstance(node.get("exclusiveMaximum"), bool):
        ex_high = bool(node["exclusiveMaximum"])
    elif node.get("exclusiveMaximum") is not None:
        high, ex_high = node["exclusiveMaximum"], True
    return low, high, ex_low, ex_high


def _dot_atom(s: str) -> bool:
    return not s.startswith(".") and not s.endswith(".") and ".." not in s


def _email(local: str) -> str:
    return f"{local}@example.com"


def _uri(path: str) -> str:
    return f"https://example.com/{path}"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _merged(fixed: dict[str, Any], added: dict[str, Any]) -> dict[str, Any]:
    return {**added, **fixed}


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _encoded(encoding: str, raw: bytes) -> str:
    return content.encode(raw, encoding)


def _within(low: int, high: Any, text: str) -> bool:
    return low <= len(text) and (high is None or len(text) <= int(high))


def _parameter(contract: Contract, op: Operation, param: Mapping[str, Any], encoded: Mapping[str, str]) -> SearchStrategy[Any]:
    """A strategy for one parameter's value in its wire form (path values quoted; query values as httpx sends them)."""
    from hypothesis import strategies as st

    where = param.get("in")
    if where == "query" and str(param.get("name")) in encoded:  # a valid JSON-in-a-string value
        return st.just(encoded[str(param.get("name"))])
    if "content" in param or param.get("style") not in (None, "form" if where == "query" else "simple"):
        raise Unsupported(f"parameter {param.get('name')!r}: content or style")
    if where == "query" and param.get("explode") is False:
        raise Unsupported(f"parameter {param.get('name')!r}: explode false")
    pointer = op.param_schemas.get((str(where), str(param.get("name"))))
    schema = contract.at(contract.deref_pointer(pointer)) if pointer else param.get("schema", {})
    if where == "header":
        return _Compiler(contract, HEADER_TEXT, min_text=1).schema(schema).map(_header_value)
    if where == "path":
        return _Compiler(contract, min_text=1).schema(schema).map(functools.partial(_path_value, op, str(param.get("name"))))
    return _Compiler(contract).schema(schema).map(_query_value)


def _header_value(value: Any) -> str:
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path_value(op: Operation, name: str, value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return op.path_wire(name, _text(value))


def _query_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, bool):
        return _text(value)
    return value


JSON_MEDIA = ("application/json",)


def _is_json(media: str) -> bool:
    base = media.split(";")[0].strip().lower()
    return base in JSON_MEDIA or (base.startswith("application/") and base.endswith("+json"))


@functools.lru_cache(maxsize=4096)
def _compiled(contract: Contract, label: str, known: tuple[tuple[str, str], ...], fixed: bool,
              encoded: tuple[tuple[str, str], ...]) -> SearchStrategy[WireCase]:
    """The operation's valid-case strategy, compiled once (raises Unsupported)."""
    from hypothesis import strategies as st

    op = contract.operations[label]
    known_values, encoded_values = dict(known), dict(encoded)
    parts: dict[str, dict[str, tuple[bool, SearchStrategy[Any]]]] = {"path": {}, "query": {}, "header": {}}
    for raw in op.parameters:
        param = contract.resolve(dict(raw))
        where, name = str(param.get("in")), str(param.get("name"))
        if where not in parts:
            raise Unsupported(f"{where} parameter {name!r}")
        if where == "path" and name in known_values:
            drawn = _parameter(contract, op, param, encoded_values)
            given = st.just(op.path_wire(name, known_values[name]))
            parts[where][name] = (True, given if fixed else st.one_of(given, drawn))
            continue
        parts[where][name] = (where == "path" or bool(param.get("required")), _parameter(contract, op, param, encoded_values))
    for name in op.path_params():
        if name not in parts["path"]:
            raise Unsupported(f"path parameter {name!r} is not described")

    def group(where: str) -> SearchStrategy[dict[str, Any]]:
        members = parts[where]
        return st.fixed_dictionaries({n: s for n, (req, s) in members.items() if req},
                                     optional={n: s for n, (req, s) in members.items() if not req})

    body: SearchStrategy[tuple[str, Any] | None] = st.none()
    definition = contract.resolve(dict(op.definition.get("requestBody") or {}))
    content = definition.get("content") or {}
    if content:
        choices = []
        for media, spec in content.items():
            if not _is_json(media):
                raise Unsupported(f"request body {media}")
            schema = spec.get("schema", True) if isinstance(spec, Mapping) else True
            choices.append(st.tuples(st.just(media), _Compiler(contract).schema(schema)))
        drawn_body: SearchStrategy[Any] = st.one_of(*choices)
        body = drawn_body if op.request_required else st.one_of(drawn_body, st.none())

    def build(path: dict[str, Any], query: dict[str, Any], headers: dict[str, Any], payload: Any) -> WireCase:
        wire_headers = {k: v for k, v in headers.items()}
        kwargs: dict[str, Any] = {"method": op.method.upper(), "url": fill_path(op.path, path), "cookies": {},
                                  "headers": wire_headers, "params": query}
        if payload is not None:
            wire_headers["Content-Type"] = payload[0]
            kwargs["json"] = payload[1]
        return WireCase(kwargs, "positive", op.path, dict(path))

    return st.builds(build, group("path"), group("query"), group("header"), body)


def content_formats(contract: Contract, document: dict[str, Any]) -> dict[str, Any]:
    """`document` (a copy of the contract's, for schemathesis) with each string schema that carries encoded content
    (`contracts._content`: base64, a JSON document) turned into a custom format whose strategy is this compiler's
    `_content`: schemathesis reads these keywords as annotations (OpenAPI 3.1 / JSON Schema 2020-12) and would draw
    any text, which the judge then calls invalid. A schema this compiler cannot draw stays as it is."""
    import hashlib

    import schemathesis

    from apiconform.contracts._pointer import objects

    if not contract.asserts_content:
        return document
    for _, node in list(objects(document)):
        if not content.asserted(node) or "$ref" in node:
            continue
        try:
            strategy = _Compiler(contract).schema({k: v for k, v in node.items() if k != "type"} | {"type": "string"})
        except Unsupported:
            continue
        key = json.dumps(node, sort_keys=True, default=str)
        name = "x-apiconform-content-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        schemathesis.openapi.format(name, strategy)
        for keyword in (*content.KEYWORDS, "minLength", "maxLength", "pattern"):
            node.pop(keyword, None)
        node["format"] = name
    return document


def compiled_strategy(contract: Contract, op: Operation, known: dict[str, str], fixed: bool,
                      encoded: Mapping[str, str]) -> SearchStrategy[WireCase]:
    """Valid cases of `op`; `encoded`: valid values of query parameters holding encoded content (e.g. JSON in a
    string), which are sent as they are. Raises Unsupported: then schemathesis draws them."""
    return _compiled(contract, op.label, tuple(sorted(known.items())), fixed, tuple(sorted(encoded.items())))


def draw(strategy: SearchStrategy[WireCase], max_examples: int, seed: int, valid: Callable[[WireCase], bool],
         until: Callable[[WireCase], bool] | None, settings: Settings) -> list[WireCase]:
    """Up to `max_examples` distinct valid cases, seeded, drawn many per hypothesis example: hypothesis' own
    per-example bookkeeping costs more than drawing a compiled case, so the run has two examples — the simplest
    (every choice minimal, as hypothesis always tries first) gives the first case, one random example draws the
    rest (a search with `until` draws from the random one only). A case the contract refuses is skipped, drawing stops after the first case `until` accepts."""
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from apiconform.engine._draws import isolated_draws, untracked

    batches: list[list[WireCase]] = []

    class Enough(Exception):
        pass

    @untracked
    @hypothesis_seed(seed)
    @settings
    @given(data=st.data())
    def run(data: Any) -> None:
        cases: list[WireCase] = []
        batches.append(cases)
        seen: set[str] = set()
        # the simplest example gives the first case; a search for one valid request (`until`: the lifecycles', auth
        # and idempotency tests' request) starts from the random one instead, so it sends more than the minimum
        want = (0 if until is not None else 1) if len(batches) == 1 else max_examples
        for _ in range(3 * want):
            case = data.draw(strategy)
            fingerprint = json.dumps([case.kwargs, case.path_parameters], sort_keys=True, default=repr)
            if fingerprint in seen or not valid(case):
                continue
            seen.add(fingerprint)
            case = dataclasses.replace(case, judged=True)  # the contract accepted it: not judged again when sent
            cases.append(case)
            if until is not None and until(case):
                raise Enough()
            if len(cases) >= want:
                break

    with isolated_draws():
        try:
            run()
        except Enough:
            pass
    out: list[WireCase] = []
    seen: set[str] = set()
    for case in (case for batch in batches for case in batch):
        fingerprint = json.dumps([case.kwargs, case.path_parameters], sort_keys=True, default=repr)
        if fingerprint not in seen:
            seen.add(fingerprint)
            out.append(case)
    return out[:max_examples]


__all__ = ["Unsupported", "compiled_strategy", "content_formats", "draw"]
