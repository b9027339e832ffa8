"""Every check and every branch, on hand-built exchanges (no mock, no network): fast, and each case is
one a broken check would get wrong (the mutation run in scripts/mutation.py proves these tests bite)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from apiconform.contracts import Contract, Envelope, MediaSpec, Pagination
from apiconform.engine._session import Exchange, Session, bodiless
from apiconform.engine._targets import Safety, Target
from apiconform.engine.checks import (
    CHECKS,
    MAX_FINDINGS_PER_CHECK,
    NEGATIVE,
    POSITIVE,
    UNAUTHENTICATED,
    CheckContext,
    auth_statuses,
    echo_pairs,
    header_category,
    run_checks,
)
from apiconform.findings import Category, Finding

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def account(eduframe: Contract) -> Any:
    """A documented, valid account (eduframe's example answer of get_account)."""
    return json.loads((eduframe.path.parent / "examples" / "get_account" / "200.json").read_text())


def exchange(contract: Any, op_name: str, status: int | None = 200, body: Any = None, headers: dict[str, str] | None = None,
             url: str = "https://api.test/x", method: str = "GET", sent: Any = None, error: str | None = None,
             raw: bytes | None = None) -> tuple[Any, Exchange]:
    op = contract.operations[op_name]
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    request = httpx.Request(method, url, json=sent) if sent is not None else httpx.Request(method, url)
    response = None if status is None else httpx.Response(status, headers=JSON if headers is None else headers,
                                                          content=content, request=request)
    return op, Exchange(op, request, response, body=content if response is not None else b"", error=error)


def run(contract: Any, op_name: str, *names: str, expectation: str = POSITIVE, **kw: Any) -> list[Finding]:
    op, ex = exchange(contract, op_name, **kw)
    findings, ran, _ = run_checks(CheckContext(contract, op, ex, expectation), names or None)
    assert not names or set(ran) <= set(names)
    return findings


def cats(findings: list[Finding]) -> set[Category]:
    return {f.category for f in findings}


# --- transport and status ------------------------------------------------------------------------------
def test_transport_error_is_a_transport_finding_and_nothing_else_runs(eduframe):
    op, ex = exchange(eduframe, "get_account", status=None, error="timeout: ReadTimeout")
    findings, ran, covered = run_checks(CheckContext(eduframe, op, ex))
    assert ran == ["transport_ok"] and covered == {Category.TRANSPORT}
    assert [(f.category, f.actual) for f in findings] == [(Category.TRANSPORT, "timeout: ReadTimeout")]
    assert findings[0].status is None and findings[0].curl.startswith("curl ")


def test_clean_answer_gives_no_transport_finding(account, eduframe):
    assert run(eduframe, "get_account", "transport_ok", body=account) == []


@pytest.mark.parametrize("status, found", [(500, True), (503, True), (499, False), (200, False)])
def test_server_error_boundary(status, found, eduframe):
    findings = run(eduframe, "get_account", "not_a_server_error", status=status, body={})
    assert bool(findings) is found
    if found:
        assert findings[0].category is Category.SERVER_ERROR and findings[0].actual == status


def test_undocumented_status_is_a_status_finding_with_the_documented_list(eduframe):
    findings = run(eduframe, "get_account", "status_code_documented", status=418, body={})
    assert [f.category for f in findings] == [Category.STATUS_CODE]
    assert findings[0].expected == ["200", "400", "403", "404"] and findings[0].actual == 418
    assert run(eduframe, "get_account", "status_code_documented", status=404, body={}) == []
    assert run(eduframe, "get_account", "status_code_documented", status=502, body={}) == []  # a 5xx is reported once, elsewhere


def test_auth_statuses_follow_the_contract_else_default(eduframe, tesla_ce):
    assert auth_statuses(eduframe.operations["get_account"]) == [403, 404]
    assert auth_statuses(tesla_ce.operations["list_providers"]) == [401, 403]
    assert auth_statuses(tesla_ce.operations["login_approle"]) == [401]


@pytest.mark.parametrize("expectation, op_name, status, category", [
    (NEGATIVE, "get_account", 200, Category.STATUS_CODE),          # invalid request accepted
    (NEGATIVE, "get_account", 399, Category.STATUS_CODE),
    (NEGATIVE, "get_account", 400, None),
    (NEGATIVE, "list_providers", 200, None),                       # documents no validation error: cannot blame
    (UNAUTHENTICATED, "get_account", 200, Category.AUTH),          # no credentials, accepted
    (UNAUTHENTICATED, "get_account", 399, Category.AUTH),
    (UNAUTHENTICATED, "get_account", 400, Category.AUTH),          # refused, but with an undocumented 4xx
    (UNAUTHENTICATED, "get_account", 401, Category.AUTH),          # eduframe documents 403/404, not 401
    (UNAUTHENTICATED, "get_account", 403, None),
    (UNAUTHENTICATED, "get_account", 404, None),
    (UNAUTHENTICATED, "get_account", 500, None),                   # a 5xx is not_a_server_error's
    (POSITIVE, "get_account", 403, Category.AUTH),                 # valid credentials refused
    (POSITIVE, "list_providers", 401, Category.AUTH),
    (POSITIVE, "list_providers", 402, None),
    (POSITIVE, "list_providers", 404, None),
    (POSITIVE, "login_approle", 401, None),                        # no security: a 401 is a documented outcome
    (POSITIVE, "get_account", 200, None),
])
def test_expected_outcome_every_branch(expectation, op_name, status, category, eduframe, tesla_ce):
    contract = eduframe if op_name == "get_account" else tesla_ce
    findings = run(contract, op_name, "expected_outcome", expectation=expectation, status=status, body={})
    assert cats(findings) == ({category} if category else set()), [f.message for f in findings]
    if category is Category.AUTH and expectation == UNAUTHENTICATED and status >= 400:
        assert findings[0].expected == [403, 404] and "documented" in findings[0].message


def test_expected_outcome_covers_auth_only_where_the_operation_is_secured(eduframe, tesla_ce):
    for contract, name, expected in ((eduframe, "get_account", {Category.STATUS_CODE, Category.AUTH}),
                                     (tesla_ce, "login_approle", {Category.STATUS_CODE})):
        op, ex = exchange(contract, name, body={})
        _, _, covered = run_checks(CheckContext(contract, op, ex), ["expected_outcome"])
        assert covered == expected


# --- content type --------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers, raw, message", [
    ({}, b"{}", "no Content-Type"),
    ({"content-type": "text/html"}, b"<html></html>", "not documented"),
    ({"content-type": "application/json"}, b"<html></html>", "not valid UTF-8 JSON"),
    ({"content-type": "application/json"}, b"\xff\xfe{}", "not valid UTF-8 JSON"),
])
def test_content_type_findings(headers, raw, message, eduframe):
    findings = run(eduframe, "get_account", "content_type_conformance", headers=headers, raw=raw)
    assert [f.category for f in findings] == [Category.CONTENT_TYPE] and message in findings[0].message


@pytest.mark.parametrize("vendor, name, status, headers, raw", [
    ("eduframe", "get_account", 200, {"content-type": "application/json; charset=utf-8"}, b"{}"),
    ("ctrlhub", "create_qualification_award", 201, {"content-type": "application/vnd.api+json"}, b"{}"),
    ("eduframe", "get_account", 200, {}, b""),                  # no body: nothing to label
    ("eduframe", "get_account", 418, {"content-type": "text/html"}, b"<p>"),  # undocumented status: nothing documented
    ("tesla-ce", "delete_provider_enrolment", 204, {}, b""),
])
def test_content_type_accepts_what_is_documented(vendor, name, status, headers, raw, contracts):
    assert run(contracts[vendor], name, "content_type_conformance", status=status, headers=headers, raw=raw) == []


def test_media_wildcards_match():
    from apiconform.engine.checks import _media_matches

    assert _media_matches("text/plain", "*/*") and _media_matches("text/plain", "text/*")
    assert not _media_matches("application/json", "text/*") and not _media_matches("text/plainx", "text/plain")


# --- response body schema -----------------------------------------------------------------------------
def test_a_valid_body_passes_and_covers_body_categories(account, eduframe, tesla_ce):
    op, ex = exchange(eduframe, "get_account", body=account)
    findings, _, covered = run_checks(CheckContext(eduframe, op, ex), ["response_schema_conformance"])
    assert findings == [] and covered == {Category.FIELD_TYPE, Category.ENUM, Category.REQUIRED_FIELD}
    op, ex = exchange(eduframe, "get_account", status=404, body={"error": "x"})
    _, _, covered = run_checks(CheckContext(eduframe, op, ex), ["response_schema_conformance"])
    assert covered == {Category.ERROR_SHAPE}
    op, ex = exchange(tesla_ce, "delete_provider_enrolment", status=204)
    _, _, covered = run_checks(CheckContext(tesla_ce, op, ex), ["response_schema_conformance"])
    assert covered == set()  # no documented body: nothing about fields was tested


def test_wrong_type_is_field_type_with_pointer(account, eduframe):
    findings = run(eduframe, "get_account", "response_schema_conformance", body={**account, "name": 5})
    assert [(f.category, f.pointer) for f in findings] == [(Category.FIELD_TYPE, "/name")]
    assert findings[0].expected == {"type": "string"} and findings[0].actual == 5


def test_missing_required_field_names_the_field(eduframe):
    findings = run(eduframe, "get_account", "response_schema_conformance", body={"id": 1})
    assert (Category.REQUIRED_FIELD, "/name") in {(f.category, f.pointer) for f in findings}


def test_enum_violation_is_an_enum_finding(account, eduframe):
    findings = run(eduframe, "get_account", "response_schema_conformance", body={**account, "account_type": "business_v2"})
    assert [(f.category, f.pointer) for f in findings] == [(Category.ENUM, "/account_type")]


def test_error_bodies_are_error_shape_and_empty_bodies_are_findings(eduframe):
    assert cats(run(eduframe, "get_account", "response_schema_conformance", status=404, body=[1])) == {Category.ERROR_SHAPE}
    assert cats(run(eduframe, "get_account", "response_schema_conformance", status=404, raw=b"")) == {Category.ERROR_SHAPE}
    assert cats(run(eduframe, "get_account", "response_schema_conformance", status=200, raw=b"")) == {Category.REQUIRED_FIELD}
    assert run(eduframe, "get_account", "response_schema_conformance", status=200, raw=b"not json") == []
    assert run(eduframe, "get_account", "response_schema_conformance", status=500, body=[1]) == []
    assert run(eduframe, "get_account", "response_schema_conformance", status=418, body=[1]) == []  # undocumented status


def test_schema_findings_are_capped_per_check(eduframe):
    items = [{"id": "x", "name": 1} for _ in range(30)]
    findings = run(eduframe, "list_accounts", "response_schema_conformance", body=items)
    assert len(findings) == MAX_FINDINGS_PER_CHECK


# --- headers (Link pattern, required) ----------------------------------------------------------------
LINK = '<https://api.test/accounts?page=2&per_page=25>; rel="next", <https://api.test/accounts?page=4>; rel="last"'


def test_a_link_header_that_is_not_links_is_a_pagination_finding(eduframe):
    findings = run(eduframe, "list_accounts", "response_headers_conformance", body=[], headers={**JSON, "link": "velit amet"})
    assert [(f.category, f.pointer) for f in findings] == [(Category.PAGINATION, "header:Link")]
    assert run(eduframe, "list_accounts", "response_headers_conformance", body=[], headers={**JSON, "link": LINK}) == []


def test_link_is_checked_on_operations_without_pagination_extension(eduframe):
    op = eduframe.operations["list_user_authentications"]
    assert op.pagination is None and "Link" in op.responses["200"].headers
    findings = run(eduframe, "list_user_authentications", "response_headers_conformance", body=[],
                   headers={**JSON, "link": "velit amet"})
    assert cats(findings) == {Category.PAGINATION}


def test_header_category_and_required_headers(eduframe):
    assert header_category("Link", {}) is Category.PAGINATION
    assert header_category("X-Rate", {}) is Category.FIELD_TYPE
    assert header_category("X-Rate", {"x-apiconform-category": "pagination"}) is Category.PAGINATION
    from apiconform.engine.checks import response_headers_conformance

    op, ex = exchange(eduframe, "list_accounts", body=[])
    required = {"Link": {"required": True, "schema": {"type": "string"}}, "X-Total": {"schema": {"type": "integer"}}}
    object.__setattr__(op.responses["200"], "headers", required)
    try:
        findings = response_headers_conformance(CheckContext(eduframe, op, ex))
        assert [f.message for f in findings] == ["required response header Link is missing"]
        ex.response.headers["X-Total"] = "many"
        ex.response.headers["Link"] = LINK
        findings = response_headers_conformance(CheckContext(eduframe, op, ex))
        assert [(f.category, f.pointer) for f in findings] == [(Category.FIELD_TYPE, "header:X-Total")]
        ex.response.headers["X-Total"] = "12"
        assert response_headers_conformance(CheckContext(eduframe, op, ex)) == []
    finally:
        object.__setattr__(op.responses["200"], "headers", eduframe.operations["list_user_authentications"].responses["200"].headers)


# --- pagination ----------------------------------------------------------------------------------------
@pytest.fixture
def page(account, eduframe):
    def page(n: int, link: str | None = LINK, url: str = "https://api.test/accounts") -> list[Finding]:
        headers = {**JSON, **({"link": link} if link is not None else {})}
        return run(eduframe, "list_accounts", "pagination_conformance", body=[account] * n, headers=headers, url=url)

    return page


def test_page_size_bound_default_and_param(page):
    assert page(25) == []
    over = page(26)
    assert [f.expected for f in over] == [25] and over[0].actual == 26
    assert page(10, url="https://api.test/accounts?per_page=10") == []
    assert [f.actual for f in page(11, url="https://api.test/accounts?per_page=10")] == [11]
    assert page(26, url="https://api.test/accounts?per_page=abc")  # unparseable: the default bound holds


def test_link_header_missing_unparseable_and_full_page_without_next(page):
    assert "missing" in page(3, link=None)[0].message
    assert "RFC 8288" in page(3, link="velit amet")[0].message
    assert "full page" in page(25, link='<https://api.test/accounts?page=1>; rel="prev"')[0].message
    assert page(24, link='<https://api.test/accounts?page=1>; rel="prev"') == []  # the last page
    assert page(25, link='<https://api.test/accounts?page=4>; rel="last"') == []


@pytest.fixture
def envelope(tesla_ce):
    def envelope(body: Any, url: str = "https://api.test/api/v2/provider/") -> list[Finding]:
        return run(tesla_ce, "list_providers", "pagination_conformance", body=body, url=url)

    return envelope


def test_offset_envelope_keys_are_checked(tesla_ce, envelope):
    assert envelope({"count": 0, "next": None, "previous": None, "results": []}) == []
    missing = envelope({"count": 0, "results": []})
    assert sorted(f.pointer for f in missing) == ["/next", "/previous"]
    assert [f.pointer for f in envelope({"next": None, "previous": None, "results": []})] == ["/count"]
    assert [f.pointer for f in envelope({"count": 0, "next": None, "previous": None})] == ["/results"]
    assert "envelope object" in envelope([])[0].message
    assert run(tesla_ce, "list_providers", "pagination_conformance", raw=b"<html>") == []


def test_offset_limit_bound_and_count(envelope):
    rows = [{"id": i} for i in range(3)]
    ok = {"count": 3, "next": None, "previous": None, "results": rows}
    assert envelope(ok, url="https://api.test/api/v2/provider/?limit=3") == []
    over = envelope(ok, url="https://api.test/api/v2/provider/?limit=2")
    assert [(f.expected, f.actual) for f in over] == [(2, 3)]
    assert envelope({**ok, "results": [{"id": 0}] * 101}) != []  # default limit 100
    assert envelope({**ok, "results": [{"id": 0}] * 100, "count": 100}) == []
    assert envelope(ok, url="https://api.test/api/v2/provider/?limit=0") == []  # limit 0: no bound to hold
    low = envelope({**ok, "count": 2})
    assert [f.pointer for f in low] == ["/count"] and low[0].actual == 2
    assert envelope({**ok, "count": 4}, url="https://api.test/api/v2/provider/?offset=1") == []
    assert envelope({**ok, "count": 3}, url="https://api.test/api/v2/provider/?offset=1") != []
    assert envelope({**ok, "count": 3}, url="https://api.test/api/v2/provider/?offset=3") == []  # past the end
    assert envelope({**ok, "count": True}) == []  # a bool count is the schema check's business


def test_declared_envelope_and_parameter_names_are_the_ones_checked(tesla_ce):
    """The check reads the typed record: a renamed envelope member or limit parameter is what it looks for."""
    rows = [{"id": i} for i in range(3)]
    body = {"total": 3, "next": None, "previous": None, "data": rows}
    op, ex = exchange(tesla_ce, "list_providers", body=body, url="https://api.test/api/v2/provider/?size=2")
    renamed = replace(op, pagination=Pagination(style="offset", limit_param="size",
                                                envelope=Envelope(count="total", results="data")))
    findings, _, _ = run_checks(CheckContext(tesla_ce, renamed, ex), ["pagination_conformance"])
    assert [(f.expected, f.actual) for f in findings] == [(2, 3)]
    findings, _, _ = run_checks(CheckContext(tesla_ce, op, ex), ["pagination_conformance"])  # the declared defaults
    assert sorted(f.pointer for f in findings) == ["/count", "/results"]


def test_pagination_applies_only_to_successful_lists(account, eduframe):
    op, ex = exchange(eduframe, "list_accounts", status=400, body={})
    _, ran, _ = run_checks(CheckContext(eduframe, op, ex))
    assert "pagination_conformance" not in ran
    op, ex = exchange(eduframe, "get_account", body=account)
    _, ran, _ = run_checks(CheckContext(eduframe, op, ex))
    assert "pagination_conformance" not in ran and "response_headers_conformance" not in ran


# --- echoed request fields --------------------------------------------------------------------------------
@pytest.fixture
def award(ctrlhub):
    def award(sent_type: str, answered_type: str) -> list[Finding]:
        body = {"data": {"type": answered_type}}
        return run(ctrlhub, "create_qualification_award", "response_echoes_request", status=201, body=body,
                   method="POST", sent={"data": {"type": sent_type}}, headers={"content-type": "application/vnd.api+json"})

    return award


def test_echoed_value_must_equal_what_was_sent(ctrlhub, award):
    assert echo_pairs(ctrlhub.operations["create_qualification_award"]) == [("/data/type", "/data/type")]
    findings = award("none", "NONE")
    assert [(f.category, f.pointer, f.expected, f.actual) for f in findings] == [
        (Category.FIELD_TYPE, "/data/type", "none", "NONE")]
    assert award("none", "none") == []


def test_echo_check_needs_a_positive_success_with_both_values(ctrlhub, eduframe):
    assert run(ctrlhub, "create_qualification_award", "response_echoes_request", status=201, body={"data": {}},
               method="POST", sent={"data": {"type": "x"}}) == []
    op, ex = exchange(ctrlhub, "create_qualification_award", status=400, body={"data": {"type": "Y"}}, method="POST",
                      sent={"data": {"type": "x"}})
    assert CHECKS["response_echoes_request"].applies(CheckContext(ctrlhub, op, ex)) is False
    op, ex = exchange(ctrlhub, "create_qualification_award", status=201, body={"data": {"type": "Y"}}, method="POST",
                      sent={"data": {"type": "x"}})
    assert CHECKS["response_echoes_request"].applies(CheckContext(ctrlhub, op, ex, NEGATIVE)) is False
    assert CHECKS["response_echoes_request"].applies(CheckContext(ctrlhub, op, ex)) is True
    op, ex = exchange(ctrlhub, "create_qualification_award", status=201, raw=b"{}", method="POST")
    assert CHECKS["response_echoes_request"].fn(CheckContext(ctrlhub, op, ex)) == []  # nothing sent
    assert echo_pairs(eduframe.operations["create_teacher"]) == []


def test_echo_pairs_accept_mappings(ctrlhub):
    from dataclasses import replace

    op = replace(ctrlhub.operations["create_qualification_award"],
                 definition={"x-apiconform-echo": ["/a", {"request": "/b", "response": "/data/b"}, {"request": "/c"}, 3]})
    assert echo_pairs(op) == [("/a", "/a"), ("/b", "/data/b")]


# --- the runner: selection and coverage -----------------------------------------------------------------
def test_run_checks_selects_by_name_and_reports_coverage(account, eduframe):
    op, ex = exchange(eduframe, "get_account", body=account)
    findings, ran, covered = run_checks(CheckContext(eduframe, op, ex), ["not_a_server_error", "transport_ok"])
    assert ran == ["not_a_server_error", "transport_ok"] and findings == []
    assert covered == {Category.SERVER_ERROR, Category.TRANSPORT}


def test_findings_carry_severity_and_redacted_repro(eduframe):
    from apiconform.redact import Redactor

    op = eduframe.operations["get_account"]
    request = httpx.Request("GET", "https://api.test/accounts/1", headers={"Authorization": "Bearer s3cr3t-token-value"})
    ex = Exchange(op, request, httpx.Response(500, content=b"", request=request))
    findings, _, _ = run_checks(CheckContext(eduframe, op, ex, POSITIVE, Redactor(["s3cr3t-token-value"])), ["not_a_server_error"])
    assert findings[0].severity.value == "blocker" and "s3cr3t" not in findings[0].curl


def test_long_values_are_shortened_in_findings(account, eduframe):
    findings = run(eduframe, "get_account", "response_schema_conformance", body={**account, "name": ["x" * 500]})
    assert findings and len(str(findings[0].actual)) <= 301 + 3


# --- bodiless answers: no truncation verdict ------------------------------------------------------------
def test_a_findings_curl_is_made_once_in_the_form_the_context_gives(eduframe):
    op, ex = exchange(eduframe, "get_account", status=418, body={})
    plain, _, _ = run_checks(CheckContext(eduframe, op, ex), ["status_code_documented"])
    made, _, _ = run_checks(CheckContext(eduframe, op, ex, reproduce=lambda curl: f"start the mock &\n{curl}"),
                            ["status_code_documented"])
    assert plain and [f.curl for f in made] == [f"start the mock &\n{f.curl}" for f in plain]
    assert plain[0].curl.startswith("curl ")


def test_bodiless_statuses():
    assert bodiless("HEAD", 200) and bodiless("GET", 204) and bodiless("GET", 304) and bodiless("get", 101)
    assert not bodiless("GET", 200) and not bodiless("DELETE", 205)


class _NoContent:
    """A faithful server's 204 that still carries Content-Length (allowed: the length is not of a body)."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": [(b"content-length", b"12")]})
        await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize("status, truncated", [(204, False), (304, False), (200, True)])
def test_content_length_on_204_is_not_truncation(status, truncated, tesla_ce):
    target = Target(vendor="tesla-ce", contract=tesla_ce, base_url="http://mock", kind="mock", credentials={},
                    safety=Safety(), app=_NoContent(status))
    session = Session(target)
    op = tesla_ce.operations["delete_provider_enrolment"]
    ex = session.send(op, httpx.Request("DELETE", "http://mock/api/v2/provider/1/enrolment/x/"), auth="none")
    assert (ex.error is not None and "truncated" in ex.error) is truncated, ex.error
    if not truncated and status == 204:
        findings, _, _ = run_checks(CheckContext(tesla_ce, op, ex))
        assert [f for f in findings if f.category is not Category.AUTH] == []


# --- details the mutation run showed untested --------------------------------------------------------
def test_the_registry_holds_every_check_with_its_categories():
    assert list(CHECKS) == ["transport_ok", "not_a_server_error", "status_code_documented", "expected_outcome",
                            "valid_request_accepted", "content_type_conformance", "response_schema_conformance",
                            "write_only_absent", "response_headers_conformance", "response_echoes_request",
                            "pagination_conformance"]
    assert all(spec.name == name and spec.categories and callable(spec.fn) for name, spec in CHECKS.items())
    assert CHECKS["transport_ok"].covers is None and CHECKS["transport_ok"].applies(None) is True


def test_a_finding_carries_who_what_where_and_a_full_repro(ctrlhub):
    op = ctrlhub.operations["create_qualification_award"]
    request = httpx.Request("POST", "https://api.test/v3/qualification-awards", content=b'{"a": "\xff"}',
                            headers={"X-Trace": "t1"})
    ex = Exchange(op, request, httpx.Response(418, content=b"", request=request))
    f = CheckContext(ctrlhub, op, ex).finding("some_check", Category.STATUS_CODE, "m")
    assert (f.vendor, f.operation, f.check, f.status, f.pointer, f.expected, f.actual) == (
        "ctrlhub", "create_qualification_award", "some_check", 418, "", None, None)
    assert "https://api.test/v3/qualification-awards" in f.curl and "x-trace: t1" in f.curl
    assert '{"a": "\ufffd"}' in f.curl  # a non-UTF-8 body is shown, not a crash
    request = httpx.Request("GET", "https://api.test/v3/x")
    ex = Exchange(op, request, httpx.Response(200, request=request))
    assert "--data" not in CheckContext(ctrlhub, op, ex).curl()


def test_short_keeps_exactly_the_limit():
    from apiconform.engine.checks import _short

    assert _short("x" * 300) == "x" * 300 and _short("x" * 301) == "x" * 300 + "…"
    assert _short([1, 2]) == [1, 2] and _short(5) == 5 and _short(None) is None
    long = _short(list(range(500)))  # cut, but still an array: a root cause says "answered as array"
    assert isinstance(long, list) and 0 < len(long) < 500 and isinstance(_short({str(i): i for i in range(500)}), dict)


def test_root_cause_labels_name_real_types_and_statuses():
    from apiconform.engine.checks import _short
    from apiconform.findings import Finding
    from apiconform.report._groups import change_kind

    def finding(category, message, expected, actual):
        return Finding(vendor="v", operation="op", check="c", category=category, message=message,
                       expected=expected, actual=actual)

    arr = finding(Category.FIELD_TYPE, "/name: not a string", {"type": ["string", "null"]}, _short(["a" * 200] * 5))
    assert change_kind(arr) == "string/null answered as array"
    cut = finding(Category.FIELD_TYPE, "/name: not a string", {"type": "string"}, "['aaaa', 'bb…")  # an old record
    assert change_kind(cut) == "string answered as array"
    status = finding(Category.STATUS_CODE, "status 404 is not documented for op", ["200"], 404)
    assert change_kind(status) == "status 404 is not documented for the operation"
    server = finding(Category.SERVER_ERROR, "server error 500", "< 500", 500)
    assert change_kind(server) == "server error 500"


def test_an_exchange_without_answer_or_error_runs_no_answer_check(eduframe):
    op = eduframe.operations["get_account"]
    ex = Exchange(op, httpx.Request("GET", "https://api.test/accounts/1"))
    findings, ran, _ = run_checks(CheckContext(eduframe, op, ex))
    assert ran == ["transport_ok"] and findings == []


def test_auth_statuses_default_when_the_contract_documents_none(eduframe):
    op = replace(eduframe.operations["get_account"], responses={"200": eduframe.operations["get_account"].responses["200"]})
    assert auth_statuses(op) == [401, 403]


def test_category_of_schema_errors():
    from types import SimpleNamespace

    from apiconform.engine.checks import _category_for

    def cat(validator: str, status: int) -> Category:
        return _category_for(SimpleNamespace(validator=validator), status)

    assert cat("type", 400) is Category.ERROR_SHAPE and cat("enum", 399) is Category.ENUM
    assert cat("const", 200) is Category.ENUM and cat("dependentRequired", 200) is Category.REQUIRED_FIELD
    assert cat("required", 200) is Category.REQUIRED_FIELD and cat("minimum", 200) is Category.FIELD_TYPE


def test_pointer_escapes_per_rfc_6901():
    from apiconform.engine.checks import _pointer

    assert _pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0" and _pointer([]) == ""


def test_a_400_answer_covers_the_error_shape(eduframe):
    op, ex = exchange(eduframe, "get_account", status=400, body={})
    _, _, covered = run_checks(CheckContext(eduframe, op, ex), ["response_schema_conformance"])
    assert covered == {Category.ERROR_SHAPE}


def test_selection_skips_checks_that_do_not_apply_and_goes_on(account, eduframe):
    op, ex = exchange(eduframe, "get_account", body=account)
    _, ran, _ = run_checks(CheckContext(eduframe, op, ex), ["pagination_conformance", "transport_ok"])
    assert ran == ["transport_ok"]


def test_pagination_applies_up_to_299_only(eduframe):
    for status, applies in ((299, True), (300, False), (199, False), (200, True)):
        op, ex = exchange(eduframe, "list_accounts", status=status, body=[])
        assert CHECKS["pagination_conformance"].applies(CheckContext(eduframe, op, ex)) is applies, status


def test_echo_pointers_unescape_and_index_lists(ctrlhub):
    from dataclasses import replace as _replace

    op = _replace(ctrlhub.operations["create_qualification_award"],
                  definition={"x-apiconform-echo": ["/a~1b/c~0d", "/items/1", "/items/2", "/items/5"]})
    sent = {"a/b": {"c~d": "x"}, "items": ["p", "q"]}

    def echoed(answer: Any) -> list[str]:
        request = httpx.Request("POST", "https://api.test/v3/x", json=sent)
        ex = Exchange(op, request, httpx.Response(201, json=answer, request=request), body=json.dumps(answer).encode())
        return [f.pointer for f in CHECKS["response_echoes_request"].fn(CheckContext(ctrlhub, op, ex))]

    assert echoed(sent) == []
    assert echoed({"a/b": {"c~d": "X"}, "items": ["p", "Q"]}) == ["/a~1b/c~0d", "/items/1"]
    assert echoed({"a/b": {"c~d": "x"}, "items": "pQ"}) == []  # not a list: nothing echoed there


@pytest.fixture
def _multi_media_op(eduframe):
    def _multi_media_op(content: dict[str, Any]) -> Any:
        base = eduframe.operations["get_account"]
        response = replace(base.responses["200"], content=content)
        return replace(base, responses={**base.responses, "200": response})

    return _multi_media_op


def test_schema_is_chosen_by_the_answers_media_type(eduframe, _multi_media_op):
    from apiconform.engine.checks import _schema_pointer

    json_media = eduframe.operations["get_account"].responses["200"].content["application/json"]
    text = MediaSpec("text/*", "/components/schemas/Error", {})
    op = _multi_media_op({"application/json": json_media, "text/*": text})

    def chosen(content_type: str | None) -> Any:
        headers = {"content-type": content_type} if content_type else {}
        request = httpx.Request("GET", "https://api.test/accounts/1")
        ex = Exchange(op, request, httpx.Response(200, headers=headers, content=b"{}", request=request), body=b"{}")
        return _schema_pointer(CheckContext(eduframe, op, ex))

    assert chosen("application/json") == json_media.schema_pointer
    assert chosen("text/csv") == "/components/schemas/Error"
    assert chosen("image/png") is None and chosen(None) is None
    single = _multi_media_op({"application/json": json_media})
    request = httpx.Request("GET", "https://api.test/accounts/1")
    ex = Exchange(single, request, httpx.Response(200, headers={"content-type": "text/html"}, request=request))
    assert _schema_pointer(CheckContext(eduframe, single, ex)) == json_media.schema_pointer  # the only one documented
    empty = _multi_media_op({})
    ex = Exchange(empty, request, httpx.Response(200, request=request))
    assert _schema_pointer(CheckContext(eduframe, empty, ex)) is None
    op404 = eduframe.operations["get_account"]
    ex = Exchange(op404, request, httpx.Response(418, request=request))
    assert _schema_pointer(CheckContext(eduframe, op404, ex)) is None


def test_headers_covered_are_those_declared_for_the_status(eduframe):
    from apiconform.engine.checks import _headers_covers

    op, ex = exchange(eduframe, "list_accounts", body=[])
    assert _headers_covers(CheckContext(eduframe, op, ex)) == (Category.PAGINATION,)
    headers = {"X-Total": {"schema": {"type": "integer"}}, "X-Page": {"x-apiconform-category": "pagination"}}
    custom = replace(op, responses={"200": replace(op.responses["200"], headers=headers)})
    assert set(_headers_covers(CheckContext(eduframe, custom, ex))) == {Category.FIELD_TYPE, Category.PAGINATION}
    op, ex = exchange(eduframe, "list_accounts", status=418, body=[])
    assert _headers_covers(CheckContext(eduframe, op, ex)) == ()
    assert header_category("Link", "not a mapping") is Category.PAGINATION


# --- a valid request refused as malformed; writeOnly properties sent back ------------------------------------
def _shelf(tmp_path: Any) -> Contract:
    from apiconform.contracts import load_contract

    error = {"type": "object", "properties": {"message": {"type": "string"}, "details": {"type": "array"}}}
    book = {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                             "secret": {"anyOf": [{"type": "string", "writeOnly": True}, {"type": "null"}]}}}
    doc = {"openapi": "3.1.0", "info": {"title": "shelf", "version": "1"}, "paths": {"/books": {"get": {
        "operationId": "list_books", "parameters": [
            {"name": "If-Match", "in": "header", "schema": {"type": "string", "pattern": '^"[0-9]+"$|\\*'}},
            {"name": "token", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
        "responses": {"200": {"description": "books", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"data": {"type": "array", "items": book}}}}}},
            "400": {"description": "bad", "content": {"application/json": {"schema": error}}}}}}}}
    (tmp_path / "shelf").mkdir()
    (tmp_path / "shelf" / "openapi.json").write_text(json.dumps(doc))
    return load_contract(tmp_path / "shelf" / "openapi.json")


def _refused(contract: Contract, url: str, headers: dict[str, str], answer: Any, status: int = 400,
             expectation: str = POSITIVE) -> list[Finding]:
    op = contract.operations["list_books"]
    request = httpx.Request("GET", url, headers=headers)
    content = json.dumps(answer).encode()
    response = httpx.Response(status, headers=JSON, content=content, request=request)
    findings, _, _ = run_checks(CheckContext(contract, op, Exchange(op, request, response, body=content), expectation),
                                ["valid_request_accepted"])
    return findings


def test_a_valid_value_refused_as_malformed_is_reported_when_the_vendor_names_it(tmp_path):
    """Kinto's If-Match: '*abc' fits the description's pattern (a search), the server refuses it with 400 naming it."""
    shelf = _shelf(tmp_path)
    named = {"message": "headers.If-Match: The value should be integer between double quotes.",
             "details": [{"location": "headers", "name": "If-Match"}]}
    found = _refused(shelf, "https://api.test/books", {"If-Match": "*abc"}, named)
    assert [(f.check, f.category, f.pointer, f.actual) for f in found] == [
        ("valid_request_accepted", Category.STATUS_CODE, "/header/If-Match", "*abc")]
    assert "valid request refused with 400" in found[0].message
    # FastAPI's shape names it in `loc`: a bound the vendor enforces below the documented one
    fastapi = {"detail": [{"loc": ["query", "limit"], "msg": "less than or equal to 50"}]}
    assert [f.pointer for f in _refused(shelf, "https://api.test/books?limit=80", {}, fastapi, 422)] == ["/query/limit"]


@pytest.mark.parametrize("case", ["unnamed", "free-form", "state", "negative", "accepted"])
def test_a_refusal_is_not_blamed_on_the_vendor_without_proof(tmp_path, case):
    shelf = _shelf(tmp_path)
    named = {"message": "If-Match is wrong", "details": []}
    url, headers, answer, status, expectation = "https://api.test/books", {"If-Match": "*abc"}, named, 400, POSITIVE
    if case == "unnamed":  # the error does not say what it refused
        answer = {"message": "bad request"}
    elif case == "free-form":  # a token it did not issue: a plain string claims no form
        url, headers, answer = "https://api.test/books?token=zz", {}, {"message": "token has invalid content"}
    elif case == "state":  # 409/412 and friends depend on the record, not on the form
        status = 412
    elif case == "negative":  # a request apiconform knows is invalid
        expectation = NEGATIVE
    else:
        status = 200
    assert _refused(shelf, url, headers, answer, status, expectation) == []


def test_write_only_properties_sent_back_are_a_minor_finding(tmp_path):
    shelf = _shelf(tmp_path)
    op = shelf.operations["list_books"]
    request = httpx.Request("GET", "https://api.test/books")

    def check(body: Any) -> list[Finding]:
        content = json.dumps(body).encode()
        response = httpx.Response(200, headers=JSON, content=content, request=request)
        return run_checks(CheckContext(shelf, op, Exchange(op, request, response, body=content)), ["write_only_absent"])[0]

    found = check({"data": [{"id": "1", "title": "t", "secret": "**********"}]})
    assert [(f.pointer, f.severity.value, f.category) for f in found] == [("/data/0/secret", "minor", Category.FIELD_TYPE)]
    assert check({"data": [{"id": "1", "title": "t", "secret": None}]}) == []
    assert check({"data": [{"id": "1", "title": "t"}]}) == []
