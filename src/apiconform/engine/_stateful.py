"""Stateful suite: resource lifecycles that follow the contract's links and resource extensions.

create → read (what was written is what is read back) → update → read → list contains → delete →
read is gone. Which operations form a lifecycle comes from `x-apiconform-resource`/`-action`;
how a created id feeds the next operation comes from the create response's OpenAPI `links`
(`$response.body#/...`), falling back to the id field.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from apiconform.contracts import Contract, Operation, record_id, resolve
from apiconform.engine._discovery import Discovery
from apiconform.engine._generate import valid_request
from apiconform.engine._judge import judge
from apiconform.engine._realistic import link_body
from apiconform.engine._record import Recorder
from apiconform.engine._request import USER_AGENT
from apiconform.engine._session import NOT_JSON, BudgetExhausted, Exchange, Session, Unsendable, WriteRefused
from apiconform.engine.checks import POSITIVE, CheckContext
from apiconform.findings import Category


def lifecycle_operations(contract: Contract, resource: str) -> dict[str, Operation]:
    """The operations of one resource by action (create/read/update/replace/list/delete)."""
    ops: dict[str, Operation] = {}
    candidates = [op for op in contract if op.resource == resource]
    create = next((op for op in candidates if op.action == "create"), None)
    depth = len(create.path_params()) if create is not None else 0
    for op in candidates:
        if op.action not in ("create", "read", "update", "replace", "list", "delete"):
            continue
        item = op.action in ("read", "update", "replace", "delete")
        if create is not None and len(op.path_params()) != depth + item:
            continue  # another nesting of the same resource (e.g. /courses/{id}/planned_courses/{id})
        ops.setdefault(op.action, op)
    return ops


def _link_values(contract: Contract, create: Operation, status: int, body: Any, target: Operation) -> dict[str, str]:
    """Path values for `target` from the create response's links (runtime expressions on the body)."""
    response = create.response_for(status)
    values: dict[str, str] = {}
    if response is None:
        return values
    for link in response.links.values():
        if link.get("operationId") != target.operation_id:
            continue
        for name, expression in (link.get("parameters") or {}).items():
            name = name.split(".", 1)[-1]  # `path.id` -> `id`
            if isinstance(expression, str) and expression.startswith("$response.body#"):
                value = resolve(body, expression.split("#", 1)[1])
                if value is not None:
                    values[name] = str(value)
    return values


def _fill(op: Operation, values: dict[str, str]) -> str:
    """The operation's path with the values known so far (an unknown one empty)."""
    return op.fill_path({name: values.get(name, "") for name in op.path_params()})


def _fields(body: Any) -> dict[str, Any]:
    """Top-level written fields, looking inside JSON:API `data.attributes` and `data` envelopes."""
    if not isinstance(body, dict):
        return {}
    data = body.get("data")
    if isinstance(data, dict):
        attributes = data.get("attributes")
        return {**data, **attributes} if isinstance(attributes, dict) else dict(data)
    return dict(body)


def _same(written: Any, read: Any) -> bool:
    if written == read:
        return True
    if isinstance(written, str) and isinstance(read, str):
        for parse in (dt.datetime.fromisoformat, dt.date.fromisoformat):
            try:
                return parse(written.replace("Z", "+00:00")) == parse(read.replace("Z", "+00:00"))
            except ValueError:
                continue
    if isinstance(written, (int, float)) and isinstance(read, (int, float)) and not isinstance(written, bool):
        return float(written) == float(read)
    return False


class Lifecycle:
    def __init__(self, session: Session, discovery: Discovery, resource: str, seed: int) -> None:
        self.session = session
        self.discovery = discovery
        self.contract = session.target.contract
        self.ops = lifecycle_operations(self.contract, resource)
        self.resource = resource
        self.seed = seed
        self.rec = Recorder(session.target, self.ops.get("create") or next(iter(self.contract)), "stateful",
                            f"lifecycle[{resource}]")

    def send(self, op: Operation, request: httpx.Request) -> Exchange:
        exchange = self.session.send(op, request)
        self.rec.observe(exchange, judge(self.contract, op, exchange.request), op)
        return exchange

    def get(self, op: Operation, values: dict[str, str]) -> Exchange:
        url = self.session.target.base_url + _fill(op, values)
        params = {}
        pagination = op.pagination
        if pagination is not None and pagination.style == "page" and pagination.max:
            params[pagination.per_page_param] = str(pagination.max)
        return self.send(op, httpx.Request("GET", url, params=params, headers={"User-Agent": USER_AGENT}))

    def fail(self, op: Operation, exchange: Exchange, check: str, category: Category, message: str, **kw: Any) -> None:
        ctx = CheckContext(self.contract, op, exchange, POSITIVE, self.session.target.redactor(),
                           reproduce=self.rec.reproduce)
        self.rec.add(ctx.finding(check, category, message, **kw))

    def read_back(self, read: Operation, values: dict[str, str], written: dict[str, Any], step: str) -> None:
        exchange = self.get(read, values)
        if exchange.status is None:
            return
        if not 200 <= exchange.status < 300:
            self.fail(read, exchange, "read_after_write", Category.STATUS_CODE,
                      f"{step}: the record just written answers {exchange.status} on {read.label}",
                      expected="2xx", actual=exchange.status)
            return
        body = exchange.json()
        read_fields = _fields(body)
        for key, value in written.items():
            if key not in read_fields or isinstance(value, (dict, list)) or _same(value, read_fields[key]):
                continue
            if not self._readable(read, exchange, body, key, value):
                continue  # the contract's read schema cannot hold this value: nothing to hold the API to
            self.fail(read, exchange, "read_after_write", Category.FIELD_TYPE,
                      f"{step}: field {key!r} was written as {value!r} but reads back {read_fields[key]!r}",
                      pointer=f"/{key}", expected=value, actual=read_fields[key])

    def _readable(self, read: Operation, exchange: Exchange, body: Any, key: str, value: Any) -> bool:
        """Whether the documented read answer could carry `value` in `key` at all."""
        response = read.response_for(exchange.status or 0)
        media = next(iter(response.content.values()), None) if response is not None else None
        if media is None or media.schema_pointer is None:
            return False
        probe = json.loads(json.dumps(body))
        container = probe
        data = probe.get("data") if isinstance(probe, dict) else None
        if isinstance(data, dict):
            container = data.get("attributes") if isinstance(data.get("attributes"), dict) and key in data["attributes"] else data
        container[key] = value
        return not any(
            list(error.absolute_path)[:1] == [key] or list(error.absolute_path)[:3] in (["data", key], ["data", "attributes", key])
            for error in self.contract.validate(media.schema_pointer, probe)
        )

    def _documented_without_id(self, create: Operation, exchange: Exchange, body: Any) -> bool:
        """Whether the contract allows this answer as it is, id-less (e.g. `{result, location}`, or a
        documented error-shaped 200): then a missing id is the contract's shape, not the API's fault."""
        response = create.response_for(exchange.status or 0)
        media = next(iter(response.content.values()), None) if response is not None else None
        if media is None or media.schema_pointer is None:
            return True  # nothing documented to hold an id
        return not self.contract.validate(media.schema_pointer, body)

    def _linked_actions(self, create: Operation, created: Exchange, request: httpx.Request,
                        item_values: dict[str, str]) -> None:
        """The state-changing actions the create answer links to on the new record (a POST of the same resource
        declared `x-apiconform-action: action`), each sent once with the link's path values and `requestBody`
        (e.g. unlock with the token the create locked the record with): documented successes a lifecycle of
        create/read/update/delete alone never reaches."""
        status = created.status or 0
        response = create.response_for(status)
        if response is None:
            return
        try:
            sent = json.loads(request.content) if request.content else None
        except ValueError:
            sent = None
        body = created.json()
        targets = {str(link.get("operationId")) for link in response.links.values()}
        for action in self.contract:
            if action.operation_id not in targets or action.resource != self.resource or action.action != "action" \
                    or action.is_safe or not self.session.target.safety.allows(action.label, action.method):
                continue
            values = {**item_values, **_link_values(self.contract, create, status, body, action)}
            if any(name not in values for name in action.path_params()):
                continue
            action_request = valid_request(self.session, action, self.seed + 2, self.discovery, path_values=values,
                                           exact=True)
            members = link_body(create, status, sent, body, action)
            if action_request is None or not members:
                continue
            try:
                current = json.loads(action_request.content) if action_request.content else {}
            except ValueError:
                continue
            if not isinstance(current, dict):
                continue
            headers = {k: v for k, v in action_request.headers.items() if k.lower() not in ("content-length", "content-type")}
            linked = httpx.Request(action_request.method, action_request.url, headers=headers, json={**current, **members})
            if judge(self.contract, action, linked) == POSITIVE:
                self.send(action, linked)

    def _sent_path_values(self, op: Operation, request: httpx.Request) -> dict[str, str]:
        """The path parameters a request was really sent with (a generated parent id included)."""
        base = httpx.URL(self.session.target.base_url).raw_path.decode("ascii").rstrip("/")
        raw = request.url.raw_path.decode("ascii").split("?", 1)[0]
        return op.match_path(raw[len(base):] if raw.startswith(base) else raw) or {}

    def run(self) -> Recorder:
        rec, ops = self.rec, self.ops
        create, read = ops.get("create"), ops.get("read")
        if create is None:
            rec.skipped = f"{self.resource} has no create operation"
            return rec
        if not self.session.target.safety.allows(create.label, create.method):
            rec.skipped = "lifecycle writes skipped: target is read-only (pass --allow-writes)"
            return rec
        try:
            self._run(create, read)
        except WriteRefused as exc:
            rec.refuse(exc)
        except (BudgetExhausted, Unsendable) as exc:
            rec.notes.append(str(exc))
        if not rec.requests and not rec.skipped:
            rec.skipped = "no lifecycle step could run"
        return rec

    def _run(self, create: Operation, read: Operation | None) -> None:
        rec, ops = self.rec, self.ops
        scope = self.discovery.path_values(create)
        request = valid_request(self.session, create, self.seed, self.discovery, path_values=scope)
        if request is None:
            rec.skipped = f"no valid request could be built for {create.label}"
            return
        created = self.send(create, request)
        body = created.json()
        if created.status is None or not 200 <= created.status < 300 or body is NOT_JSON:
            rec.notes.append(f"{create.label} answered {created.status}; the rest of the lifecycle was not exercised")
            return
        written = _fields(json.loads(request.content)) if request.content else {}
        written = {k: v for k, v in written.items() if not isinstance(v, (dict, list))}
        item_values = {**self._sent_path_values(create, request), **scope}  # parents the request was sent under
        if read is not None:
            item_values.update(_link_values(self.contract, create, created.status, body, read))
            if read.id_param and read.id_param not in item_values:
                created_id = record_id(body, read.id_field)
                if created_id is None:
                    if self._documented_without_id(create, created, body):
                        rec.notes.append(f"{create.label}'s documented answer carries no {read.id_field!r}; "
                                         "the created record cannot be addressed, so the lifecycle stops here")
                        return
                    self.fail(create, created, "created_id", Category.REQUIRED_FIELD,
                              f"{create.label} answer carries no {read.id_field!r} to address the new record")
                    return
                item_values[read.id_param] = str(created_id)
            self.read_back(read, item_values, written, "create")
            self._linked_actions(create, created, request, item_values)
        update = ops.get("update") or ops.get("replace")
        if update is not None and read is not None:
            upd_values = {**item_values, **_link_values(self.contract, create, created.status, body, update)}
            upd_request = valid_request(self.session, update, self.seed + 1, self.discovery, path_values=upd_values)
            if upd_request is not None:
                updated = self.send(update, upd_request)
                if updated.status is not None and 200 <= updated.status < 300:
                    upd_written = _fields(json.loads(upd_request.content)) if upd_request.content else {}
                    upd_written = {k: v for k, v in upd_written.items() if not isinstance(v, (dict, list))}
                    self.read_back(read, item_values, upd_written, "update")
        lister = ops.get("list")
        if lister is not None and read is not None and read.id_param in item_values:
            listed = self.get(lister, item_values)
            items = listed.json()
            envelope = lister.envelope_names
            if isinstance(items, dict):
                items = items.get(envelope.results, items.get("data"))
            if isinstance(items, list) and listed.status is not None and 200 <= listed.status < 300:
                ids = {str(record_id(i, read.id_field)) for i in items}
                more = bool(listed.response is not None and 'rel="next"' in listed.response.headers.get("link", ""))
                more = more or (isinstance(listed.json(), dict) and bool(listed.json().get(envelope.next)))
                if item_values[read.id_param] not in ids and not more:
                    self.fail(lister, listed, "listed_after_create", Category.STATUS_CODE,
                              f"the created record {item_values[read.id_param]} is missing from {lister.label}",
                              expected=item_values[read.id_param], actual=sorted(ids)[:10])
        delete = ops.get("delete")
        if delete is not None and read is not None:
            url = self.session.target.base_url + _fill(delete, item_values)
            deleted = self.send(delete, httpx.Request("DELETE", url, headers={"User-Agent": USER_AGENT}))
            if deleted.status is not None and 200 <= deleted.status < 300 and read.response_for(404) is not None:
                gone = self.get(read, item_values)
                if gone.status is not None and 200 <= gone.status < 300:
                    self.fail(read, gone, "gone_after_delete", Category.STATUS_CODE,
                              f"the deleted record still answers {gone.status} on {read.label}",
                              expected="404", actual=gone.status)
                elif gone.status in (401, 403):  # the contract says a deleted record answers 404
                    self.fail(read, gone, "gone_after_delete", Category.STATUS_CODE,
                              f"the deleted record answers {gone.status} on {read.label}, documented 404",
                              expected="404", actual=gone.status)


def run_lifecycle(session: Session, discovery: Discovery, resource: str, seed: int) -> Recorder:
    """One resource's lifecycle as a recorded test case."""
    return Lifecycle(session, discovery, resource, seed).run()
