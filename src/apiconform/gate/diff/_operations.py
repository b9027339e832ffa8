"""Contract and operation comparison: security schemes, operations paired across versions, and per
operation its security, pagination, parameters, request body and responses (schemas go to `_schema`)."""

from __future__ import annotations

import re
from typing import Any

from apiconform.contracts import PAGINATION_EXTENSION, Contract, Operation, Pagination
from apiconform.findings import Category
from apiconform.gate.diff._model import Change, DiffReport, Direction, Kind, Location, Sides
from apiconform.gate.diff._schema import Scope, compare

_PAGINATION = PAGINATION_EXTENSION
#: (removed, added) per direction
_CONTENT_TYPE_KINDS: dict[Direction, tuple[Kind, Kind]] = {
    "request": (Kind.REQUEST_CONTENT_TYPE_REMOVED, Kind.REQUEST_CONTENT_TYPE_ADDED),
    "response": (Kind.RESPONSE_CONTENT_TYPE_REMOVED, Kind.RESPONSE_CONTENT_TYPE_ADDED),
}


def diff_contracts(
    old: Contract, new: Contract, *, old_label: str | None = None, new_label: str | None = None
) -> DiffReport:
    """Every change from `old` to `new`, each judged breaking or not for an existing client."""
    sides = Sides(old, new)
    _contract(sides)
    return DiffReport(old=old_label or str(old.path), new=new_label or str(new.path), changes=sides.changes)


# ---------------------------------------------------------------------------------------- contract


def _contract(sides: Sides) -> None:
    _security_schemes(sides)
    pairs, removed, added = _match_operations(list(sides.old), list(sides.new))
    for op in removed:
        sides.add(
            Kind.OPERATION_REMOVED, breaking=True, operation=op.label, at=Location(op.key), old=op.key,
            message=f"operation {op.label} ({op.key}) was removed: clients calling it will fail",
        )
    for old_op, new_op in pairs:
        _OperationDiff(sides, old_op, new_op).run()
    for op in added:
        sides.add(
            Kind.OPERATION_ADDED, breaking=False, operation=op.label, at=Location(op.key), new=op.key,
            message=f"new operation {op.label} ({op.key})",
        )


def _security_schemes(sides: Sides) -> None:
    old_schemes, new_schemes = sides.old.security_schemes, sides.new.security_schemes

    def where(name: str) -> Location:
        return Location(pointer=("components", "securitySchemes", name))

    for name, scheme in old_schemes.items():
        if name not in new_schemes:
            sides.add(
                Kind.SECURITY_SCHEME_REMOVED, breaking=True, category=Category.AUTH, at=where(name), old=scheme,
                message=f"security scheme {name!r} was removed",
            )
            continue
        before, after = _strip_docs(sides.old.resolve(scheme)), _strip_docs(sides.new.resolve(new_schemes[name]))
        if before != after:
            sides.add(
                Kind.SECURITY_SCHEME_CHANGED, breaking=True, category=Category.AUTH, at=where(name),
                old=before, new=after, message=f"security scheme {name!r} changed: clients must authenticate differently",
            )
    for name, scheme in new_schemes.items():
        if name not in old_schemes:
            sides.add(
                Kind.SECURITY_SCHEME_ADDED, breaking=False, category=Category.AUTH, at=where(name), new=scheme,
                message=f"new security scheme {name!r}",
            )


# --------------------------------------------------------------------------------------- operation


class _OperationDiff:
    """One operation paired across the versions; every change is reported under the new label and key."""

    def __init__(self, sides: Sides, old: Operation, new: Operation) -> None:
        self.sides, self.old, self.new = sides, old, new
        self.here = Location(new.key)

    def add(
        self,
        kind: Kind,
        *,
        breaking: bool,
        category: Category | None = None,
        at: Location | None = None,
        old: Any = None,
        new: Any = None,
        message: str,
    ) -> None:
        """`Sides.add` for this operation (`at` defaults to the operation itself)."""
        self.sides.add(
            kind, breaking=breaking, category=category, operation=self.new.label,
            at=self.here if at is None else at, old=old, new=new, message=message,
        )

    def schemas(self, old_schema: Any, new_schema: Any, scope: Scope) -> None:
        compare(self.sides, old_schema, new_schema, scope)

    def scope(self, direction: Direction, at: Location, category: Category | None = None) -> Scope:
        return Scope(direction=direction, operation=self.new.label, at=at, category=category)

    def run(self) -> None:
        old, new = self.old, self.new
        label = new.label
        if (old.method, old.path) != (new.method, new.path):
            if (old.method, _template(old.path)) == (new.method, _template(new.path)):
                self.add(
                    Kind.PATH_PARAMETER_RENAMED, breaking=False, old=old.key, new=new.key,
                    message=f"path parameters renamed in the template ({old.path} -> {new.path}); the URL is unchanged",
                )
            else:
                self.add(
                    Kind.OPERATION_MOVED, breaking=True, old=old.key, new=new.key,
                    message=f"operation {label} moved from {old.key} to {new.key} (path/verb changed)",
                )
        elif _explicit_id(old) and _explicit_id(new) and old.operation_id != new.operation_id:
            self.add(
                Kind.OPERATION_ID_CHANGED, breaking=False, old=old.operation_id, new=new.operation_id,
                message=f"operationId renamed {old.operation_id} -> {new.operation_id} (generated SDK method names change)",
            )
        self.security()
        self.pagination()
        self.parameters()
        self.request_body()
        self.responses()

    def security(self) -> None:
        old_alts, new_alts = _security_alternatives(self.old), _security_alternatives(self.new)
        if old_alts == new_alts:
            return
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
            Kind.AUTH_CHANGED if breaking else Kind.AUTH_RELAXED, breaking=breaking, category=Category.AUTH,
            at=self.here.within("security"), old=sorted(_alt_label(a) for a in old_alts),
            new=sorted(_alt_label(a) for a in new_alts), message=message,
        )

    def pagination(self) -> None:
        a, b = _declared(self.old.pagination), _declared(self.new.pagination)
        if a == b:
            return
        where = self.here.within(_PAGINATION)
        if not a or not b:
            message = "operation is now paginated: clients reading one response get only the first page" if b else (
                "operation is no longer paginated: pagination parameters/envelope are gone"
            )
            self.add(
                Kind.PAGINATION_CHANGED, breaking=True, category=Category.PAGINATION, at=where, old=a or None,
                new=b or None, message=message,
            )
            return
        scheme_keys = sorted(k for k in set(a) | set(b) if k not in ("max", "default"))
        changed = [k for k in scheme_keys if a.get(k) != b.get(k)]
        if changed:
            self.add(
                Kind.PAGINATION_CHANGED, breaking=True, category=Category.PAGINATION, at=where,
                old={k: a.get(k) for k in changed}, new={k: b.get(k) for k in changed},
                message="pagination scheme changed (" + ", ".join(changed) + ")",
            )
        if a.get("default") != b.get("default"):
            self.add(
                Kind.PAGINATION_DEFAULT_CHANGED, breaking=True, category=Category.PAGINATION,
                at=self.here.within(f"{_PAGINATION}/default"), old=a.get("default"), new=b.get("default"),
                message=f"default page size changed {a.get('default')} -> {b.get('default')}: "
                "clients not passing it see different pages",
            )
        if a.get("max") != b.get("max"):
            lowered = a.get("max") is None or (b.get("max") is not None and b["max"] < a["max"])
            self.add(
                Kind.PAGINATION_MAX_CHANGED, breaking=bool(lowered), category=Category.PAGINATION,
                at=self.here.within(f"{_PAGINATION}/max"), old=a.get("max"), new=b.get("max"),
                message=f"maximum page size changed {a.get('max')} -> {b.get('max')}"
                + (": larger page requests are now rejected or capped" if lowered else ""),
            )

    def parameters(self) -> None:
        old_params, new_params = _param_index(self.sides.old, self.old), _param_index(self.sides.new, self.new)
        for key, param in old_params.items():
            where = self.here.within(_param_label(param))
            if key not in new_params:
                self.add(
                    Kind.PARAMETER_REMOVED, breaking=False, at=where, old=param.get("name"),
                    message=f"parameter {_param_label(param)} removed (the server ignores it now)",
                )
                continue
            other = new_params[key]
            was, now = bool(param.get("required")), bool(other.get("required"))
            if not was and now:
                self.add(
                    Kind.PARAMETER_REQUIRED, breaking=True, category=Category.REQUIRED_FIELD, at=where, old=False,
                    new=True, message=f"parameter {_param_label(other)} became required",
                )
            elif was and not now:
                self.add(
                    Kind.PARAMETER_OPTIONAL, breaking=False, category=Category.REQUIRED_FIELD, at=where, old=True,
                    new=False, message=f"parameter {_param_label(other)} became optional",
                )
            if "schema" in param or "schema" in other:
                self.schemas(param.get("schema", {}), other.get("schema", {}), self.scope("request", where))
        for key, param in new_params.items():
            if key in old_params:
                continue
            where = self.here.within(_param_label(param))
            if param.get("required"):
                self.add(
                    Kind.PARAMETER_ADDED_REQUIRED, breaking=True, category=Category.REQUIRED_FIELD, at=where,
                    new=param.get("name"),
                    message=f"new required parameter {_param_label(param)}: existing calls lack it",
                )
            else:
                self.add(
                    Kind.PARAMETER_ADDED, breaking=False, at=where, new=param.get("name"),
                    message=f"new optional parameter {_param_label(param)}",
                )

    def request_body(self) -> None:
        old, new = self.old, self.new
        where = self.here.within("request")
        if not old.request_body and new.request_body:
            breaking = new.request_required
            self.add(
                Kind.REQUEST_BODY_ADDED, breaking=breaking, category=Category.REQUIRED_FIELD if breaking else None,
                at=where, new=sorted(new.request_body),
                message="operation now " + ("requires" if breaking else "accepts") + " a request body",
            )
            return
        if old.request_body and not new.request_body:
            self.add(
                Kind.REQUEST_BODY_REMOVED, breaking=False, at=where, old=sorted(old.request_body),
                message="operation no longer takes a request body (the server ignores it now)",
            )
            return
        if not old.request_required and new.request_required:
            self.add(
                Kind.REQUEST_BODY_REQUIRED, breaking=True, category=Category.REQUIRED_FIELD, at=where, old=False,
                new=True, message="request body became required",
            )
        elif old.request_required and not new.request_required:
            self.add(
                Kind.REQUEST_BODY_OPTIONAL, breaking=False, category=Category.REQUIRED_FIELD, at=where, old=True,
                new=False, message="request body became optional",
            )
        old_media, new_media = self.content_types(old.request_body, new.request_body, where, direction="request")
        for media in old_media.keys() & new_media.keys():
            a, b = old.request_body[old_media[media]], new.request_body[new_media[media]]
            if a.schema_pointer or b.schema_pointer:
                self.schemas(
                    self.sides.old.at(a.schema_pointer) if a.schema_pointer else {},
                    self.sides.new.at(b.schema_pointer) if b.schema_pointer else {},
                    self.scope("request", where.within(new_media[media])),
                )

    def content_types(
        self, old_content: Any, new_content: Any, where: Location, *, direction: Direction
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Media types no longer / newly documented; the media index of each side, for their schemas."""
        old_media, new_media = _media_index(old_content), _media_index(new_content)
        request = direction == "request"
        removed, added = _CONTENT_TYPE_KINDS[direction]
        for media, name in old_media.items():
            if media not in new_media:
                self.add(
                    removed, breaking=True, category=Category.CONTENT_TYPE, at=where.within(name), old=name,
                    message=f"{direction} content type {name} " + ("no longer accepted" if request else "no longer sent"),
                )
        for media, name in new_media.items():
            if media not in old_media:
                self.add(
                    added, breaking=False, category=Category.CONTENT_TYPE, at=where.within(name), new=name,
                    message=f"{direction} content type {name} " + ("now accepted" if request else "newly documented"),
                )
        return old_media, new_media

    def responses(self) -> None:
        old, new = self.old, self.new
        old_codes, new_codes = list(old.responses), list(new.responses)
        removed = [s for s in old_codes if s not in new.responses]
        added = [s for s in new_codes if s not in old.responses]
        added_ok = [s for s in added if _is_success(s)]
        for status in removed:
            where = self.here.within(status)
            if _is_success(status) and added_ok:
                replacement = added_ok.pop(0)
                added.remove(replacement)
                self.add(
                    Kind.SUCCESS_STATUS_CHANGED, breaking=True, category=Category.STATUS_CODE, at=where, old=status,
                    new=replacement,
                    message=f"success status changed {status} -> {replacement}: clients checking the status will fail",
                )
            elif _is_success(status):
                self.add(
                    Kind.SUCCESS_STATUS_REMOVED, breaking=True, category=Category.STATUS_CODE, at=where, old=status,
                    message=f"success status {status} no longer documented",
                )
            else:
                self.add(
                    Kind.STATUS_REMOVED, breaking=False, category=Category.STATUS_CODE, at=where, old=status,
                    message=f"response {status} no longer documented",
                )
        for status in added:
            self.add(
                Kind.STATUS_ADDED, breaking=False, category=Category.STATUS_CODE, at=self.here.within(status),
                new=status, message=f"response {status} newly documented",
            )
        for status in (s for s in old_codes if s in new.responses):
            self.response(status)

    def response(self, status: str) -> None:
        old, new = self.old, self.new
        a, b = old.responses[status], new.responses[status]
        where = self.here.within(status)
        error = not _is_success(status) and not status.startswith(("1", "3"))
        for name in a.headers:
            if name.lower() not in {h.lower() for h in b.headers}:
                category = Category.PAGINATION if name.lower() in ("link", "x-total-count") and new.pagination is not None else None
                self.add(
                    Kind.RESPONSE_HEADER_REMOVED, breaking=True, category=category, at=where.within("header", name),
                    old=name, message=f"response header {name} no longer documented",
                )
        for name in b.headers:
            if name.lower() not in {h.lower() for h in a.headers}:
                self.add(
                    Kind.RESPONSE_HEADER_ADDED, breaking=False, at=where.within("header", name), new=name,
                    message=f"response header {name} newly documented",
                )
        old_media, new_media = self.content_types(a.content, b.content, where, direction="response")
        for media in old_media.keys() & new_media.keys():
            ma, mb = a.content[old_media[media]], b.content[new_media[media]]
            loc = where.within(new_media[media])
            if ma.schema_pointer and not mb.schema_pointer:
                self.add(
                    Kind.RESPONSE_SCHEMA_REMOVED, breaking=True, category=Category.ERROR_SHAPE if error else None,
                    at=loc, old=ma.schema_pointer, message="response body schema no longer documented",
                )
                continue
            if not ma.schema_pointer:
                continue
            envelope: set[str] = set()
            if _is_success(status):  # old and new names: a renamed envelope field is found under either
                for pagination in (old.pagination, new.pagination):
                    envelope |= {str(v) for v in (_declared(pagination).get("envelope") or {}).values()}
            before = len(self.sides.changes)
            self.schemas(
                self.sides.old.at(ma.schema_pointer),
                self.sides.new.at(mb.schema_pointer) if mb.schema_pointer else {},
                self.scope("response", loc, Category.ERROR_SHAPE if error else None),
            )
            if envelope or (new.action == "list" and _is_success(status)):
                _mark_envelope(self.sides.changes, before, envelope)


def _mark_envelope(changes: list[Change], start: int, envelope: set[str]) -> None:
    """Breaking changes to a list response's top level (or its envelope fields) are pagination changes."""
    for i in range(start, len(changes)):
        change = changes[i]
        path = change.at.pointer or ()
        names = [t for t in path if t]
        top = len(path) == 0 or path == ("",) or (len(names) == 1 and names[0] in envelope)
        if change.breaking and top:
            changes[i] = Change(
                kind=change.kind, breaking=True, category=Category.PAGINATION, operation=change.operation,
                at=change.at, old=change.old, new=change.new, message=change.message + " (list envelope changed)",
            )


# ----------------------------------------------------------------------------------------- utilities


def _declared(pagination: Pagination | None) -> dict[str, Any]:
    """The pagination extension as the document declares it: a contract diff compares what each version
    says (a style apiconform does not run, an unknown key, a member left to its default), not the defaults."""
    return dict(pagination.raw) if pagination is not None else {}


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
