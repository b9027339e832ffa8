"""Vendor semantics declared in the contract, executed by the generic mock.

`x-apiconform-state` on an operation says what it does to the stored record (contracts/README.md):

```yaml
x-apiconform-state:
  key: [learner_id]        # create: create-or-update by these fields within the parent scope
  existing: update         # create with a key already stored: update it (default) or
                           #   {status: 409, body: {...}}: the vendor's conflict answer
  require:                 # checked in order against the stored record; the first that fails answers
    - if: {is_locked: true}                        # optional guard: the check applies only then
      equals: {locked_by: $request.body#/task_id}  # field -> literal or runtime expression
      # not: {status: 1}                           # (or) fails when these fields DO hold
      else: {status: 400, body: {non_field_errors: [Model is locked]}}
  set: {is_locked: true, locked_by: $request.body#/task_id}   # applied after the request's fields
  merge: [info]            # object fields merged into the stored value instead of replaced
  hidden: [locked_by]      # kept in the store, never answered
  transient: [upload_url]  # create: answered by this operation only, stored (so answered later) as null
  answer: record           # action: answer the stored record (default), or {status, body}, or
                           #   {list: RESOURCE}: a page of RESOURCE's records stored under the action's path
                           #   values, as RESOURCE's list operation answers them
```

Runtime expressions follow OpenAPI links: `$request.body#/ptr`, `$request.path.NAME`,
`$request.query.NAME`; anything else is a literal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apiconform.contracts import WireRequest, resolve


def state_of(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    value = definition.get("x-apiconform-state")
    return value if isinstance(value, Mapping) else {}


def evaluate(value: Any, request: WireRequest) -> Any:
    """A literal, or the value a runtime expression names in the request."""
    if not isinstance(value, str) or not value.startswith("$request."):
        return value
    rest = value[len("$request."):]
    if rest.startswith("body"):
        ptr = rest.partition("#")[2]
        body = request.body
        if body is None and request.raw_body:  # an operation whose body the docs do not show
            try:
                body = json.loads(request.raw_body)
            except ValueError:
                body = None
        return resolve(body, ptr) if ptr else body
    if rest.startswith("path."):
        return request.path_params.get(rest[5:])
    if rest.startswith("query."):
        return request.query_dict().get(rest[6:])
    return None


def _same(stored: Any, expected: Any) -> bool:
    return stored == expected or (stored is not None and expected is not None and str(stored) == str(expected))


def holds(condition: Mapping[str, Any] | None, record: Mapping[str, Any], request: WireRequest) -> bool:
    """Every field of the condition equals its (evaluated) value in the record."""
    return all(_same(resolve(record, "/" + f.replace(".", "/")), evaluate(v, request)) for f, v in (condition or {}).items())


def first_failure(state: Mapping[str, Any], record: Mapping[str, Any], request: WireRequest) -> Mapping[str, Any] | None:
    """The `else` answer of the first `require` entry the record fails, or None."""
    for rule in state.get("require") or ():
        if rule.get("if") and not holds(rule["if"], record, request):
            continue
        refused = rule.get("not") and holds(rule["not"], record, request)
        if refused or not holds(rule.get("equals"), record, request):
            return dict(rule.get("else") or {"status": 400})
    return None


def apply(state: Mapping[str, Any], record: dict[str, Any], given: Mapping[str, Any], request: WireRequest) -> dict[str, Any]:
    """The record after the request: its fields (merged where declared), then `set`."""
    merge = set(state.get("merge") or ())
    for name, value in given.items():
        if name in merge and isinstance(record.get(name), dict) and isinstance(value, dict):
            record[name] = {**record[name], **value}
        else:
            record[name] = value
    for name, value in (state.get("set") or {}).items():
        record[name] = evaluate(value, request)
    return record


def transient(state: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(n) for n in state.get("transient") or ())


def without_transient(state: Mapping[str, Any], record: Any) -> Any:
    """The record as stored: its `transient` fields null."""
    names = transient(state)
    if not names or not isinstance(record, dict):
        return record
    return {**record, **{n: None for n in names if n in record}}


def listed_resource(state: Mapping[str, Any]) -> str | None:
    """`answer: {list: RESOURCE}`: the resource whose records the action answers."""
    answer = state.get("answer")
    listed = answer.get("list") if isinstance(answer, Mapping) else None
    return str(listed) if listed else None


def key_of(state: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[str, ...] | None:
    fields = state.get("key") or ()
    if not fields:
        return None
    return tuple(str(record.get(f)) for f in fields)


__all__ = ["apply", "evaluate", "first_failure", "holds", "key_of", "listed_resource", "state_of", "transient",
           "without_transient"]
