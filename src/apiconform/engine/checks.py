"""Checks: small named functions `(CheckContext) -> list[Finding]`, one concern each.

Each check declares the categories it covers, so a passing case counts as evidence for exactly
those cells of the conformance matrix. The registry is open: `@check(...)` adds one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apiconform.contracts import Contract, Operation, echo_pairs, pointer, resolve
from apiconform.engine._session import NOT_JSON, Exchange, exchange_summary
from apiconform.findings import Category, Finding, Severity
from apiconform.redact import Redactor

POSITIVE, NEGATIVE, UNAUTHENTICATED = "positive", "negative", "unauthenticated"
MAX_FINDINGS_PER_CHECK = 10
FINDING_BODY_CHARS = 2048  # request/response bodies kept per finding (the reports show them; cut with a mark)
_JSON_MEDIA = re.compile(r"^application/(.+\+)?json$")


@dataclass
class CheckContext:
    contract: Contract
    operation: Operation
    exchange: Exchange
    expectation: str = POSITIVE  # what a conformant API must do with this request
    redactor: Redactor | None = None
    #: how a finding's curl reads for the target (an embedded mock's: standalone, `_reproduce.reproducer`); None: as sent
    reproduce: Callable[[str], str] | None = None
    _summary: dict[str, Any] | None = None
    #: every path value names a record the run knows exists (discovered, created, configured), not a generated id
    known_records: bool = True

    def finding(
        self,
        check: str,
        category: Category,
        message: str,
        pointer: str = "",
        expected: Any = None,
        actual: Any = None,
        severity: Severity | None = None,
    ) -> Finding:
        # whatever the vendor sent back is redacted *before* anything is cut to size
        redactor = self.redactor or Redactor(())
        return Finding(
            vendor=self.contract.vendor,
            operation=self.operation.label,
            check=check,
            category=category,
            message=redactor.text(message),
            pointer=redactor.pointer(pointer),  # structure: whole secret segments only (fingerprints)
            expected=_short(redactor.value(expected)),
            actual=_short(redactor.value(actual)),
            status=self.exchange.status,
            curl=self.curl(),
            severity=severity or SEVERITY[category],
            exchange=self.summary(),
        )

    def summary(self) -> dict[str, Any]:
        """The request and answer judged, redacted, bodies cut to a few kilobytes (one per finding, so small);
        kept once per exchange however many findings it raised."""
        if self._summary is None:
            self._summary = exchange_summary(self.exchange, self.redactor or Redactor(()), FINDING_BODY_CHARS)
            self._summary["expectation"] = self.expectation
        return self._summary

    def curl(self) -> str:
        """The request as a curl line, redacted, in the form that reproduces it (made once, with the finding)."""
        request = self.exchange.request
        redactor = self.redactor or Redactor(())
        body = request.content.decode("utf-8", "replace") if request.content else None
        curl = redactor.curl(request.method, str(request.url), dict(request.headers), body)
        return self.reproduce(curl) if self.reproduce is not None and curl else curl


SEVERITY: dict[Category, Severity] = {
    Category.SERVER_ERROR: Severity.BLOCKER,
    Category.TRANSPORT: Severity.BLOCKER,
    Category.AUTH: Severity.BLOCKER,
    Category.STATUS_CODE: Severity.CRITICAL,
    Category.FIELD_TYPE: Severity.CRITICAL,
    Category.ENUM: Severity.CRITICAL,
    Category.REQUIRED_FIELD: Severity.CRITICAL,
    Category.ERROR_SHAPE: Severity.NORMAL,
    Category.CONTENT_TYPE: Severity.NORMAL,
    Category.PAGINATION: Severity.NORMAL,
}


def _short(value: Any, limit: int = 300) -> Any:
    """A finding's value, cut to about `limit` characters while keeping its JSON type: a long array stays an
    array of its first items (so a root cause says "answered as array", never "as string")."""
    if isinstance(value, (int, float, bool, type(None))):
        return value
    if isinstance(value, str):
        return value[:limit] + "…" if len(value) > limit else value
    if isinstance(value, (list, tuple)):
        kept: list[Any] = []
        for item in value:
            if len(repr(kept)) > limit:
                break
            kept.append(_short(item, limit // 2))
        return kept
    if isinstance(value, dict):
        members: dict[str, Any] = {}
        for key, item in value.items():
            if len(repr(members)) > limit:
                break
            members[str(key)] = _short(item, limit // 2)
        return members
    text = repr(value)
    return text[:limit] + "…" if len(text) > limit else text


CheckFn = Callable[[CheckContext], list[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    categories: tuple[Category, ...]
    fn: CheckFn
    applies: Callable[[CheckContext], bool]
    covers: Callable[[CheckContext], tuple[Category, ...]] | None = None  # categories this exchange really tested


CHECKS: dict[str, CheckSpec] = {}


def check(
    name: str,
    *categories: Category,
    applies: Callable[[CheckContext], bool] | None = None,
    covers: Callable[[CheckContext], tuple[Category, ...]] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register a check under a stable name (used in findings, reports and waivers)."""

    def register(fn: CheckFn) -> CheckFn:
        # runs at import, before mutmut activates a mutant: not mutation-testable (the registry is tested instead)
        CHECKS[name] = CheckSpec(name, categories, fn, applies or (lambda ctx: True), covers)  # pragma: no mutate
        return fn

    return register


def _answered(ctx: CheckContext) -> bool:
    return ctx.exchange.response is not None and ctx.exchange.error is None


# --- transport and status --------------------------------------------------------------------------
@check("transport_ok", Category.TRANSPORT)
def transport_ok(ctx: CheckContext) -> list[Finding]:
    """A usable HTTP answer arrived: no timeout, reset, truncation or oversized body."""
    if ctx.exchange.error is None or ctx.exchange.login_answer is not None:
        return []  # a drifted login answer is judged on the login operation (runner.login_exchange)
    return [ctx.finding("transport_ok", Category.TRANSPORT, ctx.exchange.error, actual=ctx.exchange.error)]


@check("not_a_server_error", Category.SERVER_ERROR, applies=_answered)
def not_a_server_error(ctx: CheckContext) -> list[Finding]:
    status = ctx.exchange.status or 0
    if status >= 500:
        return [ctx.finding("not_a_server_error", Category.SERVER_ERROR, f"server error {status}", expected="< 500", actual=status)]
    return []


@check("status_code_documented", Category.STATUS_CODE, applies=_answered)
def status_code_documented(ctx: CheckContext) -> list[Finding]:
    status = ctx.exchange.status or 0
    if status >= 500 or ctx.operation.response_for(status) is not None or status in ctx.operation.implied_auth_statuses:
        return []
    documented = sorted(ctx.operation.responses)
    return [ctx.finding("status_code_documented", Category.STATUS_CODE,
                        f"status {status} is not documented for {ctx.operation.label}", expected=documented, actual=status)]


def auth_statuses(op: Operation) -> list[int]:
    """Statuses an operation documents for missing/wrong credentials, in the vendor's order of preference."""
    return [s for s in (401, 403, 404) if str(s) in op.responses] or [401, 403]


@check("expected_outcome", Category.STATUS_CODE, Category.AUTH, applies=_answered,
       covers=lambda ctx: (Category.STATUS_CODE,) + ((Category.AUTH,) if ctx.operation.security else ()))
def expected_outcome(ctx: CheckContext) -> list[Finding]:
    """Negative requests are rejected with a 4xx; unauthenticated ones with the documented auth status;
    valid credentials are never refused."""
    status = ctx.exchange.status or 0
    if status >= 500:
        return []
    if ctx.expectation == NEGATIVE and status < 400 and ctx.operation.documents_validation:
        return [ctx.finding("expected_outcome", Category.STATUS_CODE,
                            f"invalid request accepted with {status}", expected="4xx", actual=status)]
    if ctx.expectation == UNAUTHENTICATED:
        allowed = auth_statuses(ctx.operation)
        if status < 400:
            return [ctx.finding("expected_outcome", Category.AUTH,
                                f"request without valid credentials accepted with {status}", expected=allowed, actual=status)]
        if status not in allowed:
            return [ctx.finding("expected_outcome", Category.AUTH,
                                f"bad credentials answered {status}, documented {allowed}", expected=allowed, actual=status)]
    forbidden = ctx.operation.definition.get("x-apiconform-forbidden")  # the contract says: 403 to these credentials
    forbidden = forbidden or status in _state_refusals(ctx.operation)  # or: 403 is a declared refusal of the record's state
    # a 403 the operation documents, for a record the run made up, answers about that record ("not accessible"),
    # not about the credentials: some vendors answer it for every id the caller may not see, existing or not
    unknown_record = status == 403 and not (ctx.known_records and not ctx.exchange.record_gone) \
        and "403" in ctx.operation.responses
    if ctx.expectation == POSITIVE and status in (401, 403) and ctx.operation.security and not (forbidden and status == 403) \
            and not unknown_record:
        return [ctx.finding("expected_outcome", Category.AUTH,
                            f"valid credentials refused with {status}", expected="accepted", actual=status)]
    return []


#: the statuses that say "your request is malformed" (never state: 401/403/404/409/412/429 depend on who asks what, when)
_MALFORMED = (400, 422)
#: schema keywords that make a claim about which values are well formed (a plain string claims nothing: a token the
#: vendor did not issue, an id, a filter expression may be refused for what it means, not for its form)
_FORM_KEYWORDS = frozenset({"pattern", "format", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
                            "exclusiveMaximum", "minLength", "maxLength", "multipleOf", "minItems", "maxItems"})


def _claims_form(contract: Contract, schema: Any, depth: int = 4) -> bool:
    """The schema says what a well-formed value looks like (a typed scalar, a pattern, a format, bounds, an enum)."""
    schema = contract.resolve(schema)
    if not isinstance(schema, dict) or depth < 0:
        return False
    types = schema.get("type")
    typed = {types} if isinstance(types, str) else set(types or ())
    if schema.keys() & _FORM_KEYWORDS or typed & {"integer", "number", "boolean"}:
        return True
    return any(_claims_form(contract, part, depth - 1) for key in ("allOf", "anyOf", "oneOf") for part in schema.get(key) or [])


def _texts(node: Any) -> list[str]:
    """Every string of an error body (values, at any depth): where a vendor names what it refused."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for value in node.values() for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def _names(texts: list[str], name: str) -> bool:
    """The error names this input: a whole string (`"loc": ["query", "limit"]`, `"name": "If-Match"`) or, for names
    of 3+ characters, a word of a message (`headers.If-Match: The value should be ...`)."""
    low = name.lower()
    if any(t.strip().lower() == low for t in texts):
        return True
    word = re.compile(r"(?<![\w-])" + re.escape(low) + r"(?![\w-])")
    return len(low) >= 3 and any(word.search(t.lower()) for t in texts)


def _sent_inputs(ctx: CheckContext) -> list[tuple[str, str, Any, Any]]:
    """(where, name, value as sent, schema) of each input the request carried: parameters and top-level JSON body
    members, those the auth flow owns aside (not the request's to get right)."""
    from apiconform.auth import owned_parameters
    from apiconform.contracts import from_httpx

    op, contract = ctx.operation, ctx.contract
    wire = from_httpx(ctx.exchange.request, op)
    owned = owned_parameters(contract)
    sent: dict[str, dict[str, Any]] = {"path": dict(wire.path_params), "query": dict(wire.query),
                                       "header": {k.lower(): v for k, v in wire.headers.items()}}
    inputs = []
    for (where, name), schema_ptr in op.param_schemas.items():
        key = name.lower() if where == "header" else name
        if key in sent.get(where, {}) and name.lower() not in owned.headers | owned.query:
            inputs.append((where, name, sent[where][key], contract.at(schema_ptr)))
    media = op.request_body.get(wire.media_type or "")
    if isinstance(wire.body, dict) and media is not None and media.schema_pointer is not None:
        props = (contract.at(media.schema_pointer) or {}).get("properties") or {}
        inputs += [("body", name, wire.body[name], props[name]) for name in wire.body if name in props]
    return inputs


@check("valid_request_accepted", Category.STATUS_CODE,
       applies=lambda ctx: _answered(ctx) and ctx.expectation == POSITIVE and ctx.exchange.status in _MALFORMED)
def valid_request_accepted(ctx: CheckContext) -> list[Finding]:
    """A request the contract accepts (judged valid as sent: every parameter and the body) is not refused as
    malformed (400/422) for an input whose form the contract describes. Only when the vendor's error names that
    input, and only where its schema claims a form (type, pattern, format, bounds, enum): the vendor's own validation
    disagrees with its description. A refusal by state (401/403/404/409/412/429) or of a value the contract leaves
    free (a plain string: a token the vendor did not issue) is never reported."""
    status = ctx.exchange.status or 0
    if status in _state_refusals(ctx.operation):
        return []
    body = ctx.exchange.json()
    texts = _texts(body) if body is not NOT_JSON else [ctx.exchange.body[:4096].decode("utf-8", "replace")]
    findings = []
    for where, name, value, schema in _sent_inputs(ctx):
        if _claims_form(ctx.contract, schema) and _names(texts, name):
            findings.append(ctx.finding(
                "valid_request_accepted", Category.STATUS_CODE,
                f"valid request refused with {status}: the vendor rejects {where} {name!r}, a value the contract accepts",
                pointer=f"/{where}/{name}", expected={k: v for k, v in (ctx.contract.resolve(schema) or {}).items()
                                                       if k in _FORM_KEYWORDS or k == "type"} or "valid per the contract",
                actual=value))
    return findings[:MAX_FINDINGS_PER_CHECK]


def _state_refusals(op: Any) -> set[int]:
    """Statuses `x-apiconform-state` declares as a refusal by the record's state (e.g. 403 for a wrong unlock token on
    a locked record: the vendor's answer to these credentials for this record, not a refusal of the credentials)."""
    state = op.definition.get("x-apiconform-state")
    requires = state.get("require") if isinstance(state, dict) else None
    return {int(r["else"]["status"]) for r in requires or [] if isinstance(r, dict) and isinstance(r.get("else"), dict)
            and isinstance(r["else"].get("status"), int)}


# --- content type and body ----------------------------------------------------------------------------
def _documented_media(ctx: CheckContext) -> list[str]:
    response = ctx.operation.response_for(ctx.exchange.status or 0)
    return list(response.content) if response is not None else []


def _media_matches(actual: str, documented: str) -> bool:
    if documented in ("*/*", actual):
        return True
    kind, _, sub = documented.partition("/")
    return sub == "*" and actual.startswith(kind + "/")


@check("content_type_conformance", Category.CONTENT_TYPE, applies=_answered)
def content_type_conformance(ctx: CheckContext) -> list[Finding]:
    """The answer is labelled with a documented media type and parses as that type."""
    documented = _documented_media(ctx)
    if not documented or not ctx.exchange.body:
        return []
    actual = ctx.exchange.media_type
    if actual is None:
        return [ctx.finding("content_type_conformance", Category.CONTENT_TYPE, "response has a body but no Content-Type",
                            expected=documented, actual=None)]
    if not any(_media_matches(actual, d) for d in documented):
        return [ctx.finding("content_type_conformance", Category.CONTENT_TYPE,
                            f"Content-Type {actual} is not documented for status {ctx.exchange.status}",
                            expected=documented, actual=actual)]
    if _JSON_MEDIA.match(actual) and ctx.exchange.json() is NOT_JSON:
        sample = (ctx.redactor or Redactor(())).cut(ctx.exchange.body[:65536].decode("utf-8", "replace"), 80)
        return [ctx.finding("content_type_conformance", Category.CONTENT_TYPE,
                            f"body is labelled {actual} but is not valid UTF-8 JSON", expected="JSON", actual=sample)]
    return []


def _category_for(error: Any, status: int) -> Category:
    if status >= 400:
        return Category.ERROR_SHAPE
    if error.validator in ("enum", "const"):
        return Category.ENUM
    if error.validator in ("required", "dependentRequired"):
        return Category.REQUIRED_FIELD
    return Category.FIELD_TYPE


def _pointer(path: Iterable[Any]) -> str:
    return pointer(*path)


def _schema_pointer(ctx: CheckContext) -> str | None:
    response = ctx.operation.response_for(ctx.exchange.status or 0)
    if response is None or not response.content:
        return None
    actual = ctx.exchange.media_type or ""
    media = response.content.get(actual) or next(
        (m for name, m in response.content.items() if _media_matches(actual, name)), None)
    if media is None and len(response.content) == 1:
        media = next(iter(response.content.values()))
    return media.schema_pointer if media is not None else None


def _schema_covers(ctx: CheckContext) -> tuple[Category, ...]:
    if _schema_pointer(ctx) is None:
        return ()
    if (ctx.exchange.status or 0) >= 400:
        return (Category.ERROR_SHAPE,)
    return (Category.FIELD_TYPE, Category.ENUM, Category.REQUIRED_FIELD)


@check("response_schema_conformance", Category.FIELD_TYPE, Category.ENUM, Category.REQUIRED_FIELD, Category.ERROR_SHAPE,
       applies=_answered, covers=_schema_covers)
def response_schema_conformance(ctx: CheckContext) -> list[Finding]:
    """The body validates against the documented schema: types, formats, enums, required fields, error shape."""
    ptr = _schema_pointer(ctx)
    status = ctx.exchange.status or 0
    if ptr is None or status >= 500:
        return []
    body = ctx.exchange.json()
    if body is NOT_JSON:
        if not ctx.exchange.body and status == 204:
            return []
        if not ctx.exchange.body:
            category = Category.ERROR_SHAPE if status >= 400 else Category.REQUIRED_FIELD
            return [ctx.finding("response_schema_conformance", category, f"status {status} answered an empty body; a documented body was expected")]
        return []  # content_type_conformance reports unparseable bodies
    findings = []
    for error in ctx.contract.validate(ptr, body)[:MAX_FINDINGS_PER_CHECK]:
        category = _category_for(error, status)
        where = _pointer(error.absolute_path)
        if error.validator == "required" and "'" in error.message:
            where = f"{where}/{error.message.split(chr(39))[1]}"
        findings.append(ctx.finding(
            "response_schema_conformance", category, f"{where or '/'}: {error.message}",
            pointer=where, expected={error.validator: error.validator_value}, actual=error.instance,
        ))
    return findings


def _write_only(contract: Contract, schema: Any) -> bool:
    from apiconform.contracts import write_only

    return write_only(contract, schema)


def _marks_write_only(contract: Contract) -> bool:
    from apiconform.contracts import marks_write_only

    return marks_write_only(contract)


@check("write_only_absent", Category.FIELD_TYPE,
       applies=lambda ctx: _answered(ctx) and 200 <= (ctx.exchange.status or 0) < 300 and _marks_write_only(ctx.contract),
       covers=lambda ctx: (Category.FIELD_TYPE,) if _schema_pointer(ctx) else ())
def write_only_absent(ctx: CheckContext) -> list[Finding]:
    """Properties the contract marks `writeOnly` (a password, a secret) are not sent back in a success answer
    (OpenAPI: they SHOULD NOT be; a minor finding). A null carries nothing and is not reported."""
    from apiconform.contracts import slots

    ptr = _schema_pointer(ctx)
    body = ctx.exchange.json()
    if ptr is None or body is NOT_JSON:
        return []
    findings = []
    for slot in slots(ctx.contract, body, ctx.contract.at(ptr)):
        if slot.value is not None and _write_only(ctx.contract, slot.schema):
            where = _pointer(slot.path)
            findings.append(ctx.finding("write_only_absent", Category.FIELD_TYPE,
                                        f"{where}: a writeOnly property is sent back in the answer", pointer=where,
                                        expected="absent (writeOnly)", actual=slot.value, severity=Severity.MINOR))
            if len(findings) >= MAX_FINDINGS_PER_CHECK:
                break
    return findings


def _declared_headers(ctx: CheckContext) -> dict[str, Any]:
    response = ctx.operation.response_for(ctx.exchange.status or 0)
    return dict(response.headers) if response is not None else {}


def header_category(name: str, header: Any) -> Category:
    """A header's category: `x-apiconform-category` on the header object, else pagination for `Link`,
    else field-type (a header value is a typed field of the answer)."""
    declared = header.get("x-apiconform-category") if isinstance(header, dict) else None
    if declared:
        return Category.parse(str(declared))
    return Category.PAGINATION if name.lower() == "link" else Category.FIELD_TYPE


def _headers_covers(ctx: CheckContext) -> tuple[Category, ...]:
    return tuple({header_category(n, h) for n, h in _declared_headers(ctx).items()})  # consumed as a set


@check("response_headers_conformance", Category.PAGINATION, Category.FIELD_TYPE,
       applies=lambda ctx: _answered(ctx) and bool(_declared_headers(ctx)), covers=_headers_covers)
def response_headers_conformance(ctx: CheckContext) -> list[Finding]:
    """Documented response headers: present where required, and their values match the header schema
    (e.g. `Link` against its RFC 8288 `pattern`), so a header the contract types is really checked."""
    from apiconform.contracts import coerce

    assert ctx.exchange.response is not None
    findings = []
    for name, header in _declared_headers(ctx).items():
        category = header_category(name, header)
        value = ctx.exchange.response.headers.get(name)
        if value is None:
            if header.get("required"):
                findings.append(ctx.finding("response_headers_conformance", category,
                                            f"required response header {name} is missing", expected=name, actual=None))
            continue
        schema = ctx.contract.resolve(header.get("schema"))
        if not isinstance(schema, dict):
            continue
        validator = ctx.contract.inline_validator(schema)  # jsonschema only to word an invalid value
        for error in list(validator.iter_errors(coerce(ctx.contract, schema, value)))[:1]:
            findings.append(ctx.finding("response_headers_conformance", category,
                                        f"response header {name}: {error.message}", pointer=f"header:{name}",
                                        expected={error.validator: error.validator_value}, actual=value))
    return findings


# --- echoed request fields ---------------------------------------------------------------------
_MISSING = object()


def _request_json(ctx: CheckContext) -> Any:
    content = ctx.exchange.request.content
    if not content:
        return _MISSING
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _MISSING


@check("response_echoes_request", Category.FIELD_TYPE,
       applies=lambda ctx: _answered(ctx) and ctx.expectation == POSITIVE and bool(echo_pairs(ctx.operation))
       and 200 <= (ctx.exchange.status or 0) < 300)
def response_echoes_request(ctx: CheckContext) -> list[Finding]:
    """Fields the contract says the answer echoes (`x-apiconform-echo`) carry exactly what was sent."""
    sent, body = _request_json(ctx), ctx.exchange.json()
    if sent is _MISSING or body is NOT_JSON:
        return []
    findings = []
    for request_ptr, response_ptr in echo_pairs(ctx.operation):
        written, answered = resolve(sent, request_ptr, _MISSING), resolve(body, response_ptr, _MISSING)
        if written is _MISSING or answered is _MISSING or written == answered:
            continue  # a missing answer field is the schema check's business
        findings.append(ctx.finding("response_echoes_request", Category.FIELD_TYPE,
                                    f"{response_ptr}: the answer echoes {answered!r}, the request sent {written!r}",
                                    pointer=response_ptr, expected=written, actual=answered))
    return findings


# --- pagination --------------------------------------------------------------------------------
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')


def _is_list_success(ctx: CheckContext) -> bool:
    return _answered(ctx) and ctx.operation.pagination is not None and 200 <= (ctx.exchange.status or 0) < 300


@check("pagination_conformance", Category.PAGINATION, applies=_is_list_success)
def pagination_conformance(ctx: CheckContext) -> list[Finding]:
    """Lists paginate as documented: page size bounds, Link header, or the count/next/previous envelope."""
    p = ctx.operation.pagination
    if p is None:
        return []
    body = ctx.exchange.json()
    params = dict(ctx.exchange.request.url.params)
    findings: list[Finding] = []

    def fail(message: str, **kw: Any) -> None:
        findings.append(ctx.finding("pagination_conformance", Category.PAGINATION, message, **kw))

    if p.style == "page":
        per_page = _int(params.get(p.per_page_param), p.page_size)
        items = body if isinstance(body, list) else None
        if items is not None and len(items) > per_page:
            fail(f"{len(items)} items on a page of {per_page}", expected=per_page, actual=len(items))
        if p.link_header:
            link = ctx.exchange.response.headers.get("link") if ctx.exchange.response is not None else None
            if link is None:
                fail("Link header is missing from a paginated list", expected='rel="last"', actual=None)
            else:
                rels = {rel: url for url, rel in _LINK.findall(link)}
                if not rels:
                    fail("Link header does not parse as RFC 8288 links", actual=link)
                elif items is not None and len(items) == per_page and "next" not in rels and "last" not in rels:
                    fail("a full page without rel=\"next\" or rel=\"last\" in the Link header", actual=link)
    elif p.style == "offset":
        names = p.names
        if not isinstance(body, dict):
            if body is not NOT_JSON:
                fail("list answer is not the documented pagination envelope object", actual=type(body).__name__)
            return findings
        count_key, results_key = names.count, names.results
        for key in (count_key, results_key, names.next, names.previous):
            if key not in body:
                fail(f"pagination envelope lacks {key!r}", pointer=f"/{key}", expected=key, actual=sorted(body))
        results, count = body.get(results_key), body.get(count_key)
        limit = _int(params.get(p.limit_param), p.page_size)
        if isinstance(results, list) and limit > 0 and len(results) > limit:
            fail(f"{len(results)} results for limit {limit}", expected=limit, actual=len(results))
        if isinstance(results, list) and isinstance(count, int) and not isinstance(count, bool):
            offset = _int(params.get(p.offset_param), 0)
            if 0 <= offset < count and count < offset + len(results):
                fail(f"count {count} is less than the results shown", pointer=f"/{count_key}", actual=count)
    return findings


def _int(value: Any, default: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(default)


def run_checks(ctx: CheckContext, names: Iterable[str] | None = None) -> tuple[list[Finding], list[str], set[Category]]:
    """Run the applicable checks; returns findings, the names that ran, and the categories they covered."""
    findings: list[Finding] = []
    ran: list[str] = []
    covered: set[Category] = set()
    selected = [CHECKS[n] for n in names] if names is not None else list(CHECKS.values())
    for spec in selected:
        if not spec.applies(ctx):
            continue
        ran.append(spec.name)
        covered.update(spec.covers(ctx) if spec.covers is not None else spec.categories)
        findings.extend(spec.fn(ctx))
    return findings, ran, covered
