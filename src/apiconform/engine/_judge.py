"""The judge: is a request, as it will be sent, one the contract accepts? And what in an answer did the
generator put there (so response shapes observe the vendor, not our draws)?

A generated "negative" case that is in fact valid is judged POSITIVE and checked as a valid case, so the API is
never blamed for accepting a valid request. Values the auth flows own (`apiconform.auth.owned_parameters`)
are not the request's to break.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qsl

import httpx

from apiconform.auth import owned_parameters
from apiconform.contracts import Contract, Operation, from_httpx, validate_request
from apiconform.engine._session import Exchange
from apiconform.engine.checks import NEGATIVE, POSITIVE


@functools.lru_cache(maxsize=32)
def _security_params(contract: Contract) -> tuple[frozenset[str], frozenset[str]]:
    """Header and query names the auth flows own (`apiconform.auth.owned_parameters`); generated values for
    them are dropped (once per contract: it is consulted for every generated request)."""
    owned = owned_parameters(contract)
    return owned.headers, owned.query


def judge(contract: Contract, op: Operation, request: httpx.Request) -> str:
    """POSITIVE if the contract accepts the request as it will be sent, else NEGATIVE (auth-owned values aside)."""
    auth_headers, auth_query = _security_params(contract)
    wire = validate_request(contract, op, from_httpx(request, op))
    real = [v for v in wire.violations if v.name.lower() not in auth_headers | auth_query]
    return NEGATIVE if real else POSITIVE


def login_exchange(contract: Contract, exchange: Exchange) -> Exchange | None:
    """The auth flow's drifted login answer as an exchange of the contract's login operation, so it is
    judged like any answer (content type, schema) and reported on that operation."""
    answer = exchange.login_answer
    if answer is None:
        return None
    path = answer.request.url.raw_path.decode("latin-1").split("?", 1)[0]
    for op in contract:
        if op.method == answer.request.method.lower() and any(
                op.match_path(path[i:]) is not None for i in range(len(path)) if path[i] == "/"):
            return Exchange(op, answer.request, answer, body=answer.content)
    return None


def _sent(request: httpx.Request) -> dict[str, list[Any]]:
    """Every value the request carried, by key: query parameters and JSON/form body members at any depth."""
    sent: dict[str, list[Any]] = {}
    for key, value in request.url.params.multi_items():
        sent.setdefault(key, []).append(value)
    content = request.content or b""
    body: Any = None
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        try:
            body = dict(parse_qsl(content.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            body = None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                sent.setdefault(str(key), []).append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return sent


def _request_names(contract: Contract, op: Operation) -> set[str]:
    names = {str(p.get("name")) for p in op.parameters}
    for media in op.request_body.values():
        if media.schema_pointer:
            schema = contract.resolve(contract.at(media.schema_pointer)) or {}
            names.update(str(k) for k in (schema.get("properties") or {}) if isinstance(schema, dict))
    return names


def without_generated(contract: Contract, op: Operation, request: httpx.Request, status: int, body: Any) -> Any:
    """The answer without what the generator put into it, for response-shape observation: members that echo
    a value the request sent under the same key (fuzz keys, generated values), and — in error answers — the
    members named after request fields (which field a generated request broke is not the vendor's shape)."""
    sent = _sent(request)
    names = _request_names(contract, op) | set(sent) if status >= 400 else set()

    def echoed(key: str, value: Any) -> bool:
        return key in sent and any(value == v or (not isinstance(value, (dict, list)) and str(value) == str(v))
                                   for v in sent[key])

    def strip(node: Any, depth: int = 0) -> Any:
        if isinstance(node, dict):
            kept = {k: strip(v, depth + 1) for k, v in node.items()
                    if not echoed(str(k), v) and not (str(k) in names and depth <= 2)}
            return {k: v for k, v in kept.items() if v != {} or node[k] == {}}  # emptied by stripping: all echo
        if isinstance(node, list):
            return [strip(item, depth + 1) for item in node]
        return node

    return strip(body)
