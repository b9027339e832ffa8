"""The behaviour diff of two live versions of one vendor: one plan run against both, compared per operation.

`apiconform upgrade VENDOR --from URL --to URL` runs the same plan (same seed, so the same generated requests and
the same data recipe) against the version a team uses and the one it is about to get, then compares the two run
records operation by operation: the statuses answered, the fields of every answer (added, removed, retyped, now
null, per status: error shapes too), enum values, content types and header names, and what anonymous callers,
wrong credentials and another identity got. Each change is a `gate.diff` `Change` — the contract diff's model and
renderers — judged breaking or not for an existing client; the command exits 1 on a breaking one.

What does not count: values (shapes are types only, so timestamps and generated ids never differ), nullability that
merely varies with the data (`string` ↔ `string|null`), enum values the contract documents appearing or not (that
is the data), header names that describe the transport (`Date`, `Server`, `Content-Length`: `VOLATILE_HEADERS`).
"""

from __future__ import annotations

from typing import Any

from apiconform.contracts import Contract
from apiconform.findings import Category
from apiconform.gate.compare import _exercised, diff_shapes
from apiconform.gate.diff._model import Change, DiffReport, Kind, Location
from apiconform.report._run import RunRecord

__all__ = ["behaviour_diff"]

#: the probes whose statuses are compared as auth behaviour, and how each is called in messages
REFUSED = {401, 403}  # what refusing a caller looks like
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

    def statuses(self, label: str, before: set[int], after: set[int]) -> None:
        where = Location(label)
        for status in sorted(before - after):
            breaking = 200 <= status < 300 or (status in (401, 403) and not after & {401, 403})
            replaced = ", ".join(map(str, sorted(after - before))) or "nothing new"
            self.add(Kind.STATUS_REMOVED, breaking, Category.STATUS_CODE, label, where.within(str(status)), status,
                     sorted(after - before), f"{status} is no longer answered (now: {replaced})")
        for status in sorted(after - before):
            undocumented = not _documented(self.contract, label, status)
            breaking = status >= 500 or (status >= 400 and undocumented)
            note = "a server error" if status >= 500 else ("undocumented" if undocumented else "documented")
            self.add(Kind.STATUS_ADDED, breaking, Category.STATUS_CODE, label, where.within(str(status)),
                     sorted(before - after), status, f"{status} is answered now ({note})")

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

    def shapes(self, label: str, status: str, before: Any, after: Any) -> None:
        error = status[:1] in ("4", "5")
        for path, kind, old, new in diff_shapes(before, after):
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
    for op in contract:
        label = op.label
        if label not in both:
            continue
        a, b = _operation(before, vendor, label), _operation(after, vendor, label)
        ba, bb = a.get("behaviour") or {}, b.get("behaviour") or {}
        diff.statuses(label, set(ba.get("status") or a.get("seen_statuses") or []),
                      set(bb.get("status") or b.get("seen_statuses") or []))
        diff.behaviour(label, ba, bb)
        for status in sorted(set(shapes_a.get(label, {})) & set(shapes_b.get(label, {}))):
            diff.shapes(label, status, shapes_a[label][status], shapes_b[label][status])
        diff.enums(label, a.get("enums") or {}, b.get("enums") or {})
    return DiffReport(old=old, new=new, changes=diff.changes)
