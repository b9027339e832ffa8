"""The behaviour diff of two live versions of one vendor: one plan run against both, compared per operation.

`apiconform upgrade VENDOR --from URL --to URL` runs the same plan (same seed, so the same generated requests and
the same data recipe) against the version a team uses and the one it is about to get, then compares the two run
records operation by operation: the statuses answered — those one version alone answered, and the same request
answered another status (each test's requests paired in the order sent: the same plan sends the same cases in the
same order, so a 200 that became 400 shows even where both versions answered 200 and 400 to other requests) —, the
fields of every answer (added, removed, retyped, now
null, per status: error shapes too), enum values, content types and header names, and what anonymous callers,
wrong credentials and another identity got. Each change is a `gate.diff` `Change` — the contract diff's model and
renderers — judged breaking or not for an existing client; the command exits 1 on a breaking one.

What does not count: values (shapes are types only, so timestamps and generated ids never differ), nullability that
merely varies with the data (`string` ↔ `string|null`, a field always null before and typed now), enum values the
contract documents appearing or not (that is the data), header names that describe the transport (`Date`, `Server`,
`Content-Length`: `VOLATILE_HEADERS`), the keys of maps (an object the contract declares with `additionalProperties`
and no properties, a free-form `type: object`, or, where nothing is documented, keys that are all generated ids:
`{"<uuid>": …}` keyed by record), and statuses that tell availability, not behaviour (`VOLATILE_STATUSES`: 429, 503 —
a database busy for a moment). An operation one version answers only 404/405 (valid calls included) and the other
serves is an operation added or removed, not a dozen status changes.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from apiconform.contracts import Contract
from apiconform.findings import Category
from apiconform.gate.compare import _exercised, _types, diff_shapes
from apiconform.gate.diff._model import Change, DiffReport, Kind, Location
from apiconform.runrecord import RunRecord, merge_shapes

__all__ = ["behaviour_diff"]

#: the probes whose statuses are compared as auth behaviour, and how each is called in messages
REFUSED = {401, 403}  # what refusing a caller looks like
#: answers that tell whether the server could answer at that moment (busy, rate-limited), not how it behaves
VOLATILE_STATUSES = frozenset({429, 503})
#: what a server answers for a route it does not have
ABSENT = frozenset({404, 405})
#: a map's keys when nothing documents the object: generated ids (uuid, long hex or digits)
_ID_KEY = re.compile(r"^(?:[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[0-9a-fA-F]{24,}|\d+)$")
AUTH_MODES = {"none": "anonymous callers", "wrong": "wrong credentials", "other-identity": "another identity"}


def _operation(record: RunRecord, vendor: str, label: str) -> dict[str, Any]:
    return dict(record.coverage.get(vendor, {}).get("operations", {}).get(label, {}))


def _documented(contract: Contract, label: str, status: int) -> bool:
    op = contract.operations.get(label)
    return op is not None and op.response_for(status) is not None and str(status) in op.responses


class _Diff:
    def __init__(self, contract: Contract, vendor: str) -> None:
        self.contract = contract
        self.vendor = vendor
        self.changes: list[Change] = []

    def add(self, kind: Kind, breaking: bool, category: Category | None, label: str, at: Location, old: Any, new: Any,
            message: str) -> None:
        self.changes.append(Change(kind, breaking, category, label, at, old, new, message))

    def statuses(self, label: str, before: set[int], after: set[int],
                 paired: Counter[tuple[int, int]] | None = None) -> None:
        """The statuses one version answered and the other never did; a status a request-by-request change (`paired`)
        already tells of is not told again."""
        before, after = before - VOLATILE_STATUSES, after - VOLATILE_STATUSES
        if not before or not after:
            return  # one side never answered but "busy": nothing to compare
        gone = {a for a, _ in paired or ()}
        came = {b for _, b in paired or ()}
        where = Location(label)
        for status in sorted(before - after - gone):
            breaking = 200 <= status < 300 or (status in (401, 403) and not after & {401, 403})
            replaced = ", ".join(map(str, sorted(after - before))) or "nothing new"
            self.add(Kind.STATUS_REMOVED, breaking, Category.STATUS_CODE, label, where.within(str(status)), status,
                     sorted(after - before), f"{status} is no longer answered (now: {replaced})")
        for status in sorted(after - before - came):
            undocumented = not _documented(self.contract, label, status)
            breaking = status >= 500 or (status >= 400 and undocumented)
            note = "a server error" if status >= 500 else ("undocumented" if undocumented else "documented")
            self.add(Kind.STATUS_ADDED, breaking, Category.STATUS_CODE, label, where.within(str(status)),
                     sorted(before - after), status, f"{status} is answered now ({note})")

    def transitions(self, label: str, paired: Counter[tuple[int, int]]) -> None:
        """The same request (one plan: the same case, in the same place) answered `a` by the old version and `b` by the
        new one: a 200 that became 400 shows even where both versions answered 200 and 400 to other requests."""
        where = Location(label)
        for (a, b), count in sorted(paired.items()):
            undocumented = not _documented(self.contract, label, b)
            # breaking: a request that worked fails now, a server error, a refusal told with another status (a client
            # branches on it), or an answer the contract does not document; not: a crash that became an answer
            breaking = (200 <= a < 300 and not 200 <= b < 300) or b >= 500 or (400 <= a < 500 and 400 <= b < 500) \
                or (undocumented and a < 500)
            note = "a server error" if b >= 500 else ("undocumented" if undocumented else "documented")
            self.add(Kind.STATUS_CHANGED, breaking, Category.STATUS_CODE, label, where.within(f"{a}->{b}"), a, b,
                     f"{count} request{'s' if count > 1 else ''} answered {a} before get{'' if count > 1 else 's'} "
                     f"{b} now ({note})")

    def auth(self, label: str, mode: str, before: set[int], after: set[int]) -> None:
        if before == after or not before or not after:
            return
        who = AUTH_MODES.get(mode, mode)
        at = Location(label, ("auth", mode))
        was, now = ", ".join(map(str, sorted(before))), ", ".join(map(str, sorted(after)))
        if before <= REFUSED and after - REFUSED:  # refused before, now past the auth check (a 200, or a 404 behind it)
            self.add(Kind.AUTH_RELAXED, True, Category.AUTH, label, at, sorted(before), sorted(after),
                     f"{who} now get {now} (was {was}): no longer refused")
            return
        self.add(Kind.AUTH_CHANGED, bool(before - REFUSED) or not after <= REFUSED, Category.AUTH, label, at,
                 sorted(before), sorted(after), f"{who} now get {now} (was {was})")

    def presence(self, label: str, before: set[int], after: set[int]) -> bool:
        """Whether the operation exists on both versions; if not, one change says so (True: compare nothing else)."""
        if before and after and before <= ABSENT and any(200 <= s < 300 for s in after):
            self.add(Kind.OPERATION_ADDED, False, None, label, Location(label), None, label,
                     f"new in this version (the old one answered only {', '.join(map(str, sorted(before)))})")
            return False
        if before and after and after <= ABSENT and any(200 <= s < 300 for s in before):
            self.add(Kind.OPERATION_REMOVED, True, Category.STATUS_CODE, label, Location(label), label, None,
                     f"gone in this version: it answers only {', '.join(map(str, sorted(after)))}")
            return False
        return True

    def shapes(self, label: str, status: str, before: Any, after: Any) -> None:
        error = status[:1] in ("4", "5")
        schema = _response_schema(self.contract, label, status)
        before = _maps_collapsed(self.contract, before, schema, error=error)
        after = _maps_collapsed(self.contract, after, schema, error=error)
        for path, kind, old, new in diff_shapes(before, after):
            if kind == "type-changed" and (old == "null" or _varies(old, new)):
                continue  # always null before and a value now, or one of the types it already took: the data
            at = Location(label, (status,), tuple(p for p in path.split("/")[1:]))
            what = "error answer" if error else "answer"
            if kind == "added":
                self.add(Kind.RESPONSE_FIELD_ADDED, False, Category.ERROR_SHAPE if error else None, label, at, None,
                         new, f"field added to the {status} {what}")
            elif kind == "removed":
                self.add(Kind.RESPONSE_FIELD_REMOVED, True, Category.ERROR_SHAPE if error else Category.REQUIRED_FIELD,
                         label, at, old, None, f"field removed from the {status} {what}")
            elif new == "null":
                self.add(Kind.RESPONSE_FIELD_NULLABLE, True, Category.FIELD_TYPE, label, at, old, new,
                         f"field is now always null in the {status} {what} (was {old})")
            else:
                self.add(Kind.RESPONSE_FIELD_RETYPED, True, Category.ERROR_SHAPE if error else Category.FIELD_TYPE,
                         label, at, old, new, f"field retyped in the {status} {what}: {_short(old)} -> {_short(new)}")

    def enums(self, label: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        for location in sorted(set(before) & set(after)):
            documented = set(map(str, after[location].get("documented") or []))
            old = set(map(str, before[location].get("seen") or []))
            new = set(map(str, after[location].get("seen") or []))
            at = Location(label, (location,))
            for value in sorted(new - old - documented):
                self.add(Kind.RESPONSE_ENUM_VALUE_ADDED, True, Category.ENUM, label, at, None, value,
                         f"undocumented enum value {value!r} answered now")

    def behaviour(self, label: str, before: dict[str, list[Any]], after: dict[str, list[Any]]) -> None:
        for key in sorted(set(before) & set(after) - {"status"}):
            kind, _, status = key.partition(" ")
            old, new = set(before[key]), set(after[key])
            if kind == "auth":
                self.auth(label, status, set(map(int, old)), set(map(int, new)))
            elif kind == "media":
                at = Location(label, (status,))
                for media in sorted(old - new):
                    self.add(Kind.RESPONSE_CONTENT_TYPE_REMOVED, True, Category.CONTENT_TYPE, label, at, media,
                             sorted(new - old), f"{status} answers are no longer {media} (now {', '.join(sorted(new))})")
                for media in sorted(new - old):
                    if not old - new:
                        self.add(Kind.RESPONSE_CONTENT_TYPE_ADDED, False, None, label, at, None, media,
                                 f"{status} answers may now be {media}")
            elif kind == "headers":
                at = Location(label, (status, "headers"))
                for name in sorted(old - new):
                    self.add(Kind.RESPONSE_HEADER_REMOVED, True, None, label, at.within(name), name, None,
                             f"header {name} no longer sent with {status}")
                for name in sorted(new - old):
                    self.add(Kind.RESPONSE_HEADER_ADDED, False, None, label, at.within(name), None, name,
                             f"header {name} sent with {status} now")


def _paired(before: RunRecord, after: RunRecord, vendor: str) -> dict[str, Counter[tuple[int, int]]]:
    """Per operation, how many requests got status a from the old version and b from the new one (a != b), pairing
    each test's requests in the order sent (the same plan and seed send the same cases in the same order). Busy
    answers (`VOLATILE_STATUSES`) pair with nothing, and a pair seen both ways in one operation (a->b and b->a) is the
    data, not the version (a record one run found and the other did not)."""
    old = {(c.operation, c.suite, c.name): c.statuses for c in before.cases if c.vendor == vendor}
    out: dict[str, Counter[tuple[int, int]]] = {}
    for case in after.cases:
        was = old.get((case.operation, case.suite, case.name)) if case.vendor == vendor else None
        for a, b in zip(was or (), case.statuses):
            if a != b and a not in VOLATILE_STATUSES and b not in VOLATILE_STATUSES:
                out.setdefault(case.operation, Counter())[(a, b)] += 1
    for counts in out.values():
        for a, b in [p for p in counts if (p[1], p[0]) in counts]:
            del counts[(a, b)]
    return {label: counts for label, counts in out.items() if counts}


def _varies(old: Any, new: Any) -> bool:
    """A field that took several types in one version (`string|object|array`: an error echoing what was sent) and
    one of them in the other: which one an answer shows depends on the request and the data."""
    a, b = _types(old), _types(new)
    return max(len(a), len(b)) > 1 and (a <= b or b <= a)


def _response_schema(contract: Contract, label: str, status: str) -> Any:
    """The documented JSON schema of `label`'s answer with `status` (None where nothing is documented)."""
    op = contract.operations.get(label)
    spec = op.response_for(int(status)) if op is not None and status.isdigit() else None
    media = next((m for t, m in (spec.content.items() if spec else ()) if "json" in t), None)
    if media is None or media.schema_pointer is None:
        return None
    try:
        return contract.at(media.schema_pointer)
    except Exception:  # noqa: BLE001 - an unresolvable schema documents nothing
        return None


def _branches(contract: Contract, schema: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The object-level alternatives of a schema, `$ref`s followed and `allOf`/`anyOf`/`oneOf` flattened."""
    schema = contract.resolve(schema) if isinstance(schema, dict) else schema
    if not isinstance(schema, dict) or depth > 8:
        return []
    out = [schema]
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            out.extend(_branches(contract, sub, depth + 1))
    return out


def _is_map(contract: Contract, schema: Any, shape: dict[str, Any]) -> bool:
    """Whether an object's keys are data: declared a map (`additionalProperties` and no `properties`) or free-form
    (`type: object` with neither), or undocumented and keyed by generated ids."""
    branches = _branches(contract, schema)
    if not branches:
        return bool(shape) and all(_ID_KEY.match(k) for k in shape)
    if any(b.get("properties") or b.get("patternProperties") for b in branches):
        return False
    return any(b.get("additionalProperties") not in (None, False) or b.get("type") == "object" for b in branches)


def _child(contract: Contract, schema: Any, key: str | None) -> Any:
    """The schema of a property (`key`) or of the items (`None`) below `schema`, None where undocumented."""
    for branch in _branches(contract, schema):
        if key is None and isinstance(branch.get("items"), dict):
            return branch["items"]
        if key is not None and key in (branch.get("properties") or {}):
            return branch["properties"][key]
    for branch in _branches(contract, schema):
        extra = branch.get("additionalProperties")
        if key is not None and isinstance(extra, dict):
            return extra
    return None


def _maps_collapsed(contract: Contract, shape: Any, schema: Any, depth: int = 0, *, error: bool = False,
                    in_undocumented: bool = False) -> Any:
    """`shape` with every map's keys merged into one `*` entry (its keys are records or data, never fields); a
    free-form object (no schema for its values) is `{}`: what it holds is data. In an error answer, an undocumented
    object held by another undocumented object is data too (a validation error's context: its keys depend on which
    rule the input broke, not on the version)."""
    if depth > 32:
        return shape
    if isinstance(shape, list):
        item = _child(contract, schema, None)
        return [_maps_collapsed(contract, shape[0], item, depth + 1, error=error)] if shape else shape
    if not isinstance(shape, dict):
        return shape
    if error and in_undocumented and schema is None:
        return {}
    if _is_map(contract, schema, shape):
        if schema is not None and not any(isinstance(b.get("additionalProperties"), dict)
                                          for b in _branches(contract, schema)):
            return {}  # free-form: its keys and their values are data
        merged: Any = None
        for value in shape.values():
            merged = value if merged is None else merge_shapes(merged, value)
        item = _child(contract, schema, "*") if schema is not None else None
        return {"*": _maps_collapsed(contract, merged, item, depth + 1, error=error)} if shape else shape
    return {k: _maps_collapsed(contract, v, _child(contract, schema, k), depth + 1, error=error,
                               in_undocumented=schema is None) for k, v in shape.items()}


def _short(shape: Any, limit: int = 60) -> str:
    import json

    text = shape if isinstance(shape, str) else json.dumps(shape, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def behaviour_diff(before: RunRecord, after: RunRecord, contract: Contract, vendor: str, old: str = "from",
                   new: str = "to") -> DiffReport:
    """Every client-visible change of behaviour between two runs of one plan against one vendor, per operation
    (in contract order), classified breaking or not."""
    diff = _Diff(contract, vendor)
    both = {label for v, label in _exercised(before) & _exercised(after) if v == vendor}
    shapes_a, shapes_b = before.shapes.get(vendor, {}), after.shapes.get(vendor, {})
    paired = _paired(before, after, vendor)
    for op in contract:
        label = op.label
        if label not in both:
            continue
        a, b = _operation(before, vendor, label), _operation(after, vendor, label)
        ba, bb = a.get("behaviour") or {}, b.get("behaviour") or {}
        own_a = set(ba.get("status") or a.get("seen_statuses") or [])  # what the caller's own credentials got
        own_b = set(bb.get("status") or b.get("seen_statuses") or [])
        if not diff.presence(label, own_a - VOLATILE_STATUSES, own_b - VOLATILE_STATUSES):
            continue
        diff.transitions(label, paired.get(label, Counter()))
        diff.statuses(label, own_a, own_b, paired.get(label))
        diff.behaviour(label, ba, bb)
        for status in sorted(set(shapes_a.get(label, {})) & set(shapes_b.get(label, {}))):
            diff.shapes(label, status, shapes_a[label][status], shapes_b[label][status])
        diff.enums(label, a.get("enums") or {}, b.get("enums") or {})
    return DiffReport(old=old, new=new, changes=diff.changes)
