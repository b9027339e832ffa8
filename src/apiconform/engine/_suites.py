"""The suite engine: schemathesis + hypothesis generate requests; apiconform sends, judges and records.

Schemathesis does what it is best at — generating valid and invalid requests from the contract.
Around it apiconform adds vendor auth flows, safety limits, a second opinion on validity (so a
"negative" case that is in fact valid is never blamed on the API), categorised checks, lifecycle
(stateful) checks and observation of statuses, enum values and response shapes.

The pytest suites in `suites/` are thin: each test calls one `run_*` function and asserts on the
`CaseResult` it returns.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

import httpx

from apiconform.auth import flow_of, owned_parameters, select_scheme
from apiconform.auth._identity import fixed_path_values
from apiconform.contracts import Contract, Operation, record_id, slots
from apiconform.contracts._validate import content_encoded_examples, from_httpx, validate_request
from apiconform.engine import _casecache as _casecache
from apiconform.engine import _compiled as _compiled
from apiconform.engine._casecache import WireCase, from_case
from apiconform.engine._draws import isolated_draws
from apiconform.engine._session import NOT_JSON, BudgetExhausted, Exchange, Session, Unsendable, WriteRefused, exchange_summary
from apiconform.engine._targets import Target
from apiconform.engine._writes import addressed, create_operation, record_template
from apiconform.engine.checks import NEGATIVE, POSITIVE, UNAUTHENTICATED, CheckContext, auth_statuses, run_checks
from apiconform.findings import CaseResult, Category, Finding
from apiconform.report._run import RunRecord

if TYPE_CHECKING:
    from hypothesis import settings

SUITES = ("examples", "properties", "stateful", "negative")
USER_AGENT = "apiconform/0.1"


# --- schemathesis bridge ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _st_schema(contract: Contract) -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(copy.deepcopy(contract.document))


def st_operation(contract: Contract, op: Operation) -> Any:
    """The schemathesis APIOperation for one of our operations."""
    schema = _st_schema(contract)
    if "operationId" in op.definition:
        return schema.find_operation_by_id(op.operation_id)
    return schema[op.path][op.method.upper()]


@functools.lru_cache(maxsize=32)
def _security_params(contract: Contract) -> tuple[frozenset[str], frozenset[str]]:
    """Header and query names the auth flows own (`apiconform.auth.owned_parameters`); generated values for
    them are dropped (once per contract: it is consulted for every generated request)."""
    owned = owned_parameters(contract)
    return owned.headers, owned.query


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _field_value(value: str) -> str | None:
    """A generated header value as HTTP can carry it (RFC 9110 5.5: no leading or trailing whitespace, no
    control characters), or None when it cannot be sent at all: a value no client can put on the wire is
    never sent (it would be blamed on the transport). The judge re-validates what was really sent."""
    value = value.strip(" \t")
    return None if _CONTROL.search(value) else value


def build_request(target: Target, op: Operation, case: Any, rng: random.Random) -> httpx.Request:
    """Serialise a generated case (a WireCase or a schemathesis Case) into an httpx.Request; auth-owned values removed."""
    wire = case if isinstance(case, WireCase) else from_case(case)
    kw = wire.transport_kwargs(target.base_url)
    auth_headers, auth_query = _security_params(target.contract)
    fields = {
        k: _field_value(str(v)) for k, v in (kw.get("headers") or {}).items()
        if k.lower() not in auth_headers and not k.lower().startswith("x-schemathesis")
    }
    headers = {k: v for k, v in fields.items() if v is not None}
    headers["User-Agent"] = USER_AGENT
    if op.idempotency is not None and wire.generation and not wire.negative:
        headers[op.idempotency.header] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    raw = kw.get("params") or {}
    params: Any = ({k: v for k, v in raw.items() if k.lower() not in auth_query} if isinstance(raw, dict)
                   else httpx.QueryParams(str(raw)))  # a negative case's query that is not an object: sent as text
    body: dict[str, Any] = {}
    if "json" in kw:
        body["json"] = kw["json"]
    data = kw.get("data")
    if isinstance(data, (bytes, str)):
        body["content"] = data
    elif isinstance(data, dict):
        body["data"] = data
    if kw.get("files"):
        body["files"] = kw["files"]
    return httpx.Request(kw["method"], kw["url"], headers=headers, params=params, cookies=kw.get("cookies") or None, **body)


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def id_style_value(schema: Any, rng: random.Random) -> str:
    """An id in the parameter's documented style (integer, uuid, pattern, enum): what a real id looks like,
    so a valid request reaches the vendor's routing and lookup instead of bouncing off garbage."""
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("enum"):
        return str(rng.choice(list(schema["enum"])))
    kind = schema.get("type")
    if kind == "integer" or kind == ["integer"]:
        low = max(1, int(schema.get("minimum", 1)))
        return str(rng.randint(low, max(low, min(int(schema.get("maximum", low + 999_999)), MAX_ID))))
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if schema.get("pattern"):
        import rstr

        try:
            return str(rstr.Rstr(rng).xeger(str(schema["pattern"]).lstrip("^").rstrip("$")))
        except (ValueError, TypeError, IndexError, KeyError, OverflowError):  # a pattern rstr cannot expand
            pass  # fall back to a plain token
    length = max(int(schema.get("minLength", 8)), 1)
    return "".join(rng.choice(_ALNUM) for _ in range(min(length, int(schema.get("maxLength", length)))))


def pin_path(contract: Contract, op: Operation, case: WireCase, fixed: dict[str, str], rng: random.Random,
             id_style: bool) -> WireCase:
    """Fixed path values (config, the caller's identity) always; other path parameters in the contract's id
    style for valid cases (`id_style`). Garbage ids stay in the negative suite. Applied when a case is sent
    (after the case cache), so cached and fresh cases are pinned alike."""
    if case.path_parameters is None:
        return case
    params = dict(case.path_parameters)
    for name in op.path_params():
        if name in fixed:
            params[name] = fixed[name]
        elif id_style and name in params:
            pointer = op.param_schemas.get(("path", name))
            schema = contract.at(contract.deref_pointer(pointer)) if pointer else {}
            if not _fits(contract, pointer, params[name]) or not _looks_like_id(params[name]):
                params[name] = id_style_value(schema, rng)
    return case.with_path_parameters(params) if params != case.path_parameters else case


def _fits(contract: Contract, pointer: str | None, value: Any) -> bool:
    if pointer is None:
        return True
    try:
        return not contract.validate(pointer, value)
    except Exception:
        return False


MAX_ID = 2**31 - 1  # ids are database keys: a valid case uses ids in the range real ones have


def _looks_like_id(value: Any) -> bool:
    text = str(value)
    if isinstance(value, int) or text.isdigit():
        return 1 <= int(text) <= MAX_ID
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "-_.") for c in text) and not text.startswith("-")


def judge(contract: Contract, op: Operation, request: httpx.Request) -> str:
    """POSITIVE if the contract accepts the request as it will be sent, else NEGATIVE (auth-owned values aside)."""
    auth_headers, auth_query = _security_params(contract)
    wire = validate_request(contract, op, from_httpx(request, op))
    real = [v for v in wire.violations if v.name.lower() not in auth_headers | auth_query]
    return NEGATIVE if real else POSITIVE


def login_exchange(contract: Contract, exchange: Exchange) -> Exchange | None:
    """The auth flow's drifted login answer as an exchange of the contract's login operation, so it is
    judged like any answer (content type, schema) and reported on that operation."""
    answer = exchange.login_answer
    if answer is None:
        return None
    path = answer.request.url.raw_path.decode("latin-1").split("?", 1)[0]
    for op in contract:
        if op.method == answer.request.method.lower() and any(
                op.match_path(path[i:]) is not None for i in range(len(path)) if path[i] == "/"):
            return Exchange(op, answer.request, answer, body=answer.content)
    return None


def _sent(request: httpx.Request) -> dict[str, list[Any]]:
    """Every value the request carried, by key: query parameters and JSON/form body members at any depth."""
    sent: dict[str, list[Any]] = {}
    for key, value in request.url.params.multi_items():
        sent.setdefault(key, []).append(value)
    content = request.content or b""
    body: Any = None
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        try:
            body = dict(parse_qsl(content.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            body = None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                sent.setdefault(str(key), []).append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return sent


def _request_names(contract: Contract, op: Operation) -> set[str]:
    names = {str(p.get("name")) for p in op.parameters}
    for media in op.request_body.values():
        if media.schema_pointer:
            schema = contract.resolve(contract.at(media.schema_pointer)) or {}
            names.update(str(k) for k in (schema.get("properties") or {}) if isinstance(schema, dict))
    return names


def without_generated(contract: Contract, op: Operation, request: httpx.Request, status: int, body: Any) -> Any:
    """The answer without what the generator put into it, for response-shape observation: members that echo
    a value the request sent under the same key (fuzz keys, generated values), and — in error answers — the
    members named after request fields (which field a generated request broke is not the vendor's shape)."""
    sent = _sent(request)
    names = _request_names(contract, op) | set(sent) if status >= 400 else set()

    def echoed(key: str, value: Any) -> bool:
        return key in sent and any(value == v or (not isinstance(value, (dict, list)) and str(value) == str(v))
                                   for v in sent[key])

    def strip(node: Any, depth: int = 0) -> Any:
        if isinstance(node, dict):
            kept = {k: strip(v, depth + 1) for k, v in node.items()
                    if not echoed(str(k), v) and not (str(k) in names and depth <= 2)}
            return {k: v for k, v in kept.items() if v != {} or node[k] == {}}  # emptied by stripping: all echo
        if isinstance(node, list):
            return [strip(item, depth + 1) for item in node]
        return node

    return strip(body)


# --- recording ------------------------------------------------------------------------------------------
#: header names whose presence says nothing about an API's behaviour (transport, caching by proxies, the clock)
VOLATILE_HEADERS = frozenset({"date", "content-length", "connection", "keep-alive", "transfer-encoding", "age", "via",
                              "server", "expires", "content-encoding", "vary", "alt-svc", "x-served-by", "x-cache"})


@dataclass
class Recorder:
    """Collects the outcome of one test (one suite × one operation): findings, coverage, shapes."""

    target: Target
    operation: Operation
    suite: str
    name: str
    findings: dict[str, Finding] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)
    categories: set[Category] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    requests: int = 0
    reclassified: int = 0  # generated "negative" cases that were in fact valid
    record: RunRecord = field(default_factory=RunRecord)
    started: float = field(default_factory=time.perf_counter)
    skipped: str = ""
    notes: list[str] = field(default_factory=list)
    sample: dict[str, Any] | None = None  # one redacted request/response, for Allure
    refused: list[str] = field(default_factory=list)  # writes the target's write policy kept from being sent

    def refuse(self, exc: WriteRefused) -> None:
        """A write the policy refused: never silent (the case is skipped with the reason when nothing else ran)."""
        if not self.refused:
            self.notes.append(str(exc))
        self.refused.append(str(exc))

    @functools.cached_property
    def redactor(self) -> Any:
        return self.target.redactor()

    def observe(self, exchange: Exchange, expectation: str, op: Operation | None = None,
                checks: Iterable[str] | None = None) -> list[Finding]:
        op = op or self.operation
        ctx = CheckContext(self.target.contract, op, exchange, expectation, self.redactor)
        findings, ran, covered = run_checks(ctx, checks)
        login = login_exchange(self.target.contract, exchange)
        if login is not None:
            login_ctx = CheckContext(self.target.contract, login.operation, login, POSITIVE, self.redactor)
            login_findings, login_ran, login_covered = run_checks(login_ctx)
            findings, covered = findings + login_findings, covered | login_covered
            ran = ran + [n for n in login_ran if n not in ran]
        if self.sample is None or (findings and not self.findings):
            self.sample = exchange_summary(exchange, ctx.redactor)  # the first failing exchange, else the first
        self.requests += exchange.attempts
        self.checks.update(ran)
        self.categories.update(covered)
        for finding in findings:
            self.findings.setdefault(finding.fingerprint, finding)
        if exchange.status is not None:
            self.statuses.append(exchange.status)
            self._observe_behaviour(op, exchange, expectation)
            body = exchange.json()
            if body is not NOT_JSON:
                shape_body = without_generated(self.target.contract, op, exchange.request, exchange.status, body)
                self.record.observe_response(self.target.vendor, op.label, exchange.status, self.redactor.json(shape_body))
                self._observe_enums(op, exchange.status, body)
            else:
                self.record.observe_response(self.target.vendor, op.label, exchange.status)
        return findings

    def _observe_behaviour(self, op: Operation, exchange: Exchange, expectation: str) -> None:
        """The statuses the caller's own credentials got, content type and header names per status (what
        `apiconform upgrade` compares; never header values). Auth probes record their statuses themselves."""
        vendor, status = self.target.vendor, exchange.status
        if expectation != UNAUTHENTICATED:
            self.record.observe_behaviour(vendor, op.label, "status", status)
        if exchange.media_type:
            self.record.observe_behaviour(vendor, op.label, f"media {status}", exchange.media_type)
        if exchange.response is not None:
            for name in sorted({n.lower() for n in exchange.response.headers} - VOLATILE_HEADERS):
                self.record.observe_behaviour(vendor, op.label, f"headers {status}", name)

    def add(self, finding: Finding, *categories: Category) -> None:
        self.findings.setdefault(finding.fingerprint, finding)
        self.categories.update(categories or (finding.category,))

    def _observe_enums(self, op: Operation, status: int, body: Any) -> None:
        response = op.response_for(status)
        if response is None or not response.content or status >= 400:
            return
        media = next(iter(response.content.values()))
        if media.schema_pointer is None:
            return
        contract = self.target.contract
        try:
            for slot in slots(contract, body, contract.at(media.schema_pointer)):
                if "enum" in slot.schema and not isinstance(slot.value, (dict, list)):
                    location = f"{status} " + "/".join(str(p) for p in slot.path if not isinstance(p, int))
                    self.record.observe_enum(self.target.vendor, op.label, self.redactor.text(location),
                                             self.redactor.value(slot.value))
        except Exception:  # observation must never break a run
            return

    def result(self) -> CaseResult:
        findings = list(self.findings.values())
        if self.target.mock_spec is not None:  # every report shows the same standalone mock + curl
            from dataclasses import replace

            from apiconform.engine._reproduce import mock_reproduction

            findings = [replace(f, curl=mock_reproduction(f.curl, self.target.vendor, *self.target.mock_spec))
                        if f.curl else f for f in findings]
        return CaseResult(
            vendor=self.target.vendor,
            operation=self.operation.label,
            suite=self.suite,
            name=self.name,
            findings=findings,
            checks=sorted(self.checks),
            categories=sorted(self.categories, key=lambda c: c.value),
            status=self.statuses[-1] if self.statuses else None,
            duration=time.perf_counter() - self.started,
            skipped=self.skipped or (self.refused[0] if self.refused and not self.requests else ""),
            requests=self.requests,
        )


# --- known ids (discovery) -----------------------------------------------------------------------------
class Discovery:
    """Real ids per resource, read from the target's list operations, so generated requests hit records."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.contract = session.target.contract
        self._ids: dict[tuple[str, tuple[str, ...]], list[Any]] = {}

    def path_values(self, op: Operation) -> dict[str, str]:
        """Known values for the path parameters of `op`, parents first (empty where none are known)."""
        resources = self.contract.path_param_resources(op)
        fixed = self.fixed_values(op)
        values: dict[str, str] = {}
        scope: tuple[str, ...] = ()
        for name in op.path_params():
            if name in fixed:
                values[name] = fixed[name]
                scope = scope + (values[name],)
                continue
            resource = resources.get(name)
            if resource is None:
                break
            ids = self.ids(resource, scope)
            if not ids:
                break
            values[name] = str(ids[0])
            scope = scope + (values[name],)
        return values

    def fixed_values(self, op: Operation) -> dict[str, str]:
        """Path parameters never generated: fixed in the target's config, or the caller's own identity; for a write
        on an existing record under the write policy "own", the path of a record this run created."""
        target = self.session.target
        fixed = fixed_path_values(self.contract, op, target.path_params, self.session.identities())
        return {**fixed, **self.own_values(op, fixed)}

    def own_values(self, op: Operation, fixed: dict[str, str]) -> dict[str, str]:
        """Path values addressing a record this run created, for a write that changes an existing record (a
        PUT/PATCH/DELETE, an action POST) under the write policy "own": the newest such record still there, else
        one created now through the collection's create operation. {} where no policy applies or none can be made."""
        ownership = self.session.ownership
        if ownership is None or ownership.policy != "own" or op.is_safe or not self.session.safety.allows(op.label, op.method):
            return {}
        kind, template = addressed(self.contract, op)
        template = record_template(template)
        if kind != "record" or not template:
            return {}
        values = ownership.own_values(template, fixed)
        if values is None and template not in ownership.unavailable:
            self._create_own(template, fixed)
            values = ownership.own_values(template, fixed)
        return values or {}

    def _create_own(self, template: tuple[str, ...], fixed: dict[str, str]) -> None:
        """Create one record of the collection `template` belongs to (what it answers is tracked by the Session)."""
        ownership = self.session.ownership
        assert ownership is not None
        create = create_operation(self.contract, template)
        why = ""
        if create is None:
            why = "the contract documents no create for it"
        elif not self.session.safety.allows(create.label, create.method):
            why = f"{create.label} may not run (read-only)"
        else:
            scope = {**self.path_values(create), **{k: v for k, v in fixed.items() if k in create.path_params()}}
            request = valid_request(self.session, create, zlib.crc32(create.label.encode()), self, path_values=scope)
            if request is None:
                why = f"no valid request could be built for {create.label}"
            else:
                try:
                    exchange = self.session.send(create, request)
                except (BudgetExhausted, Unsendable) as exc:
                    why = str(exc)
                else:
                    if ownership.own_values(template, fixed) is None:
                        why = f"{create.label} answered {exchange.status or exchange.error}"
        if why:
            ownership.unavailable[template] = why

    def ids(self, resource: str, scope: tuple[str, ...] = ()) -> list[Any]:
        key = (resource, scope)
        if key not in self._ids:
            self._ids[key] = self._fetch(resource, scope)
        return self._ids[key]

    def remember(self, resource: str, scope: tuple[str, ...], value: Any) -> None:
        self._ids.setdefault((resource, scope), []).insert(0, value)

    def _fetch(self, resource: str, scope: tuple[str, ...]) -> list[Any]:
        lister = next((o for o in self.contract if o.resource == resource and o.action == "list"
                       and len(o.path_params()) == len(scope)), None)
        if lister is None:
            return []
        path = lister.fill_path(dict(zip(lister.path_params(), scope)))
        request = httpx.Request("GET", self.session.target.base_url + path, headers={"User-Agent": USER_AGENT})
        try:
            exchange = self.session.send(lister, request)
        except (BudgetExhausted, Unsendable):
            return []
        body = exchange.json()
        if exchange.status is None or not 200 <= exchange.status < 300 or body is NOT_JSON:
            return []
        items = body.get(lister.envelope_names.results, body.get("data")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            return []
        item_reader = next((o for o in self.contract if o.resource == resource and o.action == "read"), None)
        id_field = item_reader.id_field if item_reader else "id"
        return [v for v in (record_id(item, id_field) for item in items) if v is not None]


# --- generation helpers ----------------------------------------------------------------------------------
def _settings(max_examples: int) -> settings:
    """Hypothesis is imported only when a case is really drawn: a run replayed from the case cache never loads it."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        report_multiple_bugs=False,
    )


@functools.lru_cache(maxsize=1024)
def _encoded_query_cached(contract: Contract, label: str) -> tuple[tuple[str, str], ...]:
    from apiconform.mock._synth import Synthesizer

    synth = Synthesizer(contract, seed=0)
    return tuple(sorted(content_encoded_examples(contract, contract.operations[label], synth.value).items()))


def _encoded_query(contract: Contract, op: Operation) -> dict[str, str]:
    """Valid JSON-in-a-string query values (e.g. CofE `data`): schemathesis cannot derive them."""
    return dict(_encoded_query_cached(contract, op.label))


def _strategy(contract: Contract, op: Operation, mode: str, known: dict[str, str], fixed: bool = False) -> Any:
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    api_op = st_operation(contract, op)
    query = _encoded_query(contract, op) if mode == "positive" else {}
    if fixed:
        return api_op.as_strategy(generation_mode=GenerationMode(mode), path_parameters=known, query=query or None)
    generated = api_op.as_strategy(generation_mode=GenerationMode(mode))
    if query:
        generated = st.one_of(api_op.as_strategy(generation_mode=GenerationMode(mode), query=query,
                                                 path_parameters=known or None), generated)
    if known and mode == "positive":
        return st.one_of(api_op.as_strategy(generation_mode=GenerationMode(mode), path_parameters=known), generated)
    return generated


@functools.lru_cache(maxsize=32)
def _digest(contract: Contract) -> str:
    return _casecache.contract_digest(contract.document)


def generated_cases(
    contract: Contract, op: Operation, mode: str, max_examples: int, seed: int, known: dict[str, str],
    fixed: bool = False, until: Callable[[WireCase], bool] | None = None,
) -> tuple[list[WireCase], str]:
    """Up to `max_examples` generated cases (stopping after the first one `until` accepts), and a note if
    generation was impossible. Drawn once per key and replayed from the on-disk case cache afterwards."""
    compiled_generator = _compiled.applies(contract)  # decided once per call: the key and the draw agree
    key = _casecache.key(_digest(contract), op.label, mode, max_examples, seed, sorted(known.items()), fixed,
                         "until" if until is not None else "all", "compiled" if compiled_generator else "st")
    cached = _casecache.get(key)
    if cached is not None:
        return cached
    compiled = None
    if mode == "positive" and compiled_generator:
        compiled = _compiled_cases(contract, op, max_examples, seed, known, fixed, until)
    if compiled is not None:
        _casecache.put(key, compiled, "")
        return compiled, ""
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import FailedHealthCheck, InvalidArgument, Unsatisfiable

    cases: list[WireCase] = []
    try:
        strategy = _strategy(contract, op, mode, known, fixed)
    except Exception as exc:  # schemathesis cannot build a strategy (e.g. nothing to negate)
        note = f"no {mode} cases: {type(exc).__name__}: {exc}"
        _casecache.put(key, cases, note)
        return cases, note

    @hypothesis_seed(seed)
    @_settings(max_examples)
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            wire = from_case(case)
        except (ValueError, TypeError, UnicodeEncodeError):
            return  # cannot be serialised: nothing to send
        cases.append(wire)
        if until is not None and until(wire):
            raise _Enough()

    note = ""
    try:
        with isolated_draws():  # the draws depend on the contract and the seed, not on the modules loaded
            run()
    except _Enough:
        pass
    except (Unsatisfiable, FailedHealthCheck, InvalidArgument) as exc:
        note = f"no {mode} cases: {type(exc).__name__}"
    _casecache.put(key, cases, note)
    return cases, note


def _compiled_cases(contract: Contract, op: Operation, max_examples: int, seed: int, known: dict[str, str],
                    fixed: bool, until: Callable[[WireCase], bool] | None) -> list[WireCase] | None:
    """Valid (positive) cases from the operation's compiled strategy (`engine._compiled`), or None when it cannot be
    compiled (or drew nothing): schemathesis draws those."""
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    try:
        strategy = _compiled.compiled_strategy(contract, op, known, fixed, _encoded_query(contract, op))
    except _compiled.Unsupported:
        return None

    def valid(case: WireCase) -> bool:
        try:
            return judge(contract, op, _offline_request(contract, op, case)) == POSITIVE
        except (ValueError, TypeError, UnicodeEncodeError):
            return False

    try:
        cases = _compiled.draw(strategy, max_examples, seed, valid, until, _settings(2))
    except (Unsatisfiable, FailedHealthCheck):
        return None
    return cases or None


def _offline_request(contract: Contract, op: Operation, case: WireCase) -> httpx.Request:
    """The request a case becomes, on a placeholder base URL (what the judge reads does not depend on it)."""
    return build_request(cast(Target, _Offline(contract)), op, case, random.Random(0))


@dataclass(frozen=True)
class _Offline:
    contract: Contract
    base_url: str = "http://apiconform.invalid"


def generate(
    contract: Contract, op: Operation, mode: str, max_examples: int, seed: int, known: dict[str, str],
    consume: Callable[[Any], None], fixed: bool = False,
) -> str:
    """Feed up to `max_examples` generated cases to `consume`; returns a note if generation was impossible."""
    cases, note = generated_cases(contract, op, mode, max_examples, seed, known, fixed)
    for case in cases:
        consume(case)
    return note


# --- the suites ------------------------------------------------------------------------------------------
def _skip_if_unsafe(rec: Recorder, op: Operation) -> bool:
    if not rec.target.safety.allows(op.label, op.method):
        rec.skipped = f"{op.method.upper()} skipped: target is read-only (pass --allow-writes to run writes)"
        return True
    return False


def _run_generated(session: Session, op: Operation, mode: str, max_examples: int, seed: int,
                   discovery: Discovery, rec: Recorder) -> Recorder:
    """Send generated cases and judge each by the contract (not by the mode that generated it)."""
    if _skip_if_unsafe(rec, op):
        return rec
    rng = random.Random(seed)

    fixed = discovery.fixed_values(op)

    def consume(case: Any) -> None:
        case = pin_path(session.target.contract, op, case, fixed, rng, id_style=mode == "positive")
        try:
            request = build_request(session.target, op, case, rng)
        except (ValueError, TypeError, UnicodeEncodeError):
            return  # a value httpx cannot put on the wire (e.g. non-Latin-1 header)
        expectation = judge(session.target.contract, op, request)
        try:
            exchange = session.send(op, request)
        except WriteRefused as exc:
            rec.refuse(exc)
            return
        except Unsendable:
            return
        if mode == "negative" and expectation == POSITIVE:
            rec.reclassified += 1
        rec.observe(exchange, expectation)

    try:
        note = generate(session.target.contract, op, mode, max_examples, seed, discovery.path_values(op), consume)
    except BudgetExhausted as exc:
        note = str(exc)
    if rec.reclassified:
        rec.notes.append(f"{rec.reclassified} generated 'invalid' cases were valid under the contract and were checked as valid")
    if note and not rec.requests:
        rec.skipped = note
    return rec


def run_properties(session: Session, op: Operation, max_examples: int, seed: int, discovery: Discovery) -> Recorder:
    """Valid requests (property-based): every answer must conform to the contract."""
    rec = Recorder(session.target, op, "properties", f"properties[{op.label}]")
    return _run_generated(session, op, "positive", max_examples, seed, discovery, rec)


def run_negative(session: Session, op: Operation, max_examples: int, seed: int, discovery: Discovery) -> Recorder:
    """Invalid requests must be refused with a documented 4xx and the documented error shape.

    Every generated case is re-judged against the contract: a case that is in fact valid is checked
    as a positive case instead, so the API is never blamed for accepting a valid request.
    """
    rec = Recorder(session.target, op, "negative", f"negative[{op.label}]")
    return _run_generated(session, op, "negative", max_examples, seed, discovery, rec)


def valid_request(
    session: Session, op: Operation, seed: int, discovery: Discovery, path_values: dict[str, str] | None = None,
    exact: bool = False,
) -> httpx.Request | None:
    """One request the contract accepts: a documented example if there is one, else a generated one.

    With `path_values`, the path is generated from them (lifecycles address the record they created); `exact`:
    every one of them is kept as it is, never replaced by an id-style value (the probe of another identity
    must ask for exactly the record it names)."""
    rng = random.Random(seed)
    known = path_values if path_values is not None else discovery.path_values(op)
    for request in example_requests(session.target, op, known, rng):
        if judge(session.target.contract, op, request) == POSITIVE:
            return request
    probe_rng = random.Random(0)  # the search must not consume `rng`: replays build the same requests

    fixed = discovery.fixed_values(op) if path_values is None else dict(path_values) if exact else {}

    def valid(case: WireCase) -> bool:
        try:
            pinned = pin_path(session.target.contract, op, case, fixed, probe_rng, id_style=True)
            return judge(session.target.contract, op, build_request(session.target, op, pinned, probe_rng)) == POSITIVE
        except (ValueError, TypeError, UnicodeEncodeError):
            return False

    cases, _ = generated_cases(session.target.contract, op, "positive", 20, seed, known,
                               fixed=path_values is not None, until=valid)
    for case in cases:
        case = pin_path(session.target.contract, op, case, fixed, rng, id_style=True)
        try:
            request = build_request(session.target, op, case, rng)
        except (ValueError, TypeError, UnicodeEncodeError):
            continue
        if judge(session.target.contract, op, request) == POSITIVE:
            return request
    return None


class _Enough(Exception):
    """Stops generation early once a search has what it needs (hypothesis re-raises it unchanged)."""


def _prepared(rec: Recorder, session: Session, op: Operation, seed: int, discovery: Discovery,
              applicable: bool, why_not: str) -> httpx.Request | None:
    """The valid request a targeted negative test starts from, or None with the skip reason set."""
    if not applicable:
        rec.skipped = why_not
        return None
    if _skip_if_unsafe(rec, op):
        return None
    request = valid_request(session, op, seed, discovery)
    if request is None:
        rec.skipped = "no valid request could be built for this operation"
    return request


def run_auth(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Missing and wrong credentials get the documented auth failure status and error shape."""
    rec = Recorder(session.target, op, "negative", f"auth[{op.label}]")
    request = _prepared(rec, session, op, seed, discovery, bool(op.security), "operation requires no credentials")
    if request is None:
        return rec
    for mode in ("none", "wrong"):
        try:
            exchange = session.send(op, _clone(request), auth=mode)
        except (BudgetExhausted, Unsendable) as exc:
            rec.skipped = str(exc)
            break
        rec.observe(exchange, UNAUTHENTICATED)
        if exchange.status is not None:
            rec.record.observe_behaviour(session.target.vendor, op.label, f"auth {mode}", exchange.status)
    if session.target.other_credentials and not rec.skipped:
        _other_identity_probe(rec, session, op, seed, discovery)
    return rec


def other_identity_statuses(contract: Contract) -> tuple[int, ...]:
    """What the contract says another identity gets for the caller's records (`x-apiconform-auth.other-identity`:
    a status or a list), 403 or 404 when it says nothing."""
    from apiconform.auth._common import auth_config

    picked = select_scheme(contract)
    declared = auth_config(picked[1]).get("other-identity") if picked else None
    values = declared if isinstance(declared, list) else [declared] if declared is not None else [403, 404]
    return tuple(int(v) for v in values if str(v).isdigit())


def _other_identity_probe(rec: Recorder, session: Session, op: Operation, seed: int, discovery: Discovery) -> None:
    """Broken object-level authorization: the first identity's record, asked for with the second identity's
    credentials, must get the answer the contract declares (403/404), never the record. Only for operations
    whose every path parameter holds a real value of the first identity (discovered or its own id)."""
    names = op.path_params()
    known = discovery.path_values(op)
    if not names or set(names) - set(known):
        return  # no record of the first identity to ask for
    request = valid_request(session, op, seed, discovery, path_values=known, exact=True)  # addressed to that record
    if request is None:
        return
    try:
        exchange = session.send(op, _clone(request), auth="other")
    except (BudgetExhausted, Unsendable):
        return
    rec.requests += exchange.attempts
    status = exchange.status
    if status is None:
        return
    rec.record.observe_behaviour(session.target.vendor, op.label, "auth other-identity", status)
    rec.checks.add("other_identity")
    rec.categories.add(Category.AUTH)
    expected = other_identity_statuses(session.target.contract)
    if status not in expected:
        ctx = CheckContext(session.target.contract, op, exchange, UNAUTHENTICATED, session.target.redactor())
        granted = 200 <= status < 300
        message = (f"another identity got the first identity's record ({status}): broken object-level authorization"
                   if granted else f"another identity's request for the first identity's record got {status}")
        rec.add(ctx.finding("other_identity", Category.AUTH, message,
                            expected=" or ".join(map(str, expected)), actual=status))


def run_idempotency(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Same key + same body replays; same key + different body is refused in the documented error shape."""
    rec = Recorder(session.target, op, "negative", f"idempotency[{op.label}]")
    request = _prepared(rec, session, op, seed, discovery, op.idempotency is not None,
                        "operation documents no idempotency key")
    if request is None or op.idempotency is None:
        return rec
    header = op.idempotency.header
    key = str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4))
    try:
        _idempotency_steps(session, op, rec, request, header, key)
    except (BudgetExhausted, Unsendable) as exc:
        rec.skipped = str(exc)
    return rec


def _idempotency_steps(session: Session, op: Operation, rec: Recorder, request: httpx.Request, header: str, key: str) -> None:
    first = session.send(op, _clone(request, {header: key}))
    rec.observe(first, POSITIVE)
    second = session.send(op, _clone(request, {header: key}))
    rec.observe(second, POSITIVE)
    if first.status is not None and second.status is not None and 200 <= first.status < 300:
        if (second.status, second.json()) != (first.status, first.json()):
            ctx = CheckContext(session.target.contract, op, second, POSITIVE, session.target.redactor())
            rec.add(ctx.finding("idempotent_replay", Category.STATUS_CODE,
                                "same idempotency key and body did not replay the first answer",
                                expected=first.status, actual=second.status))
        changed = _changed_body(request)
        if changed is not None:
            third = session.send(op, _clone(changed, {header: key}))
            rec.observe(third, NEGATIVE)


def _changed_body(request: httpx.Request) -> httpx.Request | None:
    import json

    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    body = dict(body)
    body["apiconform_changed"] = str(uuid.uuid4())
    for key, value in list(body.items()):
        if isinstance(value, str) and key != "apiconform_changed":
            body[key] = value + "-changed"
            body.pop("apiconform_changed")
            break
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, json=body)


def _clone(request: httpx.Request, headers: dict[str, str] | None = None) -> httpx.Request:
    overrides = {k.lower() for k in (headers or {})}
    merged = {k: v for k, v in request.headers.items()
              if k.lower() not in ("content-length", "authorization") and k.lower() not in overrides}
    merged.update(headers or {})
    return httpx.Request(request.method, request.url, headers=merged, content=request.content)


def example_requests(target: Target, op: Operation, known: dict[str, str], rng: random.Random) -> list[httpx.Request]:
    """Requests built from every documented request example (errata excluded)."""
    requests: list[httpx.Request] = []
    api_op = None
    for media_type, media in op.request_body.items():
        for name, example in media.examples.items():
            if "value" not in example or example.get("x-erratum"):
                continue
            example_seed = rng.randrange(1 << 30)
            key = _casecache.key(_digest(target.contract), op.label, "example", media_type, name, example_seed,
                                 sorted(known.items()))
            cached = _casecache.get(key)
            if cached is None:
                from hypothesis import given
                from hypothesis import seed as hypothesis_seed

                if api_op is None:
                    api_op = st_operation(target.contract, op)
                cases: list[WireCase] = []

                @hypothesis_seed(example_seed)
                @_settings(1)
                @given(case=api_op.as_strategy(body=example["value"], media_type=media_type, path_parameters=known or None))
                def first(case: Any) -> None:
                    if not cases:  # noqa: B023 - called right here, within this iteration
                        cases.append(from_case(case))  # noqa: B023

                try:
                    with isolated_draws():
                        first()
                except Exception:  # an example that cannot even be serialised is reported by `contracts check`
                    continue
                _casecache.put(key, cases)
            else:
                cases = cached[0]
            try:
                requests.append(build_request(target, op, cases[0], rng))
            except Exception:  # an example that cannot even be serialised is reported by `contracts check`
                continue
    return requests


def run_examples(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Every documented request example is sent; the answer must conform."""
    rec = Recorder(session.target, op, "examples", f"examples[{op.label}]")
    if not any("value" in e and not e.get("x-erratum") for m in op.request_body.values() for e in m.examples.values()):
        rec.skipped = "the docs show no request example for this operation"
        return rec
    if _skip_if_unsafe(rec, op):  # before discovery: a skipped write must not spend the budget on id lookups
        return rec
    requests = example_requests(session.target, op, discovery.path_values(op), random.Random(seed))
    if not requests:
        rec.skipped = "the docs show no request example for this operation"
        return rec
    for request in requests:
        try:
            exchange = session.send(op, request)
        except BudgetExhausted as exc:
            rec.skipped = str(exc)
            break
        except WriteRefused as exc:
            rec.refuse(exc)
            continue
        except Unsendable:
            continue
        rec.observe(exchange, judge(session.target.contract, op, exchange.request))
    return rec


__all__ = [
    "SUITES",
    "Discovery",
    "Recorder",
    "auth_statuses",
    "build_request",
    "example_requests",
    "flow_of",
    "judge",
    "run_auth",
    "run_examples",
    "run_idempotency",
    "run_negative",
    "run_properties",
    "select_scheme",
    "st_operation",
    "valid_request",
]
