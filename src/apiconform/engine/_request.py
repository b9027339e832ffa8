"""Request building: a generated case (a cached `WireCase` or a schemathesis Case) as the httpx.Request sent.

Auth-owned values are dropped (the session's auth flow adds the real ones), header values are made sendable or
the header left out, path values are pinned (fixed values always; ids in the contract's id style for valid
cases) when the case is sent, so cached and fresh cases are sent alike.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import httpx

from apiconform.contracts import Contract, Operation
from apiconform.engine._casecache import WireCase, from_case
from apiconform.engine._judge import _security_params
from apiconform.engine._targets import Target

USER_AGENT = "apiconform/0.1"


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _field_value(value: str) -> str | None:
    """A generated header value as HTTP can carry it (RFC 9110 5.5: no leading or trailing whitespace, no
    control characters), or None when it cannot be sent at all: a value no client can put on the wire is
    never sent (it would be blamed on the transport). The judge re-validates what was really sent."""
    value = value.strip(" \t")
    return None if _CONTROL.search(value) else value


def build_request(target: Target, op: Operation, case: Any, rng: random.Random) -> httpx.Request:
    """Serialise a generated case (a WireCase or a schemathesis Case) into an httpx.Request; auth-owned values removed."""
    wire = case if isinstance(case, WireCase) else from_case(case)
    kw = wire.transport_kwargs(target.base_url)
    auth_headers, auth_query = _security_params(target.contract)
    fields = {
        k: _field_value(str(v)) for k, v in (kw.get("headers") or {}).items()
        if k.lower() not in auth_headers and not k.lower().startswith("x-schemathesis")
    }
    headers = {k: v for k, v in fields.items() if v is not None}
    headers["User-Agent"] = USER_AGENT
    if op.idempotency is not None and wire.generation and not wire.negative:
        headers[op.idempotency.header] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    raw = kw.get("params") or {}
    params: Any = ({k: v for k, v in raw.items() if k.lower() not in auth_query} if isinstance(raw, dict)
                   else httpx.QueryParams(str(raw)))  # a negative case's query that is not an object: sent as text
    body: dict[str, Any] = {}
    if "json" in kw:
        body["json"] = kw["json"]
    data = kw.get("data")
    if isinstance(data, (bytes, str)):
        body["content"] = data
    elif isinstance(data, dict):
        body["data"] = data
    if kw.get("files"):
        body["files"] = kw["files"]
    return httpx.Request(kw["method"], kw["url"], headers=headers, params=params, cookies=kw.get("cookies") or None, **body)


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def id_style_value(schema: Any, rng: random.Random) -> str:
    """An id in the parameter's documented style (integer, uuid, pattern, enum): what a real id looks like,
    so a valid request reaches the vendor's routing and lookup instead of bouncing off garbage."""
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("enum"):
        return str(rng.choice(list(schema["enum"])))
    kind = schema.get("type")
    if kind == "integer" or kind == ["integer"]:
        low = max(1, int(schema.get("minimum", 1)))
        return str(rng.randint(low, max(low, min(int(schema.get("maximum", low + 999_999)), MAX_ID))))
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if schema.get("pattern"):
        import rstr

        try:
            return str(rstr.Rstr(rng).xeger(str(schema["pattern"]).lstrip("^").rstrip("$")))
        except (ValueError, TypeError, IndexError, KeyError, OverflowError):  # a pattern rstr cannot expand
            pass  # fall back to a plain token
    length = max(int(schema.get("minLength", 8)), 1)
    return "".join(rng.choice(_ALNUM) for _ in range(min(length, int(schema.get("maxLength", length)))))


def pin_path(contract: Contract, op: Operation, case: WireCase, fixed: dict[str, str], rng: random.Random,
             id_style: bool) -> WireCase:
    """Fixed path values (config, the caller's identity) always; other path parameters in the contract's id
    style for valid cases (`id_style`). Garbage ids stay in the negative suite. Applied when a case is sent
    (after the case cache), so cached and fresh cases are pinned alike. A generated case's path values are in
    their wire form: each value set here is put in it too (`Operation.path_wire`: its style, `allowReserved`), so a
    configured file path `a/b` or a name with a space is sent as the contract says and read back as itself."""
    if case.path_parameters is None:
        return case
    params = dict(case.path_parameters)
    for name in op.path_params():
        if name in fixed:
            params[name] = op.path_wire(name, fixed[name])
        elif id_style and name in params:
            pointer = op.param_schemas.get(("path", name))
            schema = contract.at(contract.deref_pointer(pointer)) if pointer else {}
            if not _looks_like_id(params[name]) or not _fits(contract, pointer, params[name]):
                params[name] = op.path_wire(name, id_style_value(schema, rng))
    return case.with_path_parameters(params) if params != case.path_parameters else case


def _fits(contract: Contract, pointer: str | None, value: Any) -> bool:
    """Whether a generated path value may stay (else an id-style value replaces it). Only a yes/no, so the
    compiled validator decides alone where it can (`CheckedValidator.decides`): no error list, and the reference
    validator (jsonschema, ~0.2 s to import) is not loaded for a value about to be replaced anyway."""
    if pointer is None:
        return True
    try:
        return contract.validator(pointer).decides(value)
    except Exception:
        return False


MAX_ID = 2**31 - 1  # ids are database keys: a valid case uses ids in the range real ones have


def _looks_like_id(value: Any) -> bool:
    text = str(value)
    if isinstance(value, int) or text.isdigit():
        return 1 <= int(text) <= MAX_ID
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "-_.") for c in text) and not text.startswith("-")


def _clone(request: httpx.Request, headers: dict[str, str] | None = None) -> httpx.Request:
    overrides = {k.lower() for k in (headers or {})}
    merged = {k: v for k, v in request.headers.items()
              if k.lower() not in ("content-length", "authorization") and k.lower() not in overrides}
    merged.update(headers or {})
    return httpx.Request(request.method, request.url, headers=merged, content=request.content)
