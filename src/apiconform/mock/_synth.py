"""Deterministic values from JSON Schemas: realistic records for the mock, and repair of near-misses.

`synthesize` builds a complete instance (every documented property, realistic formats) so mock
records look like the docs' samples; `fit` repairs a merged record (request fields laid over a
synthesized one) until it validates, so the mock never answers outside its own contract.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import rstr

from apiconform.contracts import Contract

_BASE_TIME = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
_MAX_DEPTH = 8


class Synthesizer:
    """Seeded generator; the same seed and call order give the same values."""

    def __init__(self, contract: Contract, seed: int = 0) -> None:
        self.contract = contract
        self.rng = random.Random(seed)
        self._rstr = rstr.Rstr(self.rng)
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        """A valid, realistic instance of `schema` (non-null wherever null is optional)."""
        schema = self.contract.resolve(schema)
        if schema is True or schema is None or not isinstance(schema, dict):
            return f"{name or 'value'}-{self._next()}"
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return choices[0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        if "allOf" in schema:
            merged: Any = None
            for part in schema["allOf"]:
                piece = self.value(part, name, depth + 1)
                merged = {**merged, **piece} if isinstance(merged, dict) and isinstance(piece, dict) else piece
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            if rest.get("properties") and isinstance(merged, dict):
                merged.update(self._object(rest, depth))
            return merged
        for key in ("oneOf", "anyOf"):
            if key in schema:
                branches = [self.contract.resolve(b) for b in schema[key]]
                non_null = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
                return self.value((non_null or branches)[0], name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [t for t in kind if t != "null"]
            kind = non_null[0] if non_null else "null"
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema or "prefixItems" in schema else "string"
        if kind == "null":
            return None
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            if depth >= _MAX_DEPTH:
                return []
            prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
            if prefix:  # a tuple (JSON Schema 2020-12): one value per position, as each position's schema says
                return [self.value(sub, name, depth + 1) for sub in prefix]
            count = max(int(schema.get("minItems", 1)), 1)
            count = min(count, int(schema.get("maxItems", count)))
            items = [self.value(schema.get("items", {}), name, depth + 1) for _ in range(count)]
            if schema.get("uniqueItems") and len(items) > 1:
                items = items[:1]
            return items
        if kind == "integer":
            return self._number(schema, integer=True)
        if kind == "number":
            return float(self._number(schema, integer=False))
        if kind == "boolean":
            return True
        return self._string(schema, name)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if depth >= _MAX_DEPTH:
            for prop in schema.get("required", []):
                result[prop] = None
            return result
        for prop, sub in (schema.get("properties") or {}).items():
            result[prop] = self.value(sub, prop, depth + 1)
        for prop in schema.get("required", []):
            if prop not in result:
                result[prop] = f"{prop}-{self._next()}"
        return result

    def _number(self, schema: dict[str, Any], integer: bool) -> int | float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 1000) - (1 if "exclusiveMaximum" in schema else 0))
        low, high = int(low) if integer else low, int(high) if integer else high
        value: int | float = max(low, min(high, low + self._next() % 100))
        step = schema.get("multipleOf")
        if step:
            value = (value // step) * step if value // step * step >= low else low
        return int(value) if integer else value

    def _pattern(self, pattern: str) -> str:
        """A string matching `pattern`; an unanchored tail gets a realistic suffix (`prefix_` ids)."""
        text = self._rstr.xeger(pattern)
        if not pattern.endswith("$"):
            text += "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
        return text

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        n = self._next()
        if fmt == "date-time":
            text = (_BASE_TIME + dt.timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif fmt == "date":
            text = (_BASE_TIME + dt.timedelta(days=n)).date().isoformat()
        elif fmt == "time":
            text = "09:30:00Z"
        elif fmt in ("email", "idn-email"):
            text = f"user{n}@example.com"
        elif fmt == "uuid":
            text = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        elif fmt in ("uri", "url", "iri"):
            text = f"https://example.com/{name or 'resource'}/{n}"
        elif fmt in ("uri-reference", "iri-reference"):
            text = f"/{name or 'resource'}/{n}"
        elif fmt == "hostname":
            text = "example.com"
        elif fmt == "ipv4":
            text = "192.0.2.10"
        elif "pattern" in schema:
            text = self._pattern(schema["pattern"])
        else:
            examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
            text = str(examples[0]) if examples and isinstance(examples[0], str) else _word(name, n)
        if "pattern" in schema and fmt:
            text = self._pattern(schema["pattern"])
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if high is not None and len(text) > int(high):
            text = text[: int(high)]
        return text


def _word(name: str, n: int) -> str:
    if not name:
        return f"value {n}"
    readable = name.replace("_", " ").strip()
    return f"{readable} {n}"


def fit(contract: Contract, synth: Synthesizer, schema_pointer: str, instance: Any, rounds: int = 24) -> Any:
    """Repair `instance` until it validates against the schema at `schema_pointer`.

    Keeps every valid value it was given (so a created record echoes the request) and replaces
    only what breaks the contract; falls back to a fresh synthesized value.
    """
    validator = contract.validator(schema_pointer)
    for _ in range(rounds):
        errors = sorted(validator.iter_errors(instance), key=lambda e: -len(e.absolute_path))
        if not errors:
            return instance
        touched: list[list[Any]] = []
        for error in errors:
            path = list(error.absolute_path)
            if any(path[: len(t)] == t or t[: len(path)] == path for t in touched if t != path):
                continue  # an enclosing or enclosed value changed this round: re-validate first
            instance = _repair(contract, synth, instance, error, path)
            touched.append(path)
            if not path:
                break
    if list(validator.iter_errors(instance)):
        return synth.value(contract.at(schema_pointer))
    return instance


def _repair(contract: Contract, synth: Synthesizer, instance: Any, error: Any, path: list[Any]) -> Any:
    """Fix one validation error in place (returns the instance, replaced when the root was wrong)."""
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = error.message.split("'")[1] if "'" in error.message else None
        props = contract.resolve(error.schema).get("properties", {}) if isinstance(error.schema, dict) else {}
        if missing is not None and missing not in error.instance:
            error.instance[missing] = synth.value(props.get(missing, {}), missing)
            return instance
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        allowed = set((contract.resolve(error.schema).get("properties") or {}).keys())
        for key in [k for k in error.instance if k not in allowed]:
            del error.instance[key]
        return instance
    coerced = _coerce(error.instance, contract.resolve(error.schema)) if error.validator == "type" else None
    replacement = coerced if coerced is not None else synth.value(error.schema, str(path[-1]) if path else "")
    if not path:
        return replacement
    _set(instance, path, replacement)
    return instance


def _coerce(value: Any, schema: Any) -> Any:
    """The same value in the documented type when that is lossless (0 -> "0", "12" -> 12), else None."""
    kinds = schema.get("type") if isinstance(schema, dict) else None
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if isinstance(value, bool) or value is None:
        return None
    if "string" in kinds and isinstance(value, (int, float)) and not schema.get("format") and "enum" not in schema:
        return str(value)
    if "integer" in kinds and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if "number" in kinds and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _set(root: Any, path: list[Any], value: Any) -> None:
    node = root
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def overlay(base: Any, extra: Any, depth: int = 0) -> Any:
    """Lay `extra` (e.g. a request body) over `base` (a synthesized record), recursively by key.

    At the top level only the record's own fields are taken (request-only fields stay out); inside a
    field, keys the record lacks are added, so a free-form object (`info: {"a": 1}`) comes back as sent
    and a nested object sent as `{}` keeps what it had.
    """
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            if key in base:
                merged[key] = overlay(base[key], value, depth + 1)
            elif depth > 0:
                merged[key] = value
        return merged
    return extra
