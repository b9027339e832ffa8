"""The write policy of a live target: which records a run may change, what it created, and its clean-up.

With writes allowed, a target's policy is `own` (the default) or `sandbox`:

- `own`: a PUT/PATCH/DELETE, or a POST acting on an existing record, is sent only when the record it addresses
  was created by this run (its id taken from the create answer's body or its `Location` header), sits under
  such a record, matches the target's `expendable` patterns, or cannot exist (its id does not fit the
  parameter's documented schema). Creates (a POST into a collection) and POSTs that address no record (a
  login, a search) are sent. Records found through list operations are read, never written.
- `sandbox`: the whole target is expendable: any record may be written.

Either way, every record the run created (including a create the server accepted where the tool expected a
refusal) is deleted at the end, newest first, where the contract documents a delete; what could not be deleted
is listed (vendor, operation, id, URL, why) in the summary and `run.json`.

The guard sits in `Session.send`, the one place every request of every suite passes, so no suite can bypass
it; a refused write raises `WriteRefused` (never sent), and the refusal is counted in the run's write report.
Which record a request addresses is read from the contract's path templates alone (generic, no vendor names):
`x-apiconform-action` when declared, else the shape of the paths.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

import httpx

from apiconform.contracts import Contract, Operation, carries_requests, record_id

#: how the clean-up sends one delete (the Session's): the answer's status, or None and why nothing came back
SendDelete = Callable[[Operation, httpx.Request], tuple[int | None, str]]

#: `own`: only records this run created (or expendable ones); `sandbox`: any record of the target.
WritePolicy = Literal["own", "sandbox"]
WRITE_POLICIES: tuple[str, ...] = ("own", "sandbox")
#: seconds the clean-up may take in all (each request also has the target's own deadline)
CLEANUP_SECONDS = 30.0

Kind = Literal["record", "create", "call", "bulk"]
Key = tuple[str, ...]  # a record's base-relative path as segments (percent-encoded as on the wire)


def _segments(path: str) -> Key:
    return tuple(s for s in path.split("/") if s)


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def addressed(contract: Contract, op: Operation) -> tuple[Kind, Key]:
    """What a request of `op` writes to, as (kind, record template): `record` changes the record whose path
    template is returned; `create` adds a record to the collection at the template; `call` changes nothing (a
    declared list/read, or a query declared `x-apiconform-safe: true`); `bulk` may change any record the vendor
    holds (an undeclared action addressing no record: `POST /flows/bulk_delete` with a filter in its body; or any POST
    whose body carries requests of its own, a batch, unless declared `x-apiconform-safe: true`)."""
    return _addressed(contract, op.label) if contract.operations.get(op.label) is op else _classify(contract, op)


@functools.lru_cache(maxsize=4096)
def _addressed(contract: Contract, label: str) -> tuple[Kind, Key]:
    return _classify(contract, contract.operations[label])


def _classify(contract: Contract, op: Operation) -> tuple[Kind, Key]:
    template = _segments(op.path)
    params = [i for i, s in enumerate(template) if _is_param(s)]
    through_last = record_template(template)
    if op.method in ("put", "patch", "delete"):
        return "record", template
    if op.declared_safe:
        return "call", ()  # declared to change nothing (a query sent as a POST), whatever its path looks like
    if _carries_requests(contract, op):
        return "bulk", template  # a batch: the requests in its body may address any record, whatever its path says
    if op.action == "create" or (op.action is None and _is_collection(contract, op)):
        return "create", template
    if op.action in ("update", "replace", "delete"):
        return "record", template
    if op.action in ("list", "read") or op.definition.get("security") == []:
        return "call", ()  # security: [] = answers anyone (sign-in, token refresh), so it acts on no one's records
    if not params:  # a POST to a collection adds to it; any other such action may change any record
        return ("create", template) if _is_collection(contract, op) else ("bulk", template)
    return "record", through_last  # an action on an existing record (POST /x/{id}/cancel, POST /x/{id})


def _carries_requests(contract: Contract, op: Operation) -> bool:
    """Its body carries requests of its own (method + path members, `contracts.carries_requests`)."""
    return any(media.schema_pointer is not None and carries_requests(contract.resolve, contract.at(media.schema_pointer))
               for media in op.request_body.values())


def record_template(template: Key) -> Key:
    """The record a template addresses: the template up to its last path parameter (`/x/{id}/settings` -> `/x/{id}`)."""
    params = [i for i, s in enumerate(template) if _is_param(s)]
    return template[: params[-1] + 1] if params else ()


def create_operation(contract: Contract, template: Key) -> Operation | None:
    """The operation that creates records of the collection a record template belongs to (POST on its parent)."""
    return next((o for o in contract if o.method == "post" and _segments(o.path) == template[:-1]
                 and addressed(contract, o)[0] == "create"), None) if template else None


def _is_collection(contract: Contract, op: Operation) -> bool:
    """An undeclared POST (or a generic `action` one without path parameters) is a create when its path is a
    collection: it ends with a literal segment and an item path one parameter below it is documented, or the
    operation documents 201 Created."""
    template = _segments(op.path)
    if not template or _is_param(template[-1]):
        return False
    if "201" in op.responses:
        return True
    return any(len(_segments(o.path)) == len(template) + 1 and _segments(o.path)[:-1] == template
               and _is_param(_segments(o.path)[-1]) for o in contract)


def _match(template: Key, key: Key) -> dict[str, str] | None:
    if len(template) != len(key):
        return None
    values: dict[str, str] = {}
    for t, k in zip(template, key):
        if _is_param(t):
            values[t[1:-1]] = unquote(k)
        elif t != k:
            return None
    return values


@dataclass
class Created:
    """A record this run created."""

    operation: str  # the operation whose answer created it
    key: Key
    id: str | None
    deletable: bool = False  # addressable, and the contract documents a delete for it
    gone: bool = False
    status: int = 0  # the create's answer: its status, the JSON body it sent and the JSON it answered (None: not
    sent: Any = None  # JSON), what the create answer's links (`requestBody`: `$request.body#/task_id`) read
    answer: Any = None


@dataclass(frozen=True)
class LeftBehind:
    """A record the run created and could not delete: enough for a person to remove it."""

    vendor: str
    operation: str
    id: str | None
    url: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "operation": self.operation, "id": self.id, "url": self.url, "reason": self.reason}


@dataclass
class WriteReport:
    """One target's writes in one run: the policy, what was created, deleted, refused and left behind."""

    vendor: str
    policy: str
    created: int = 0
    deleted: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # operation -> the first reason
    refused_requests: int = 0
    left_behind: list[LeftBehind] = field(default_factory=list)
    cleanup_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "created": self.created, "deleted": self.deleted,
                "refused_requests": self.refused_requests, "refused": dict(sorted(self.refused.items())),
                "left_behind": [r.to_dict() for r in self.left_behind], "cleanup_seconds": round(self.cleanup_seconds, 3)}


class Ownership:
    """One target's write policy and the records this run created (one per Session, thread-safe enough:
    a live target is driven by one thread)."""

    def __init__(self, vendor: str, contract: Contract, base_url: str, policy: str, expendable: Iterable[str]) -> None:
        self.vendor = vendor
        self.contract = contract
        self.base_url = base_url
        self.base = _segments(httpx.URL(base_url).raw_path.decode("ascii", "replace").split("?", 1)[0])
        self.policy = policy
        self.expendable = tuple(expendable)
        self.created: list[Created] = []
        self.unavailable: dict[Key, str] = {}  # record template -> why no record of ours could be created for it
        self.report = WriteReport(vendor, policy)

    # ---- where a request goes
    def key_of(self, url: httpx.URL) -> Key | None:
        """The request's path relative to the target's base, as segments (None: not under the base URL)."""
        key = _segments(url.raw_path.decode("ascii", "replace").split("?", 1)[0])
        if key[: len(self.base)] != self.base:
            return None
        return key[len(self.base):]

    def owned(self, key: Key) -> bool:
        """The record at `key` is one this run created, or lies under one. A create whose answer named no record
        (`id` None, its key the collection it went into) owns nothing: the collection holds the vendor's records too."""
        return any(c.id is not None and key[: len(c.key)] == c.key for c in self.created)

    def is_expendable(self, key: Key) -> bool:
        path = "/" + "/".join(unquote(s) for s in key)
        last = unquote(key[-1]) if key else ""
        return any(fnmatch.fnmatchcase(path if p.startswith("/") else last, p) for p in self.expendable)

    def check(self, op: Operation, request: httpx.Request) -> str | None:
        """None if the request may be sent under the policy, else why not (one line)."""
        if self.policy == "sandbox" or op.is_safe:
            return None
        kind, template = addressed(self.contract, op)
        if kind == "bulk":
            return (f"may change records this run did not create: {request.method} {op.label} addresses no record, so "
                    f"what it changes is up to its body (write policy \"own\"; declare the operation "
                    f"`x-apiconform-safe: true` if it changes nothing, or writes = \"sandbox\")")
        if kind != "record":
            return None
        key = self.key_of(request.url)
        if key is None:
            return None  # not the target's record (an absolute URL elsewhere): nothing of the vendor's to protect
        key = key[: len(template)] if len(key) >= len(template) else key
        if self.owned(key) or self.is_expendable(key) or self._cannot_exist(op, key, template):
            return None
        where = "/" + "/".join(key)
        why = self.unavailable.get(record_template(template))
        return (f"not a record of this run: {request.method} {op.label} on {where} not sent, the run did not create it "
                f"(write policy \"own\"; `expendable` or writes = \"sandbox\" allow it)"
                + (f"; no record of its own could be made: {why}" if why else ""))

    def _cannot_exist(self, op: Operation, key: Key, template: Key) -> bool:
        """Its id does not fit the parameter's documented schema, so no such record can exist."""
        values = _match(template, key)
        names = [t[1:-1] for t in template if _is_param(t)]
        if values is None or not names:
            return False
        pointer = op.param_schemas.get(("path", names[-1]))
        if pointer is None:
            return False
        raw = values[names[-1]]
        candidates: list[Any] = [raw]
        try:
            candidates.append(json.loads(raw))  # a path segment is text: "5" is the integer 5 on the wire
        except ValueError:
            pass
        try:
            schema = self.contract.deref_pointer(pointer)
            return all(self.contract.validate(schema, value) for value in candidates)
        except Exception:  # noqa: BLE001 - an unvalidatable schema proves nothing
            return False

    def refuse(self, op: Operation, reason: str) -> None:
        self.report.refused.setdefault(op.label, reason)
        self.report.refused_requests += 1

    # ---- what a sent request did
    def observe(self, op: Operation, exchange: Any) -> None:
        """`exchange`: the Session's `Exchange` (status, request, response, json())."""
        # tracks a create the target accepted, and a delete of a record of ours
        status = exchange.status
        if status is None or op.is_safe or not (200 <= status < 300 or status in (404, 410)):
            return
        kind, template = addressed(self.contract, op)
        key = self.key_of(exchange.request.url)
        if key is None:
            return
        if op.method == "delete" and kind == "record":
            for created in self.created:
                if created.key[: len(key)] == key and not created.gone:
                    created.gone = True
                    self.report.deleted += 1
            return
        if status >= 300:
            return
        if kind == "create" and (status == 201 or "201" not in op.responses):  # a documented 201: 200 is "exists"
            self._created(op, exchange, key)
        elif kind == "record" and status == 201:  # an upsert that created the record it addressed
            self._add(op, key[: len(template)], unquote(key[len(template) - 1]) if template else None)

    def _created(self, op: Operation, exchange: Any, collection: Key) -> None:
        body = exchange.json()
        location = exchange.response.headers.get("location") if exchange.response is not None else None
        created: Created | None = None
        if location:
            try:
                key = self.key_of(exchange.request.url.join(location))
            except (httpx.InvalidURL, ValueError):
                key = None
            if key:
                created = self._add(op, key, unquote(key[-1]))
        if created is None:
            value = record_id(body, self._id_field(op)) if isinstance(body, dict) else None
            if value is None and isinstance(body, dict):
                value = record_id(body, "id")
            if value is None or isinstance(value, (dict, list, bool)):
                self._add(op, collection, None)  # created, but the answer says not where: listed as left behind
                return
            created = self._add(op, collection + (httpx.URL("/" + str(value)).raw_path.decode("ascii")[1:],), str(value))
        try:
            sent = json.loads(exchange.request.content) if exchange.request.content else None
        except ValueError:
            sent = None
        # the newest create answered for this record is what the target now holds (a get-or-create that locks the
        # record for the task it names: the next action must carry that task, not the first create's)
        created.status, created.sent = exchange.status, sent
        created.answer = body if isinstance(body, (dict, list)) else None

    def _id_field(self, create: Operation) -> str:
        template = _segments(create.path)
        item = next((o for o in self.contract if o.method in ("get", "delete") and len(_segments(o.path)) == len(template) + 1
                     and _segments(o.path)[:-1] == template and _is_param(_segments(o.path)[-1])), None)
        return item.id_field if item is not None else "id"

    def _add(self, op: Operation, key: Key, record: str | None) -> Created:
        """The record created at `key`: the one already known there (a create answered again for a record this run
        holds: a get-or-create, an upsert), else a new entry."""
        if record is not None:
            known = next((c for c in reversed(self.created) if c.key == key and not c.gone), None)
            if known is not None:
                return known
        self.created.append(Created(op.label, key, record, record is not None and self._delete_operation(key) is not None))
        self.report.created += 1
        return self.created[-1]

    def deleted(self, url: httpx.URL) -> bool:
        """Whether `url` addresses a record this run created and then deleted, or something under it."""
        key = self.key_of(url)
        return key is not None and any(c.gone and c.id is not None and key[: len(c.key)] == c.key for c in self.created)

    def pending(self) -> list[Created]:
        return [c for c in self.created if not c.gone]

    def reserve(self) -> int:
        """Requests the clean-up will need: one delete per record of ours still there that can be deleted."""
        return sum(1 for c in self.created if c.deletable and not c.gone)

    def creation_of(self, url: httpx.URL) -> Created | None:
        """The newest live record of ours that `url` addresses (or lies under)."""
        key = self.key_of(url)
        if key is None:
            return None
        return next((c for c in reversed(self.created) if not c.gone and c.id is not None and key[: len(c.key)] == c.key),
                    None)

    # ---- which own record a write addresses
    def own_values(self, template: Key, fixed: dict[str, str]) -> dict[str, str] | None:
        """Path values of the newest live record of ours that fits `template` and the fixed values."""
        for created in reversed(self.created):
            if created.gone or created.id is None:
                continue
            values = _match(template, created.key)
            if values is not None and all(values.get(k, v) == v for k, v in fixed.items()):
                return values
        return None

    # ---- clean-up
    def cleanup(self, send: SendDelete, redactor: Any, seconds: float = CLEANUP_SECONDS) -> WriteReport:
        """Delete every record of ours still there, newest first, within `seconds` (a delete answered 503, busy for
        now, is tried again after the others, twice, 2 then 4 s later); list what stays. `send` puts one
        delete on the wire (through the Session, so `observe` sees it); `redactor` masks the ids, URLs and reasons listed."""
        began = time.monotonic()
        stays: list[tuple[Created, str]] = []
        busy: list[tuple[Created, Operation, str]] = []  # answered 503 (busy for now): tried again after the others
        for created in reversed(self.pending()):
            delete = self._delete_operation(created.key)
            if created.id is None:
                stays.append((created, f"the answer of {created.operation} carried no id or Location, so the record "
                                       "cannot be addressed"))
            elif delete is None:
                stays.append((created, "the contract documents no delete for it"))
            else:
                busy.append((created, *delete))
        for attempt in range(3):
            retry: list[tuple[Created, Operation, str]] = []
            for created, op, path in busy:
                if time.monotonic() - began > seconds:
                    stays.append((created, f"the clean-up time ({seconds:g} s) ran out"))
                    continue
                status, why = send(op, httpx.Request("DELETE", self.base_url.rstrip("/") + path))
                if created.gone:  # `observe` saw the delete succeed (or the record already gone)
                    continue
                if status == 503 and attempt < 2:
                    retry.append((created, op, path))
                else:
                    stays.append((created, f"{op.label} answered {status}" if status is not None else why))
            busy = retry
            if busy:
                time.sleep(min(2.0 * 2**attempt, max(0.0, seconds - (time.monotonic() - began))))
        for created, reason in stays:
            url = self.base_url.rstrip("/") + "/" + "/".join(created.key)
            # the id is what the vendor answered (an echoing vendor can hand a credential back as an id): masked too
            record_id = None if created.id is None else str(redactor.text(created.id))
            self.report.left_behind.append(LeftBehind(self.vendor, created.operation, record_id, str(redactor.url(url)),
                                                      str(redactor.text(reason))))
        self.report.cleanup_seconds += time.monotonic() - began
        return self.report

    def _delete_operation(self, key: Key) -> tuple[Operation, str] | None:
        for op in self.contract:
            if op.method != "delete":
                continue
            values = _match(_segments(op.path), key)
            if values is None or addressed(self.contract, op)[0] != "record":
                continue
            path = op.path
            for name, value in values.items():
                path = path.replace("{" + name + "}", httpx.URL("/" + value).raw_path.decode("ascii")[1:])
            return op, path
        return None


__all__ = ["CLEANUP_SECONDS", "WRITE_POLICIES", "Created", "LeftBehind", "Ownership", "WritePolicy", "WriteReport",
           "addressed", "create_operation", "record_template"]
