"""`apiconform learn`: from recordings of the real vendor, what the mock needs that the contract cannot say.

The result is the mock's learned data file (`apiconform.mock._learned`), written as reviewable YAML beside the
contract. Everything in it comes from the recordings, which are redacted already; it is redacted once more
(sensitive names at any depth, every value that looks like a token), so no secret reaches it:

- `records`: every record the vendor answered to a read or a list before the client changed it (its first
  appearance; records the traffic created are not seeds), under the path scope it was read at, and for each
  record its parents (a parent never answered whole is kept as its id alone, filled by the mock from the
  schema), so every seeded record's parents exist and nested ids agree with the paths;
- `lifetimes`: the median lifetime of the tokens each operation answered (`_lifetimes` in the recording);
- `answers`: the login answer (the contract's login operation), tokens masked (the mock mints its own);
- `open`: the structure of each object the contract leaves open, as the vendor answered it (first seen);
- `accepted`: request values the vendor answered with success that the contract's formats refuse;
- `members`: per operation and object pointer, the members the vendor answered (`seen`) and those it always
  answered (`always`, with an example), so the mock answers the vendor's members, not every optional one;
- `errors`: each operation's error bodies by status (first seen); `absent`: the status a read answers for a record
  the traffic deleted (Kinto: 403, hiding whether it exists).
"""

from __future__ import annotations

import copy
import json
import re
import statistics
from pathlib import Path
from typing import Any

import httpx

from apiconform.contracts import Contract, Operation, record_id, walk
from apiconform.redact import MASK, Redactor
from apiconform.traffic._judge import find_operation

_PATTERN = re.compile(r"/\d+(?=/|$)")

HEADER = """\
# Learned by `apiconform learn` from recordings of the real vendor ({sources}).
# Reviewed data, not code: the generic mock executes it when the contract names it (x-apiconform-learned)
# or a command passes it (--learned). Redacted: credentials, tokens and sensitive members are masked.
# Regenerate with the same command; edit by hand where the vendor's behaviour is known better.
"""


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def _scrub(value: Any, redactor: Redactor) -> Any:
    """Redacted once more: sensitive names, and strings that look like tokens (JWTs, long opaque keys)."""
    value = redactor.json(value)
    for ptr, node in list(walk(value)):
        if isinstance(node, str) and (node.count(".") == 2 and len(node) > 40 and " " not in node):
            from apiconform.traffic._replay import _set

            value = _set(value, ptr, MASK)
    return value


def _open_pointers(contract: Contract, schema: Any, body: Any, ptr: str = "") -> list[tuple[str, Any]]:
    """(pointer with `*` for list indices, value) of every non-empty object where the schema is open."""
    from apiconform.traffic._cassette import _child, _free_form

    schema = contract.resolve(schema) if isinstance(schema, dict) else None
    if schema is None:
        return []
    if _free_form(schema):
        return [(ptr, body)] if isinstance(body, dict) and body else []
    out: list[tuple[str, Any]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            out += _open_pointers(contract, _child(contract, schema, key), value, f"{ptr}/{key}")
    elif isinstance(body, list) and body:
        out += _open_pointers(contract, _child(contract, schema, 0), body[0], f"{ptr}/*")
    return out


class Learner:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.redactor = Redactor(())
        self.records: dict[str, dict[tuple[tuple[str, ...], str], dict[str, Any]]] = {}
        self.created: set[tuple[str, str]] = set()  # (resource, id) the traffic made
        self.templates: dict[str, Any] = {}  # resource -> the latest full record answered (created ones too)
        self.lifetimes: dict[str, dict[str, list[int]]] = {}
        self.answers: dict[str, Any] = {}
        self.open: dict[str, dict[str, Any]] = {}
        self.accepted: dict[str, list[dict[str, str]]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}  # operation -> pattern -> {seen, always}
        self.errors: dict[str, dict[int, Any]] = {}
        self.absent: dict[str, int] = {}
        self.deleted: set[tuple[str, str]] = set()  # (resource, id) the traffic deleted
        self.sources: list[str] = []
        login: dict[str, Any] = next((s["x-apiconform-auth"] for s in contract.security_schemes.values()
                                      if isinstance(s.get("x-apiconform-auth"), dict)), {})
        self.login = login
        self.login_path = login.get("login")

    def operation(self, entry: dict[str, Any]) -> Operation | None:
        name = entry.get("_operation")
        if name and name in self.contract.operations:
            return self.contract.operations[str(name)]
        url = httpx.URL(str(entry["request"]["url"]))
        return find_operation(self.contract, str(entry["request"]["method"]), url.raw_path.decode("latin-1"))

    def add(self, name: str, entries: list[dict[str, Any]]) -> None:
        self.sources.append(name)
        for entry in entries:
            if entry.get("_probe"):
                continue
            op = self.operation(entry)
            status = int(entry["response"].get("status") or 0)
            if op is not None and 400 <= status < 500:
                self.learn_error(op, entry, status)
            if op is None or not 200 <= status < 300:
                continue
            body = _json(entry["response"]["content"].get("text"))
            url = httpx.URL(str(entry["request"]["url"]))
            from apiconform.traffic._replay import _match_tail

            path = _match_tail(op, url.raw_path.decode("latin-1")) or {}
            self.learn_records(op, path, body, status)
            for ptr, seconds in (entry.get("_lifetimes") or {}).items():
                self.lifetimes.setdefault(op.operation_id, {}).setdefault(ptr, []).append(int(seconds))
            if op.path == self.login_path and isinstance(body, dict) and op.operation_id not in self.answers:
                self.answers[op.operation_id] = _scrub(body, self.redactor)
                self.learn_identity(body)
            self.learn_open(op, status, body)
            self.learn_members(op, body)
            self.learn_formats(op, entry)

    def learn_records(self, op: Operation, path: dict[str, str], body: Any, status: int = 200) -> None:
        if op.resource is None:
            return
        names = op.path_params()
        if op.action == "delete" and op.id_param and path.get(op.id_param):
            self.deleted.add((op.resource, str(path[op.id_param])))
            return
        if status == 201 and op.method == "put" and op.id_param and path.get(op.id_param):
            self.created.add((op.resource, str(path[op.id_param])))  # a PUT that created the record its path names
            return
        if op.action == "create":
            from apiconform.traffic._cassette import resource_id_field

            for name in {op.id_field, resource_id_field(self.contract, op.resource)}:
                made = record_id(body, name) if isinstance(body, dict) else None
                if made is not None:
                    self.created.add((op.resource, str(made)))
            return
        if isinstance(body, dict) and op.action in ("read", "update", "replace") and len(body) > 1:
            self.templates[op.resource] = body  # the latest state of any record of it: a parent's template
        if op.action not in ("list", "read"):
            return
        scope = tuple(path.get(n, "") for n in names if not (op.action == "read" and n == op.id_param))
        items: list[Any] = []
        if op.action == "read":
            items = [body]
        elif isinstance(body, list):
            items = body
        elif isinstance(body, dict):
            envelope = op.pagination.envelope.results if op.pagination is not None and op.pagination.envelope else None
            items = body.get(envelope or "results") or next((v for v in body.values() if isinstance(v, list)), [])
        stored = self.records.setdefault(op.resource, {})
        for item in items:
            key = record_id(item, op.id_field) if isinstance(item, dict) else None
            if key is None or (op.resource, str(key)) in self.created:
                continue
            known = stored.get((scope, str(key)))
            if known is None or len(known) <= 1:  # first seen (before the client changed it), over a bare id
                stored[(scope, str(key))] = _scrub(copy.deepcopy(item), self.redactor)

    def learn_identity(self, body: Any) -> None:
        """The caller's own record, which the login answer names (`x-apiconform-auth.identity`): it exists."""
        from apiconform.contracts import resolve

        identity = self.login.get("identity") or {}
        source, resource = str(identity.get("from", "")), identity.get("resource")
        if not resource or not source.startswith("$response.body#"):
            return
        value = resolve(body, source.split("#", 1)[1])
        if value is not None:
            from apiconform.traffic._cassette import resource_id_field

            field_name = resource_id_field(self.contract, str(resource))
            self.records.setdefault(str(resource), {}).setdefault(((), str(value)), {field_name: value})

    def learn_open(self, op: Operation, status: int, body: Any) -> None:
        from apiconform.traffic._cassette import _response_schema

        schema = _response_schema(self.contract, op, status)
        if schema is None or body is None:
            return
        for ptr, value in _open_pointers(self.contract, schema, body):
            self.open.setdefault(op.operation_id, {}).setdefault(ptr, _scrub(value, self.redactor))

    def learn_error(self, op: Operation, entry: dict[str, Any], status: int) -> None:
        """A record that does not exist: the status a read of one the traffic deleted answers (`absent`), and the
        vendor's body for it and for every 404 (`errors`; other errors' bodies depend on their cause, which the
        contract declares)."""
        url = httpx.URL(str(entry["request"]["url"]))
        from apiconform.traffic._replay import _match_tail

        path = _match_tail(op, url.raw_path.decode("latin-1")) or {}
        gone = op.action == "read" and op.resource and (op.resource, str(path.get(op.id_param or ""))) in self.deleted
        if gone:
            self.absent.setdefault(op.operation_id, status)
        body = _json(entry["response"]["content"].get("text"))
        if isinstance(body, (dict, list)) and (gone or status == 404):
            self.errors.setdefault(op.operation_id, {}).setdefault(status, _scrub(body, self.redactor))

    def learn_members(self, op: Operation, body: Any) -> None:
        """Which members the vendor answers in each object of an operation's answer (pointer, `*` for list
        indices): every member seen, and those it always answers with a first example value."""
        if not isinstance(body, (dict, list)):
            return
        learned = self.members.setdefault(op.operation_id, {})
        for ptr, node in walk(body):
            if not isinstance(node, dict):
                continue
            pattern = _PATTERN.sub("/*", ptr)
            known = learned.get(pattern)
            if known is None:
                learned[pattern] = {"seen": list(node), "always": {k: _scrub(copy.deepcopy(v), self.redactor)
                                                                   for k, v in node.items()}}
                continue
            known["seen"] += [k for k in node if k not in known["seen"]]
            known["always"] = {k: v for k, v in known["always"].items() if k in node}

    def learn_formats(self, op: Operation, entry: dict[str, Any]) -> None:
        from apiconform.contracts import validate_request

        text = (entry["request"].get("postData") or {}).get("text")
        body = _json(text)
        if not isinstance(body, dict):
            return
        url = httpx.URL(str(entry["request"]["url"]))
        request = httpx.Request(str(entry["request"]["method"]), url, json=body)
        from apiconform.contracts import from_httpx

        wire = validate_request(self.contract, op, from_httpx(request, op))
        for v in wire.violations:
            if v.location == "body" and "is not a '" in v.message:
                fmt = v.message.rsplit("is not a '", 1)[1].rstrip("'")
                item = {"location": v.location, "name": v.name, "format": fmt}
                known = self.accepted.setdefault(op.operation_id, [])
                if item not in known:
                    known.append(item)

    def parents_complete(self) -> list[str]:
        """Every seeded record's parents exist: a parent never answered whole is added as its id alone."""
        notes: list[str] = []
        sources: dict[str, Operation] = {}
        for op in self.contract:
            if op.resource and op.action in ("list", "read") and (op.resource not in sources or op.action == "read"):
                sources[op.resource] = op
        changed = True
        while changed:
            changed = False
            for resource, stored in list(self.records.items()):
                source = sources.get(resource)
                if source is None:
                    continue
                op = source
                depth = len(op.path_params()) - (1 if op.action == "read" else 0)
                for scope, _key in list(stored):
                    for level in range(1, depth + 1):
                        parent = self.contract.parent_resource(op, level)
                        if not parent or parent == resource:
                            continue
                        pid = scope[level - 1]
                        parent_scope = scope[:level - 1]
                        if (parent_scope, pid) not in self.records.setdefault(parent, {}):
                            pop = sources.get(parent)
                            field_name = pop.id_field if pop is not None else "id"
                            value: Any = int(pid) if pid.isdigit() else pid
                            template = self.templates.get(parent)
                            record = _scrub(copy.deepcopy(template), self.redactor) if isinstance(template, dict) else {}
                            record[field_name] = value
                            self.records[parent][(parent_scope, pid)] = record
                            notes.append(f"{parent} {pid}: never answered whole, kept as its id (parent of {resource})")
                            changed = True
        return notes

    def data(self) -> dict[str, Any]:
        self.parents_complete()
        records = {
            resource: [{"scope": list(scope), "id": key, "record": record} for (scope, key), record in stored.items()]
            for resource, stored in sorted(self.records.items()) if stored
        }
        lifetimes = {op: {ptr: int(statistics.median(v)) for ptr, v in ptrs.items()} for op, ptrs in self.lifetimes.items()}
        out: dict[str, Any] = {"vendor": self.contract.vendor, "sources": self.sources}
        members = {op: {ptr: {"seen": m["seen"], "always": {k: _example(v) for k, v in m["always"].items()}}
                        for ptr, m in ptrs.items()} for op, ptrs in self.members.items()}
        for name, value in (("lifetimes", lifetimes), ("answers", self.answers), ("records", records),
                            ("open", self.open), ("accepted", self.accepted), ("members", members),
                            ("errors", self.errors), ("absent", self.absent)):
            if value:
                out[name] = value
        return out


def _example(value: Any) -> Any:
    """An always-answered member's example: scalars as seen, containers empty (their own members are learned
    at their own pointers)."""
    return type(value)() if isinstance(value, (dict, list)) else value


def learn(contract: Contract, recordings: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The learned data (a plain mapping, as the file holds it) of one or more recordings."""
    learner = Learner(contract)
    for name, entries in recordings:
        learner.add(name, entries)
    return learner.data()


def write_learned(path: Path, data: dict[str, Any]) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(sources=", ".join(data.get("sources") or [])) + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(text, encoding="utf-8")


__all__ = ["Learner", "learn", "write_learned"]
