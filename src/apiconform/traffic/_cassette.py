"""Record a live target's behaviour into a cassette, and replay it against the mock to measure fidelity.

`record`: a safe sequence that covers every operation of the contract (writes only when the target
allows them), sent through the normal `Session` (budget, rate, redaction), written as HAR 1.2 (one
entry per exchange; `_operation` names the operationId; secrets redacted).
`verify`: replays the recorded requests in order against the embedded mock (same state: one mock, one
session), mapping the ids and tokens the vendor handed out to the ones the mock handed out, and compares
status, content type, body shape, documented headers and (for reads after writes) state effects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from apiconform.auth import credential_fields
from apiconform.contracts import Contract, Operation, resolve
from apiconform.engine import NOT_JSON, AuthMode, BudgetExhausted, Exchange, Session, WriteRefused
from apiconform.errors import ApiconformError, UsageError
from apiconform.traffic._har import har_entry as _har_entry
from apiconform.traffic._har import read_cassette, write_cassette

PHASES = {"list": 2, "read": 2, "create": 3, "action": 4, "update": 5, "replace": 5, "delete": 6}


def _auth_config(contract: Contract) -> dict[str, Any]:
    from apiconform.auth import contract_auth_config

    return dict(contract_auth_config(contract))


def auth_operations(contract: Contract) -> frozenset[str]:
    """The login/refresh operations: POSTs that change nothing on the vendor, allowed on read-only targets."""
    config = _auth_config(contract)
    return frozenset(op.label for op in contract if op.path in (config.get("login"), config.get("refresh")))


def plan(contract: Contract, writes: bool) -> list[Operation]:
    """Every operation once, parents before children: logins, reads, creates, actions, updates, deletes."""
    config = _auth_config(contract)
    auth_paths = [config.get("login"), config.get("refresh")]

    def order(op: Operation) -> tuple[int, int, int]:
        if op.path in auth_paths:
            return (auth_paths.index(op.path), 0, 0)
        phase = PHASES.get(op.action or "action", 4)
        if op.action == "action" and op.is_safe:
            phase = 2
        return (phase, len(op.path_params()) if phase != 6 else -len(op.path_params()), 0)

    ops = [op for op in contract if writes or op.is_safe or op.path in auth_paths]
    return sorted(ops, key=order)


def _walk_ids(body: Any, found: dict[str, Any], prefix: str = "") -> None:
    """Scalar id-like fields (`id`, `*_id`) of a body, first value per field name (lists: first item)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, (dict, list)):
                _walk_ids(value, found, f"{prefix}{key}.")
            elif (key == "id" or key.endswith("_id")) and value is not None and not isinstance(value, bool):
                found.setdefault(f"{prefix}{key}", value)
                found.setdefault(key, value)
    elif isinstance(body, list) and body:
        _walk_ids(body[0], found, prefix)


class _Recorder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.contract = session.target.contract
        self.known: dict[str, Any] = {}  # field/param name -> a value the vendor handed out
        self.link_values: dict[tuple[str, str], str] = {}
        self.tokens: dict[str, str] = {}
        self.by_resource: dict[str, str] = {}  # resource -> an id of one of its items the vendor answered

    def path_values(self, op: Operation) -> dict[str, str] | None:
        values = {}
        resources = self.contract.path_param_resources(op)
        identity = self.known.get("__identity__")
        config = _auth_config(self.contract).get("identity") or {}
        for name in op.path_params():
            if (op.operation_id, name) in self.link_values:
                values[name] = self.link_values[(op.operation_id, name)]
            elif identity is not None and resources.get(name) == config.get("resource"):
                values[name] = str(identity)
            elif resources.get(name) in self.by_resource:
                values[name] = self.by_resource[resources[name]]
            elif name in self.known:
                values[name] = str(self.known[name])
            else:
                tail = name.split("__")[-1]
                guess = next((v for k, v in self.known.items() if k.split(".")[-1] == tail), None)
                if guess is None:
                    return None
                values[name] = str(guess)
        return values

    def body(self, op: Operation) -> Any:
        from apiconform.mock import Synthesizer

        config = _auth_config(self.contract)
        if op.path == config.get("login"):
            return {k: self.session.target.credentials.get(k, "") for k in credential_fields(self.contract)}
        if op.path == config.get("refresh"):
            from apiconform.auth.jwt_login import fill_template, refresh_templates

            return fill_template(refresh_templates(config)[0]["body"], self.tokens)
        media = next((m for m in op.request_body.values() if "json" in m.media_type), None)
        if media is None:
            return None
        docs = next(iter(media.examples.values()), None) if media.examples else None
        example = docs.get("value") if isinstance(docs, dict) else None
        body = json.loads(json.dumps(example)) if example is not None else (
            Synthesizer(self.contract).value(self.contract.at(media.schema_pointer)) if media.schema_pointer else {})
        if isinstance(body, dict):
            for key in list(body):
                if key in self.known and (key == "id" or key.endswith("_id")):
                    body[key] = self.known[key]
        return body

    def learn(self, op: Operation, request: httpx.Request, answer: Any, status: int) -> None:
        config = _auth_config(self.contract)
        if op.path == config.get("login") and isinstance(answer, dict):
            token = answer.get("token")
            self.tokens = {k: str(v) for k, v in token.items()} if isinstance(token, dict) else {}
            self.session.redactor.add(*self.tokens.values())
            source = str((config.get("identity") or {}).get("from", ""))
            if source.startswith("$response.body#"):
                self.known["__identity__"] = resolve(answer, source.split("#", 1)[1])
        if status >= 300:
            return
        _walk_ids(answer, self.known)
        from apiconform.contracts import record_id

        item = _first_item(answer)
        if op.resource and isinstance(item, dict) and op.resource not in self.by_resource:
            value = record_id(item, resource_id_field(self.contract, op.resource))
            if value is not None:
                self.by_resource[op.resource] = str(value)
        response = op.response_for(status)
        path = {n: v for n, v in zip(op.path_params(), _path_values_of(op, request.url.path))}
        for link in (response.links.values() if response else ()):
            for name, expr in (link.get("parameters") or {}).items():
                value = None
                if isinstance(expr, str) and expr.startswith("$response.body#"):
                    value = resolve(answer, expr.split("#", 1)[1])
                elif isinstance(expr, str) and expr.startswith("$request.path."):
                    value = path.get(expr[len("$request.path."):])
                if value is not None:
                    self.link_values.setdefault((str(link.get("operationId")), name.split(".")[-1]), str(value))


def _auth_of(op: Operation) -> AuthMode:
    """Operations open to anyone (logins, refresh) go out as recorded, without the auth flow."""
    return "none" if not op.security or any(not r for r in op.security) else "valid"


def _path_values_of(op: Operation, raw_path: str) -> list[str]:
    values = op.match_path(raw_path) or {}
    return [values.get(n, "") for n in op.path_params()]


DEFAULT_PROBES = ("anonymous", "other-identity")


def record(session: Session, probes: tuple[str, ...] = DEFAULT_PROBES) -> list[dict[str, Any]]:
    """Run the safe sequence against the session's target; HAR entries, redacted. `probes`: each safe
    secured operation is also sent without credentials (`anonymous`), under another caller's identity
    (`other-identity`) and/or with forged credentials (`wrong-credentials`, opt-in)."""
    from apiconform.engine._stateful import _fill

    target = session.target
    recorder = _Recorder(session)
    entries: list[dict[str, Any]] = []
    for op in plan(target.contract, writes=not target.safety.read_only):
        values = recorder.path_values(op)
        if values is None:
            continue  # nothing known to address it with (e.g. an empty parent list)
        body = recorder.body(op)
        request = session.client().build_request(op.method.upper(), _fill(op, values),
                                                 json=body if body is not None else None)
        try:
            exchange = session.send(op, request, auth=_auth_of(op))
        except WriteRefused:
            continue
        except BudgetExhausted:
            break
        answer = exchange.json()
        recorder.learn(op, exchange.request, None if answer is NOT_JSON else answer, exchange.status or 0)
        entries.append(har_entry(exchange, session))
        if probes and op.is_safe and _auth_of(op) == "valid":
            entries += _probe(session, op, values, recorder, probes)
    return entries


PROBE_AUTH: dict[str, AuthMode] = {"anonymous": "none", "wrong-credentials": "wrong"}  # other-identity: valid


def _probe(session: Session, op: Operation, values: dict[str, str], recorder: _Recorder,
           kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """How the target answers the same safe request without credentials, with forged ones, and under
    another caller's identity (only where the contract declares an identity scope). Safe methods only."""
    from apiconform.engine._stateful import _fill

    out = []
    plans: list[tuple[str, AuthMode, dict[str, str]]] = [("anonymous", "none", values), ("wrong-credentials", "wrong", values)]
    identity = recorder.known.get("__identity__")
    config = _auth_config(session.target.contract).get("identity") or {}
    resources = session.target.contract.path_param_resources(op)
    names = [n for n in op.path_params() if resources.get(n) == config.get("resource")]
    if identity is not None and config.get("scope") and names:
        other = str(int(identity) + 1) if str(identity).isdigit() else f"{identity}0"
        plans.append(("other-identity", "valid", {**values, **{n: other for n in names}}))
    for kind, auth, path_values in [p for p in plans if p[0] in kinds]:
        request = session.client(auth).build_request(op.method.upper(), _fill(op, path_values))
        try:
            exchange = session.send(op, request, auth=auth)
        except (BudgetExhausted, WriteRefused):
            break
        entry = har_entry(exchange, session)
        entry["_probe"] = kind
        out.append(entry)
    return out


def har_entry(exchange: Exchange, session: Session) -> dict[str, Any]:
    """A sent exchange as a redacted HAR entry, named by its operation."""
    return _har_entry(exchange.request, exchange.response, exchange.body, session.redactor, exchange.elapsed,
                      exchange.operation.operation_id, exchange.error or "")


# ---------------------------------------------------------------- replay and compare


def shape(value: Any) -> Any:
    """Body shape, not values: keys and scalar types (lists by their first item; null is its own type)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return {bool: "boolean", int: "number", float: "number", str: "string", type(None): "null"}.get(type(value), "other")


def _free_form(schema: Any) -> bool:
    """An object the contract leaves open (no `properties`): its keys are data, not shape."""
    if not isinstance(schema, dict) or any(k in schema for k in ("oneOf", "anyOf", "allOf", "$ref")):
        return False
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    return "object" in kinds and not schema.get("properties") and not isinstance(schema.get("additionalProperties"), dict)


def _child(contract: Contract | None, schema: Any, key: str | int) -> Any:
    if contract is None or not isinstance(schema, dict):
        return None
    if isinstance(key, int):
        return contract.resolve(schema.get("items")) if isinstance(schema.get("items"), dict) else None
    props = schema.get("properties") or {}
    if key in props:
        return contract.resolve(props[key])
    extra = schema.get("additionalProperties")
    return contract.resolve(extra) if isinstance(extra, dict) else None


def _shape_diff(recorded: Any, replayed: Any, path: str = "", contract: Contract | None = None, schema: Any = None) -> list[str]:
    if _free_form(schema):
        same = isinstance(recorded, dict) == isinstance(replayed, dict) or "null" in (recorded, replayed)
        return [] if same else [f"{path or '/'}: object vs not"]
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        out = [f"{path}/{k} missing in mock" for k in recorded if k not in replayed]
        out += [f"{path}/{k} only in mock" for k in replayed if k not in recorded]
        for k in recorded:
            if k in replayed:
                out += _shape_diff(recorded[k], replayed[k], f"{path}/{k}", contract, _child(contract, schema, k))
        return out
    if isinstance(recorded, list) and isinstance(replayed, list):
        if not (recorded and replayed):
            return []
        return _shape_diff(recorded[0], replayed[0], f"{path}/0", contract, _child(contract, schema, 0))
    if recorded != replayed and "null" not in (recorded, replayed):
        return [f"{path or '/'}: {recorded} vs {replayed}"]
    return []


@dataclass
class Difference:
    index: int
    operation: str
    aspect: str  # status | content-type | body-shape | headers | state
    detail: str


@dataclass
class Fidelity:
    vendor: str
    exchanges: int = 0
    agreeing: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return self.agreeing / self.exchanges if self.exchanges else 0.0

    def lines(self) -> list[str]:
        out = [f"{d.index:>3} {d.operation}: {d.aspect}: {d.detail}" for d in self.differences]
        out.append(f"fidelity {self.vendor}: {self.agreeing}/{self.exchanges} exchanges agree "
                   f"({self.agreement:.1%})")
        return out


def _first_item(body: Any) -> Any:
    """The record an answer is about: itself, or the first of a list / paginated envelope."""
    if isinstance(body, list):
        return body[0] if body else None
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list) and value and isinstance(value[0], dict) and "count" in body:
                return value[0]
    return body


def resource_id_field(contract: Contract, resource: str | None) -> str:
    """The field a resource's items are addressed by (its read operation's id field)."""
    return next((op.id_field for op in contract if op.resource == resource and op.action == "read"), "id")


def _map_ids(resource: str | None, recorded: Any, replayed: Any, mapping: dict[tuple[str, str], str],
             id_field: str = "id") -> None:
    """Ids the vendor handed out -> the ones the mock handed out at the same place, per resource (small
    integers repeat across resources). Nested ids (`request.id`) count for their own field name too;
    long values (uuids) also go into the resource-less entry used for bodies and unknown parameters."""
    from apiconform.contracts import record_id

    mine, theirs = _first_item(replayed), _first_item(recorded)
    if id_field and isinstance(mine, dict) and isinstance(theirs, dict):
        a, b = record_id(theirs, id_field), record_id(mine, id_field)
        if a is not None and b is not None:
            mapping[(resource or "", str(a))] = str(b)
    rec: dict[str, Any] = {}
    rep: dict[str, Any] = {}
    _walk_ids(recorded, rec)
    _walk_ids(replayed, rep)
    for key, value in rec.items():
        if key not in rep:
            continue
        scope = resource or "" if "." not in key else key.rsplit(".", 1)[0]
        for slot in ((resource or "", str(value)), (scope, str(value))):
            mapping.setdefault(slot, str(rep[key]))
        if len(str(value)) >= 8:
            mapping.setdefault(("", str(value)), str(rep[key]))


def _swap(value: Any, mapping: dict[tuple[str, str], str]) -> Any:
    if isinstance(value, dict):
        return {k: _swap(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, mapping) for v in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool) and ("", str(value)) in mapping:
        new = mapping[("", str(value))]
        return int(new) if isinstance(value, int) and new.lstrip("-").isdigit() else new
    return value


def _replay_path(contract: Contract, op: Operation, recorded_url: str, mapping: dict[tuple[str, str], str]) -> str:
    """The recorded path with each path parameter's id swapped for the mock's id of the same resource."""
    from apiconform.engine._stateful import _fill

    raw = httpx.URL(recorded_url).raw_path.decode().split("?", 1)[0]
    values = op.match_path(raw)
    if values is None:
        return raw
    resources = contract.path_param_resources(op)
    for name, value in values.items():
        resource = resources.get(name, "")
        values[name] = mapping.get((resource, value)) or mapping.get(("", value)) or value
    return _fill(op, values)


def _response_schema(contract: Contract, op: Operation, status: int) -> Any:
    response = op.response_for(status)
    media = next(iter(response.content.values()), None) if response is not None and response.content else None
    return contract.at(contract.deref_pointer(media.schema_pointer)) if media is not None and media.schema_pointer else None


def _documented_headers(op: Operation, status: int) -> set[str]:
    response = op.response_for(status)
    return {h.lower() for h in (response.headers if response is not None else {})}


def verify(session: Session, entries: list[dict[str, Any]]) -> Fidelity:
    """Replay the cassette against the session's (mock) target, in order, and compare."""
    contract = session.target.contract
    config = _auth_config(contract)
    result = Fidelity(session.target.vendor)
    mapping: dict[tuple[str, str], str] = {}
    tokens: dict[str, str] = {}
    written: set[str] = set()
    for index, entry in enumerate(entries, 1):
        try:
            op = contract.operation(str(entry.get("_operation")))
        except (KeyError, ValueError, ApiconformError):
            raise UsageError(f"cassette entry {index}: unknown operation {entry.get('_operation')!r}") from None
        recorded_req, recorded_resp = entry["request"], entry["response"]
        path = _replay_path(contract, op, recorded_req["url"], mapping)
        body: Any = None
        if recorded_req.get("postData", {}).get("text"):
            try:
                body = _swap(json.loads(recorded_req["postData"]["text"]), mapping)
            except ValueError:
                body = None
        if op.path == config.get("login"):
            body = {k: session.target.credentials.get(k, "") for k in credential_fields(contract)}
        elif op.path == config.get("refresh"):
            from apiconform.auth.jwt_login import fill_template, refresh_templates

            body = fill_template(refresh_templates(config)[0]["body"], tokens)
        query = [(q["name"], mapping.get(("", q["value"]), q["value"])) for q in recorded_req.get("queryString", [])]
        probe = entry.get("_probe")
        auth = PROBE_AUTH.get(str(probe), _auth_of(op))
        request = session.client(auth).build_request(recorded_req["method"], path, params=query or None,
                                                     json=body if body is not None else None)
        exchange = session.send(op, request, auth=auth)
        replayed = exchange.json()
        try:
            recorded_body = json.loads(recorded_resp["content"].get("text") or "null")
        except ValueError:
            recorded_body = None
        if op.path == config.get("login") and isinstance(replayed, dict) and isinstance(replayed.get("token"), dict):
            tokens = {k: str(v) for k, v in replayed["token"].items()}
            identity = config.get("identity") or {}
            source = str(identity.get("from", ""))
            if source.startswith("$response.body#") and identity.get("resource"):
                ptr = source.split("#", 1)[1]
                mine, theirs = resolve(replayed, ptr), resolve(recorded_body, ptr)
                if mine is not None and theirs is not None:
                    mapping[(str(identity["resource"]), str(theirs))] = str(mine)
        result.exchanges += 1
        diffs: list[Difference] = []
        status = exchange.status or 0
        if status != recorded_resp["status"]:
            aspect = f"status ({probe})" if probe else "state" if op.is_safe and op.resource in written else "status"
            diffs.append(Difference(index, op.operation_id, aspect,
                                    f"vendor {recorded_resp['status']}, mock {status}"))
        else:
            if (exchange.media_type or "") != (recorded_resp["content"].get("mimeType") or ""):
                diffs.append(Difference(index, op.operation_id, "content-type",
                                        f"vendor {recorded_resp['content'].get('mimeType')!r}, mock {exchange.media_type!r}"))
            if exchange.body or recorded_resp["content"].get("text"):
                shape_diffs = _shape_diff(shape(recorded_body), shape(None if replayed is NOT_JSON else replayed),
                                          "", contract, _response_schema(contract, op, status))
                if shape_diffs:
                    diffs.append(Difference(index, op.operation_id, "body-shape", "; ".join(shape_diffs[:4])))
            documented = _documented_headers(op, status)
            vendor_headers = {h["name"].lower() for h in recorded_resp.get("headers", [])} & documented
            mock_headers = {k.lower() for k in (exchange.response.headers if exchange.response is not None else {})} & documented
            if vendor_headers != mock_headers:
                diffs.append(Difference(index, op.operation_id, "headers", f"vendor {sorted(vendor_headers)}, mock {sorted(mock_headers)}"))
        if not op.is_safe and status < 300:
            written.add(str(op.resource))
        if status < 300 and recorded_resp["status"] < 300 and not probe:
            # an action's answer may be about other records (TeSLA's available_samples lists samples)
            own = op.action in ("list", "read", "create", "update", "replace")
            _map_ids(op.resource if own else None, recorded_body, replayed, mapping,
                     resource_id_field(contract, op.resource) if own else "")
        result.differences += diffs
        result.agreeing += not diffs
    return result


__all__ = ["Difference", "Fidelity", "plan", "read_cassette", "record", "shape", "verify", "write_cassette"]
