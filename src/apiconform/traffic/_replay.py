"""Fidelity on any recording: replay a client's recorded session against the mock the way the client ran it.

Any HAR file works (the proxy's, the fixture's, `apiconform record`'s, a browser's): each entry is matched to
its operation (`_operation`, else method + path). Entries are replayed in order against one mock (state carries
over), with the client's own request bodies, query strings and headers, and with the values the client carried
from one answer into a later request carried the same way: the **chain** is inferred from the recording alone
- a value a request sent (path parameter, query value, body member, a followed link) that an earlier recorded
answer contained is taken, on replay, from the mock's answer at the same place. Logins go with the mock's
credentials; every other request with the auth the client used (credentials or none).

Each exchange is compared on status, content type, body shape (keys, JSON types, null versus a value, the
observed structure of objects the contract leaves open, list items pairwise), documented headers and token
lifetimes. Flows are the recording's pages (`pageref` / `_flow`), else each login starts one, else the whole
file; a flow **ends the same** only if every answer agrees on status, content type and body shape. For each
difference the recording says which side to change: the contract (the vendor's answer is not what it
documents) or the mock (the vendor conforms; the mock must learn it: `apiconform learn`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from apiconform.auth import credential_fields, owned_parameters
from apiconform.contracts import Contract, Operation, resolve, walk
from apiconform.engine import NOT_JSON, Session
from apiconform.traffic._cassette import PROBE_AUTH, _auth_config, _documented_headers, _response_schema
from apiconform.traffic._har import token_lifetimes
from apiconform.traffic._judge import find_operation

_SKIP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "cookie",
                 "authorization", "user-agent"}
_REDACTED = "[REDACTED]"


# ---------------------------------------------------------------- shapes


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", type(None): "null"}.get(type(value), "other")


def shape_differences(vendor: Any, mock: Any, path: str = "") -> list[str]:
    """Where two answers differ in shape: keys, JSON types, null versus a value, list items pairwise (values
    and list lengths are data, not shape). Objects the contract leaves open are compared as observed."""
    out: list[str] = []
    if isinstance(vendor, dict) and isinstance(mock, dict):
        out += [f"{path}/{k} missing in mock" for k in vendor if k not in mock]
        out += [f"{path}/{k} only in mock" for k in mock if k not in vendor]
        for key in vendor:
            if key in mock:
                out += shape_differences(vendor[key], mock[key], f"{path}/{key}")
        return out
    if isinstance(vendor, list) and isinstance(mock, list):
        for i, (a, b) in enumerate(zip(vendor, mock)):
            out += shape_differences(a, b, f"{path}/{i}")
        return out
    a, b = _kind(vendor) if not isinstance(vendor, (dict, list)) else type(vendor).__name__, \
        _kind(mock) if not isinstance(mock, (dict, list)) else type(mock).__name__
    if a != b:
        out.append(f"{path or '/'}: vendor {a}, mock {b}")
    return out


# ---------------------------------------------------------------- chains


def _param_key(name: str) -> str:
    """The member name a path/query parameter is read from: `parent_lookup_provider_id` -> `provider_id`,
    `learner__learner_id` -> `learner_id`."""
    return name.removeprefix("parent_lookup_").split("__")[-1]


def _aliases(resource: str | None) -> frozenset[str]:
    """Members that name an item of `resource` elsewhere: `provider_id`/`provider` for `providers`."""
    if not resource:
        return frozenset()
    singular = resource[:-1] if resource.endswith("s") else resource
    return frozenset({f"{singular}_id", singular, f"{resource}_id"})


def _leaves(body: Any) -> list[tuple[str, str, str]]:
    """(pointer, member name, value as text) of every scalar id-like leaf of an answer (no booleans, no nulls)."""
    found = []
    for ptr, value in walk(body):
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list, float)):
            continue
        text = str(value)
        if not text or text == _REDACTED or len(text) > 2048:
            continue
        key = ptr.rsplit("/", 1)[-1]
        found.append((ptr, key, text))
    return found


@dataclass
class _Answer:
    recorded: Any
    replayed: Any
    leaves: list[tuple[str, str, str]]


class Chain:
    """Values the client carried from earlier answers into later requests, inferred from the recording."""

    def __init__(self) -> None:
        self.answers: list[_Answer] = []
        self.carried = 0  # values taken from the mock's answers instead of the recording

    def remember(self, recorded: Any, replayed: Any) -> None:
        self.answers.append(_Answer(recorded, replayed, _leaves(recorded)))

    def source(self, value: str, name: str, aliases: frozenset[str] = frozenset()) -> tuple[_Answer, str] | None:
        """The earliest answer that held `value` (where the client first met it: a later list may hold it among
        data the mock orders differently), and where: a member of the same name (or an alias: the
        addressed resource's `<singular>_id`) first, then an `id`; a short number only with a matching name (a
        count of 3 is not the record 3)."""
        key = _param_key(name) if name else ""
        best: tuple[int, int, _Answer, str] | None = None
        for age, answer in enumerate(reversed(self.answers)):
            for ptr, member, text in answer.leaves:
                if text != value:
                    continue
                score = 3 if (key and member == key) or member in aliases else \
                    2 if member == "id" or (key and key.endswith(member)) else 1
                if score == 1 and (len(value) < 6 or value.isdigit() and len(value) < 9):
                    continue
                if best is None or (score, age) > (best[0], best[1]):  # the answer that first showed it
                    best = (score, age, answer, ptr)
        return (best[2], best[3]) if best else None

    def carry(self, value: Any, name: str = "", aliases: frozenset[str] = frozenset()) -> Any:
        """`value` as the client would have sent it on the mock: read from the mock's answer where the
        client read it from the vendor's, else unchanged."""
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list, float)):
            return value
        found = self.source(str(value), name, aliases)
        if found is None:
            return value
        answer, ptr = found
        mine = resolve(answer.replayed, ptr) if isinstance(answer.replayed, (dict, list)) else None
        if mine is None or isinstance(mine, (dict, list)):
            return value
        self.carried += str(mine) != str(value)
        if isinstance(value, int) and not isinstance(mine, int) and str(mine).lstrip("-").isdigit():
            return int(mine)
        if isinstance(value, str) and not isinstance(mine, str):
            return str(mine)
        return mine

    def carry_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            return {k: self.carry_body(v) if isinstance(v, (dict, list)) else self.carry(v, str(k)) for k, v in body.items()}
        if isinstance(body, list):
            return [self.carry_body(v) for v in body]
        return self.carry(body)

    def link(self, url: str) -> str | None:
        """A followed link: the recorded URL (or its path and query) is a string an earlier answer held;
        the mock's string at the same place, as a path and query (`next` pages, `Location`)."""
        parsed = httpx.URL(url)
        tail = parsed.raw_path.decode("latin-1")
        for answer in reversed(self.answers):
            for ptr, _member, text in answer.leaves:
                if text in (url, tail) or (text.startswith("http") and httpx.URL(text).raw_path.decode("latin-1") == tail
                                           and "?" in tail):
                    mine = resolve(answer.replayed, ptr) if isinstance(answer.replayed, (dict, list)) else None
                    if isinstance(mine, str) and mine:
                        return httpx.URL(mine).raw_path.decode("latin-1") if mine.startswith("http") else mine
        return None


# ---------------------------------------------------------------- results


DECISIVE = ("status", "content-type", "body-shape")  # what a client reads; headers and lifetimes are reported


@dataclass
class ExchangeResult:
    index: int
    flow: str
    operation: str
    request: str  # METHOD path as recorded (redacted)
    vendor_status: int
    mock_status: int
    aspects: list[tuple[str, str, str]] = field(default_factory=list)  # (aspect, detail, change: contract|mock)

    @property
    def status_agrees(self) -> bool:
        return self.vendor_status == self.mock_status

    @property
    def agrees(self) -> bool:
        return not self.aspects

    @property
    def decisive_agrees(self) -> bool:
        """Agrees on what a client reads to decide where it goes: status, content type, body shape."""
        return not any(a[0] in DECISIVE for a in self.aspects)


@dataclass
class FlowResult:
    name: str
    exchanges: list[ExchangeResult] = field(default_factory=list)

    @property
    def ends_the_same(self) -> bool:
        """Every answer the client read agrees on status, content type and body shape (a different status, a
        missing member or a null where a value was takes the client elsewhere); headers and token lifetimes
        are reported but do not decide where it ends."""
        return bool(self.exchanges) and all(e.decisive_agrees for e in self.exchanges)

    def first_difference(self) -> ExchangeResult | None:
        return next((e for e in self.exchanges if not e.agrees), None)


@dataclass
class Replay:
    vendor: str
    flows: list[FlowResult] = field(default_factory=list)
    carried: int = 0
    unmatched: list[str] = field(default_factory=list)

    @property
    def results(self) -> list[ExchangeResult]:
        return [e for flow in self.flows for e in flow.exchanges]

    @property
    def exchanges(self) -> int:
        return len(self.results)

    @property
    def agreeing(self) -> int:
        return sum(e.agrees for e in self.results)

    @property
    def agreement(self) -> float:
        return self.agreeing / self.exchanges if self.exchanges else 0.0

    @property
    def decisive_agreement(self) -> float:
        """The share of exchanges agreeing on status, content type and shape (what a client reads)."""
        return sum(e.decisive_agrees for e in self.results) / self.exchanges if self.exchanges else 0.0

    @property
    def status_agreement(self) -> float:
        return sum(e.status_agrees for e in self.results) / self.exchanges if self.exchanges else 0.0

    @property
    def flows_agreeing(self) -> int:
        return sum(f.ends_the_same for f in self.flows)

    def summary(self) -> str:
        return (f"fidelity {self.vendor}: {self.agreeing}/{self.exchanges} exchanges agree ({self.agreement:.1%}; "
                f"status and shape {self.decisive_agreement:.1%}; status {self.status_agreement:.1%}), "
                f"{self.flows_agreeing}/{len(self.flows)} flows end the same")

    def lines(self) -> list[str]:
        out: list[str] = []
        for flow in self.flows:
            first = flow.first_difference()
            verdict = "ends the same" if flow.ends_the_same else (
                f"ends differently (first difference at #{first.index})" if first else "ends differently")
            out.append(f"flow {flow.name}: {sum(e.agrees for e in flow.exchanges)}/{len(flow.exchanges)} exchanges "
                       f"agree, {verdict}")
            for e in flow.exchanges:
                mark = "ok " if e.agrees else "DIFF"
                out.append(f"  {mark} #{e.index:<3} {e.operation} {e.request}: vendor {e.vendor_status}, mock {e.mock_status}")
                for aspect, detail, change in e.aspects:
                    out.append(f"         {aspect}: {detail}  -> change the {change}")
        for line in self.unmatched:
            out.append(f"  not in the contract (not replayed): {line}")
        advice = self.advice()
        if advice:
            out.append("what to change: " + "; ".join(advice))
        out.append(self.summary())
        return out

    def advice(self) -> list[str]:
        counts: dict[str, int] = {}
        for e in self.results:
            for _aspect, _detail, change in e.aspects:
                counts[change] = counts.get(change, 0) + 1
        text = {"contract": "the contract (the vendor answers what it does not document; or list it in deviations)",
                "mock": "the mock (the vendor conforms; `apiconform learn` the recording, or declare it in the contract)"}
        return [f"{n} difference(s): {text[k]}" for k, n in sorted(counts.items())]


# ---------------------------------------------------------------- replay


def _flow_name(entry: dict[str, Any]) -> str | None:
    name = entry.get("_flow") or entry.get("pageref")
    return str(name) if name else None


def _recorded_json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return NOT_JSON


def _media(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


class Replayer:
    """Replays recorded entries against the session's (mock) target; one instance per recording."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.contract: Contract = session.target.contract
        self.config = _auth_config(self.contract)
        self.chain = Chain()
        self.tokens: dict[str, str] = {}
        self.sent: list[Any] = []  # per recorded entry: the body the replay sent, and the answer it got
        self.got: list[Any] = []
        owned = owned_parameters(self.contract)
        self.auth_headers, self.auth_query = owned.headers, owned.query

    def operation(self, entry: dict[str, Any]) -> Operation | None:
        name = entry.get("_operation")
        if name:
            try:
                return self.contract.operation(str(name))
            except Exception:  # noqa: BLE001 - a recording for another contract version: match by path
                pass
        url = httpx.URL(str(entry["request"]["url"]))
        return find_operation(self.contract, str(entry["request"]["method"]), url.raw_path.decode("latin-1"))

    def request(self, op: Operation, entry: dict[str, Any]) -> httpx.Request:
        recorded = entry["request"]
        url = httpx.URL(str(recorded["url"]))
        followed = self.chain.link(str(recorded["url"])) if url.query else None
        if followed is not None:
            target = followed
            params: list[tuple[str, Any]] | None = None
        else:
            raw = url.raw_path.decode("latin-1").split("?", 1)[0]
            values = _match_tail(op, raw)
            from apiconform.engine._stateful import _fill

            resources = self.contract.path_param_resources(op)
            target = _fill(op, {k: str(self.chain.carry(v, k, _aliases(resources.get(k)))) for k, v in values.items()}
                           ) if values is not None else raw
            params = [(str(q["name"]), str(self.chain.carry(q["value"], str(q["name"])))) for q in
                      recorded.get("queryString", []) if str(q["name"]) not in self.auth_query and q["value"] != _REDACTED]
        headers = {str(h["name"]): str(h["value"]) for h in recorded.get("headers", [])
                   if str(h["name"]).lower() not in _SKIP_HEADERS | set(self.auth_headers) and _REDACTED not in str(h["value"])}
        text = (recorded.get("postData") or {}).get("text") or ""
        kwargs: dict[str, Any] = {}
        if op.path == self.config.get("login"):
            kwargs["json"] = {k: self.session.target.credentials.get(k, "") for k in credential_fields(self.contract)}
        elif op.path == self.config.get("refresh") and self.tokens:
            from apiconform.auth.jwt_login import fill_template, refresh_templates

            kwargs["json"] = fill_template(refresh_templates(self.config)[0]["body"], self.tokens)
        elif text:
            body = _recorded_json(text)
            if body is NOT_JSON:
                kwargs["content"] = text.encode()
            else:
                kwargs["json"] = self.carried(self.chain.carry_body(body), entry.get("_carried") or {})
                headers.pop("content-type", None)
                headers.pop("Content-Type", None)
        return self.session.client(self.auth(op, entry)).build_request(
            str(recorded["method"]), target, params=params or None, headers=headers, **kwargs)

    def carried(self, body: Any, places: dict[str, Any]) -> Any:
        """Masked members the recording says the client carried from a place it shows in clear (`_carried`):
        the value the replay sent or got at that place."""
        for ptr, place in places.items():
            try:
                sides = self.sent if place.get("side") == "request" else self.got
                value = resolve(sides[int(place["entry"])], str(place["pointer"]))
            except (KeyError, IndexError, TypeError, ValueError):
                continue
            if value is not None:
                body = _set(body, ptr, value)
        return body

    def auth(self, op: Operation, entry: dict[str, Any]) -> Any:
        probe = entry.get("_probe")
        if probe:
            return PROBE_AUTH.get(str(probe), "valid")
        if op.path in (self.config.get("login"), self.config.get("refresh")):
            return "none"
        recorded = entry["request"]
        carried = any(str(h["name"]).lower() in self.auth_headers for h in recorded.get("headers", [])) or any(
            str(q["name"]) in self.auth_query for q in recorded.get("queryString", []))
        if not (self.auth_headers or self.auth_query):
            return "valid"  # nothing on the wire to tell: the flow's own credentials
        return "valid" if carried else "none"

    def compare(self, op: Operation, entry: dict[str, Any], exchange: Any, index: int, flow: str) -> ExchangeResult:
        recorded = entry["response"]
        vendor_status = int(recorded.get("status") or 0)
        status = exchange.status or 0
        url = httpx.URL(str(entry["request"]["url"]))
        result = ExchangeResult(index, flow, op.operation_id, f"{entry['request']['method']} {url.raw_path.decode('latin-1')}",
                                vendor_status, status)
        vendor_body = _recorded_json((recorded.get("content") or {}).get("text"))
        mock_body = exchange.json()
        change = self.side(op, vendor_status, vendor_body)
        if status != vendor_status:
            result.aspects.append(("status", f"vendor {vendor_status}, mock {status}", change))
            return result
        vendor_media, mock_media = _media((recorded.get("content") or {}).get("mimeType")), _media(exchange.media_type)
        if (recorded.get("content") or {}).get("text") or exchange.body:
            if vendor_media != mock_media:
                result.aspects.append(("content-type", f"vendor {vendor_media!r}, mock {mock_media!r}", change))
            if vendor_body is not NOT_JSON and mock_body is not NOT_JSON:
                diffs = shape_differences(_unredacted(vendor_body, mock_body), mock_body)
                if diffs:
                    more = f" (+{len(diffs) - 4} more)" if len(diffs) > 4 else ""
                    result.aspects.append(("body-shape", "; ".join(diffs[:4]) + more, change))
        documented = _documented_headers(op, status)
        theirs = {str(h["name"]).lower() for h in recorded.get("headers", [])} & documented
        mine = {k.lower() for k in (exchange.response.headers if exchange.response is not None else {})} & documented
        if theirs != mine:
            result.aspects.append(("headers", f"vendor {sorted(theirs)}, mock {sorted(mine)}", change))
        lifetimes = entry.get("_lifetimes") or {}
        if lifetimes and mock_body is not NOT_JSON:
            ours = token_lifetimes(mock_body)
            for ptr, seconds in lifetimes.items():
                if ptr in ours and abs(ours[ptr] - int(seconds)) > max(5, int(seconds) // 10):
                    result.aspects.append(("token-lifetime", f"{ptr}: vendor {seconds} s, mock {ours[ptr]} s", "mock"))
        return result

    def side(self, op: Operation, status: int, body: Any) -> str:
        """Which side a difference asks to change: the contract where the vendor's answer is not what the
        contract documents (status or schema), else the mock."""
        if op.response_for(status) is None:
            return "contract"
        schema = _response_schema(self.contract, op, status)
        if schema is not None and body is not NOT_JSON and body is not None and not _has_redacted(body):
            response = op.response_for(status)
            media = next(iter(response.content.values()), None) if response is not None and response.content else None
            if media is not None and media.schema_pointer and self.contract.validate(
                    self.contract.deref_pointer(media.schema_pointer), body):
                return "contract"
        return "mock"

    def learn_tokens(self, op: Operation, replayed: Any) -> None:
        if op.path == self.config.get("login") and isinstance(replayed, dict) and isinstance(replayed.get("token"), dict):
            self.tokens = {k: str(v) for k, v in replayed["token"].items()}


def _has_redacted(body: Any) -> bool:
    return any(v == _REDACTED for _p, v in walk(body))


def _unredacted(vendor: Any, mock: Any) -> Any:
    """The vendor's answer with its redacted values standing for the mock's at the same place (a masked
    token is a string whatever it was)."""
    if isinstance(vendor, dict) and isinstance(mock, dict):
        return {k: _unredacted(v, mock.get(k)) for k, v in vendor.items()}
    if isinstance(vendor, list) and isinstance(mock, list):
        return [_unredacted(v, mock[i] if i < len(mock) else None) for i, v in enumerate(vendor)]
    return mock if vendor == _REDACTED and isinstance(mock, str) else vendor


def _set(body: Any, ptr: str, value: Any) -> Any:
    from apiconform.contracts import split

    tokens = split(ptr)
    if not tokens:
        return value
    node = body
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last = tokens[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    return body


def _match_tail(op: Operation, raw: str) -> dict[str, str] | None:
    for i in range(len(raw)):
        if raw[i] == "/":
            values = op.match_path(raw[i:])
            if values is None and raw.endswith("/") and len(raw) > 1:
                values = op.match_path(raw[i:].rstrip("/"))
            if values is not None:
                return values
    return None


def replay(session: Session, entries: list[dict[str, Any]]) -> Replay:
    """Replay one recording in order against the session's target (a mock) and compare, flow by flow."""
    replayer = Replayer(session)
    result = Replay(session.target.vendor)
    login = replayer.config.get("login")
    flow: FlowResult | None = None
    for index, entry in enumerate(entries, 1):
        op = replayer.operation(entry)
        replayer.sent.append(None)
        replayer.got.append(None)
        if op is None:
            url = httpx.URL(str(entry["request"]["url"]))
            result.unmatched.append(f"#{index} {entry['request']['method']} {url.raw_path.decode('latin-1')}")
            continue
        named = _flow_name(entry)
        starts = (named is not None and (flow is None or named != flow.name)) or (
            named is None and (flow is None or (op.path == login and flow.exchanges)))
        if starts:
            flow = FlowResult(named or str(len(result.flows) + 1))
            result.flows.append(flow)
        assert flow is not None
        request = replayer.request(op, entry)
        exchange = session.send(op, request, auth=replayer.auth(op, entry))
        replayed = exchange.json()
        replayer.sent[-1] = _recorded_json(request.content.decode("utf-8", "replace")) if request.content else None
        replayer.got[-1] = None if replayed is NOT_JSON else replayed
        replayer.learn_tokens(op, replayed)
        flow.exchanges.append(replayer.compare(op, entry, exchange, index, flow.name))
        recorded = _recorded_json((entry["response"].get("content") or {}).get("text"))
        replayer.chain.remember(None if recorded is NOT_JSON else recorded, None if replayed is NOT_JSON else replayed)
    result.carried = replayer.chain.carried
    return result


__all__ = ["Chain", "ExchangeResult", "FlowResult", "Replay", "replay", "shape_differences"]
