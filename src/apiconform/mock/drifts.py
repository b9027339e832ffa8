"""Drifts: named, composable deviations from the contract that a vendor upgrade could bring.

Each drift is a small response transform `(operation, reply, request, ctx) -> reply`. It changes
the first place in the answer where its kind of deviation is possible, so one drift yields one
clear, predictable contract violation (and the category a correct gate must report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apiconform.contracts import Operation, Slot, echo_pairs, slots, split
from apiconform.errors import UsageError
from apiconform.findings import Category
from apiconform.mock.behaviour import Reply

DriftFn = Callable[[Operation, Reply, Any, Any], Reply]


@dataclass(frozen=True)
class DriftSpec:
    name: str
    category: Category
    description: str
    fn: DriftFn
    login: bool = False  # applies to the unsecured login/refresh endpoints only (every other drift leaves them alone)

    def __call__(self, op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
        return self.fn(op, reply, request, ctx)


DRIFTS: dict[str, DriftSpec] = {}


def drift(name: str, category: Category, description: str, login: bool = False) -> Callable[[DriftFn], DriftFn]:
    def register(fn: DriftFn) -> DriftFn:
        DRIFTS[name] = DriftSpec(name, category, description, fn, login)
        return fn

    return register


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if kind else set()


def _body_slots(op: Operation, reply: Reply, ctx: Any) -> list[Slot]:
    if not isinstance(reply.body, (dict, list)):
        return []
    ptr = ctx.response_schema(op, reply.status)
    if ptr is None:
        return []
    return list(slots(ctx.contract, reply.body, ctx.contract.at(ptr)))


def _is_success(reply: Reply) -> bool:
    return 200 <= reply.status < 300


# --- the drifts ----------------------------------------------------------------------------------------
@drift("enum-value-changed", Category.ENUM, "an enum field answers a value the contract does not list")
def _enum_changed(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    for slot in _body_slots(op, reply, ctx):
        enum = slot.schema.get("enum")
        if enum and slot.value is not None:
            if all(isinstance(v, int) for v in enum if v is not None):
                slot.parent[slot.key] = max(v for v in enum if v is not None) + 1
            else:
                slot.parent[slot.key] = f"{slot.value}_v2"
            break
    return reply


@drift("field-type-changed", Category.FIELD_TYPE, "a field changes JSON type (number as string, string as number)")
def _type_changed(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    for slot in _body_slots(op, reply, ctx):
        types = _types(slot.schema)
        if "enum" in slot.schema or "const" in slot.schema:
            continue
        if isinstance(slot.value, bool) and "string" not in types:
            slot.parent[slot.key] = "yes" if slot.value else "no"
            break
        if isinstance(slot.value, (int, float)) and not isinstance(slot.value, bool) and "string" not in types:
            slot.parent[slot.key] = str(slot.value)
            break
        if isinstance(slot.value, str) and not types & {"integer", "number"}:
            slot.parent[slot.key] = 12345
            break
    return reply


def _first_required(op: Operation, reply: Reply, ctx: Any) -> Slot | None:
    for slot in _body_slots(op, reply, ctx):
        if slot.required and isinstance(slot.parent, dict):
            return slot
    return None


@drift("required-field-dropped", Category.REQUIRED_FIELD, "a documented required field is missing from the answer")
def _required_dropped(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    slot = _first_required(op, reply, ctx)
    if slot is not None:
        del slot.parent[slot.key]
    return reply


@drift("field-renamed", Category.REQUIRED_FIELD, "a required field is renamed (camelCase/suffix), so the documented name is missing")
def _renamed(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    slot = _first_required(op, reply, ctx)
    if slot is not None:
        key = str(slot.key)
        parts = key.split("_")
        new = parts[0] + "".join(p.title() for p in parts[1:]) if len(parts) > 1 else key + "Value"
        slot.parent[new] = slot.parent.pop(key)
    return reply


@drift("null-not-allowed", Category.FIELD_TYPE, "a field the contract says is never null answers null")
def _null(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    for slot in _body_slots(op, reply, ctx):
        types = _types(slot.schema)
        if types and "null" not in types and slot.value is not None and not isinstance(slot.value, (dict, list)):
            slot.parent[slot.key] = None
            break
    return reply


@drift("error-shape-changed", Category.ERROR_SHAPE, "error answers use a different body shape than documented")
def _error_shape(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if 400 <= reply.status < 500:
        reply.body = {"status": reply.status, "message": "Request failed", "errorCode": f"E{reply.status}"}
        reply.media_type = "application/json"
    return reply


@drift("status-code-changed", Category.STATUS_CODE, "successful answers come with a status the operation does not document")
def _status(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if _is_success(reply):
        documented = {int(s) for s in op.responses if s.isdigit()}
        for candidate in (202, 200, 201, 203, 206):
            if candidate not in documented:
                reply.status = candidate
                break
    return reply


@drift("content-type-changed", Category.CONTENT_TYPE, "JSON answers are labelled text/plain")
def _content_type(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if reply.body is not None:
        reply.media_type = "text/plain"
    return reply


@drift("pagination-header-missing", Category.PAGINATION, "list answers lose their pagination metadata (Link header, count)")
def _pagination(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if op.pagination is not None and _is_success(reply):
        reply.headers.pop("Link", None)
        if isinstance(reply.body, dict):
            reply.body.pop(op.envelope_names.count, None)
    return reply


@drift("echo-value-changed", Category.FIELD_TYPE,
       "a create/update answer changes a value it echoes from the request (x-apiconform-echo), e.g. its case")
def _echo_changed(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if not _is_success(reply) or not isinstance(reply.body, dict):
        return reply
    for _, response_ptr in echo_pairs(op):
        tokens = split(response_ptr)
        parent: Any = reply.body
        for token in tokens[:-1]:
            parent = parent.get(token) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or not tokens or tokens[-1] not in parent:
            continue
        value = parent[tokens[-1]]
        if isinstance(value, str):
            parent[tokens[-1]] = value.upper() if value != value.upper() else value.lower() + "_x"
            break
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[tokens[-1]] = value + 1
            break
    return reply


def _null_tokens(node: Any) -> bool:
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if "token" in str(key).lower() and isinstance(value, str):
                node[key] = None
                changed = True
            else:
                changed = _null_tokens(value) or changed
    return changed


@drift("login-tokens-null", Category.FIELD_TYPE, "the login answer keeps its status but its tokens become null", login=True)
def _login_tokens_null(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if _is_success(reply):
        _null_tokens(reply.body)
    return reply


@drift("login-html-200", Category.CONTENT_TYPE, "the login answer becomes an HTML page with status 200", login=True)
def _login_html(op: Operation, reply: Reply, request: Any, ctx: Any) -> Reply:
    if _is_success(reply):
        reply.status, reply.media_type = 200, "text/html"
        reply.body = "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>"
    return reply


def list_drifts() -> list[DriftSpec]:
    return list(DRIFTS.values())


def resolve_drifts(names: Iterable[str | Callable[..., Reply]]) -> list[Callable[..., Reply]]:
    """Drift names (comma-separated allowed) or callables -> transforms; unknown names are a usage error."""
    result: list[Callable[..., Reply]] = []
    for item in names:
        if callable(item):
            result.append(item)
            continue
        for name in (n.strip() for n in str(item).split(",")):
            if not name:
                continue
            if name not in DRIFTS:
                raise UsageError(f"unknown drift {name!r} (known: {', '.join(DRIFTS)})")
            result.append(DRIFTS[name])
    return result
