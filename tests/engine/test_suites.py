"""The suite engine against the embedded mocks: faithful mocks pass, every drift is caught in the right
category and operation, negative testing blames no valid request, and HTTP gives the in-process verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from apiconform.engine.checks import NEGATIVE, POSITIVE
from apiconform.engine._session import Session
from apiconform.findings import Category
from apiconform.mock import DRIFTS, MockServer, Reply
from apiconform.engine._discovery import Discovery
from apiconform.engine._generate import st_operation
from apiconform.engine._judge import judge
from apiconform.engine._request import build_request
from apiconform.engine._suites import run_auth, run_idempotency, run_negative, run_properties
from apiconform.engine._stateful import run_lifecycle
from apiconform.engine._targets import http_target, mock_target

SEED = 1234


def _session(vendor: str, drifts: tuple = (), faults: tuple = ()) -> tuple[Session, Discovery]:
    session = Session(mock_target(vendor, drifts=drifts, faults=faults, seed=SEED))
    return session, Discovery(session)


def _verdict(recorder) -> set[tuple[str, str, str]]:
    return {(f.operation, f.check, f.category.value) for f in recorder.findings.values()}


# Which operation shows each drift, and the category a correct gate must report for it.
DRIFT_CASES = {
    "enum-value-changed": ("goodstack", "create_eligibility_subscription", "properties", Category.ENUM),
    "field-type-changed": ("goodstack", "create_eligibility_subscription", "properties", Category.FIELD_TYPE),
    "required-field-dropped": ("tesla-ce", "read_provider", "properties", Category.REQUIRED_FIELD),
    "field-renamed": ("goodstack", "create_eligibility_subscription", "properties", Category.REQUIRED_FIELD),
    "null-not-allowed": ("tesla-ce", "list_provider_enrolments", "properties", Category.FIELD_TYPE),  # list_providers: 403
    "error-shape-changed": ("goodstack", "create_eligibility_subscription", "negative", Category.ERROR_SHAPE),
    "status-code-changed": ("eduframe", "list_accounts", "properties", Category.STATUS_CODE),
    "content-type-changed": ("ctrlhub", "create_qualification_award", "properties", Category.CONTENT_TYPE),
    "pagination-header-missing": ("eduframe", "list_accounts", "properties", Category.PAGINATION),
    "echo-value-changed": ("ctrlhub", "create_qualification_award", "properties", Category.FIELD_TYPE),
}


def _run(suite: str, session: Session, discovery: Discovery, op):
    if suite == "negative":
        return run_negative(session, op, 6, SEED, discovery)
    return run_properties(session, op, 6, SEED, discovery)


def test_every_drift_has_a_detection_case():
    from tests.mock.test_login_drift import CASES as LOGIN_CASES  # login drifts: judged on the login operation there

    assert set(DRIFT_CASES) | set(LOGIN_CASES) == set(DRIFTS)
    assert {name for name, spec in DRIFTS.items() if spec.login} == set(LOGIN_CASES)


@pytest.mark.parametrize("drift", sorted(DRIFT_CASES))
def test_drift_is_detected_in_its_category_and_operation(drift):
    vendor, operation, suite, category = DRIFT_CASES[drift]
    faithful, discovery = _session(vendor)
    op = faithful.target.contract.operations[operation]
    assert not _run(suite, faithful, discovery, op).findings, "the faithful mock must pass first"

    drifted, discovery = _session(vendor, drifts=(drift,))
    findings = list(_run(suite, drifted, discovery, op).findings.values())
    assert findings, f"drift {drift} went unnoticed"
    assert category in {f.category for f in findings}, [f.message for f in findings]
    assert all(f.operation == operation and f.vendor == vendor for f in findings)
    assert DRIFTS[drift].category is category


def test_findings_carry_a_redacted_reproduction():
    session, discovery = _session("goodstack", drifts=("enum-value-changed",))
    op = session.target.contract.operations["create_eligibility_subscription"]
    recorder = run_properties(session, op, 3, SEED, discovery)
    finding = next(iter(recorder.findings.values()))
    # made once, in its final form, when the finding was: the standalone mock, then the curl against it
    mock_line, curl = finding.curl.split("\n")[:2]
    assert mock_line.startswith("apiconform mock goodstack ") and curl.startswith("curl ")
    assert recorder.result().findings == list(recorder.findings.values())  # the case result edits no finding
    assert session.target.credentials["api_key"] not in finding.curl
    assert "[REDACTED]" in finding.curl
    assert finding.pointer.startswith("/data/")


@pytest.mark.parametrize("vendor", ["goodstack", "cofe-cms", "ctrlhub", "tesla-ce"])
def test_faithful_mocks_give_no_negative_false_positives(vendor):
    session, discovery = _session(vendor)
    for op in session.target.contract:
        recorder = run_negative(session, op, 5, SEED, discovery)
        assert not recorder.findings, [f.message for f in recorder.findings.values()]
        assert not run_auth(session, op, SEED, discovery).findings
        assert not run_idempotency(session, op, SEED, discovery).findings


def test_a_generated_negative_case_that_is_valid_is_judged_valid(monkeypatch):
    """schemathesis' negative mode (what draws an operation the compiled mutations cannot) can produce requests the
    contract accepts (e.g. an open object with one more property); such a case must be checked as valid, never
    reported as accepted. The compiled mutations keep only cases the contract refuses: none is reclassified."""
    from apiconform.engine import _compiled, _sampled

    session, discovery = _session("goodstack")
    op = session.target.contract.operations["create_eligibility_subscription"]
    compiled = run_negative(session, op, 25, SEED, discovery)
    assert compiled.requests and compiled.reclassified == 0 and not compiled.findings

    def unsupported(*args, **kwargs):
        raise _compiled.Unsupported("test: schemathesis draws the negative cases")

    monkeypatch.setattr(_sampled, "negative_sampler", unsupported)
    monkeypatch.setenv("APICONFORM_CACHE", "off")
    session, discovery = _session("goodstack")
    recorder = run_negative(session, op, 25, SEED, discovery)
    assert recorder.reclassified > 0
    assert not recorder.findings


def test_negative_check_fails_when_the_api_accepts_invalid_input():
    def accept_everything(op, reply: Reply, request, ctx) -> Reply:
        if 400 <= reply.status < 500:
            ptr = ctx.response_schema(op, 200)
            return Reply(200, ctx.synth.value(ctx.contract.at(ptr)))
        return reply

    session, discovery = _session("goodstack", drifts=(accept_everything,))
    op = session.target.contract.operations["create_eligibility_subscription"]
    findings = run_negative(session, op, 10, SEED, discovery).findings.values()
    assert any(f.check == "expected_outcome" and f.category is Category.STATUS_CODE for f in findings)


def test_auth_check_fails_when_credentials_are_not_enforced():
    def no_auth(op, reply: Reply, request, ctx) -> Reply:
        if reply.status in (401, 403):
            return Reply(201, ctx.synth.value(ctx.contract.at(ctx.response_schema(op, 201))))
        return reply

    session, discovery = _session("ctrlhub", drifts=(no_auth,))
    op = session.target.contract.operations["create_qualification_award"]
    findings = list(run_auth(session, op, SEED, discovery).findings.values())
    assert findings and all(f.category is Category.AUTH for f in findings)


def test_judge_uses_the_contract_not_the_generation_mode():
    session, _ = _session("goodstack")
    op = session.target.contract.operations["create_eligibility_subscription"]
    import random

    import httpx

    base = session.target.base_url + "/v1/eligibility-subscriptions"
    valid = httpx.Request("POST", base, json={"organisationId": "organisation_x"})
    invalid = httpx.Request("POST", base, json={"organisationId": 5})
    assert judge(session.target.contract, op, valid) == POSITIVE
    assert judge(session.target.contract, op, invalid) == NEGATIVE
    assert st_operation(session.target.contract, op) is not None
    assert build_request is not None and random is not None


@pytest.mark.parametrize("resource", ["accounts", "leads"])
def test_eduframe_lifecycles_pass_on_the_faithful_mock(resource):
    session, discovery = _session("eduframe")
    recorder = run_lifecycle(session, discovery, resource, SEED)
    assert not recorder.skipped and recorder.requests >= 3  # create, read back, list
    assert not recorder.findings, [f.message for f in recorder.findings.values()]


def test_lifecycle_notices_a_record_that_does_not_read_back():
    def forgetful(op, reply: Reply, request, ctx) -> Reply:
        if op.action == "read" and isinstance(reply.body, dict) and "name" in reply.body:
            reply.body["name"] = "someone else"
        return reply

    session, discovery = _session("eduframe", drifts=(forgetful,))
    findings = list(run_lifecycle(session, discovery, "accounts", SEED).findings.values())
    assert any(f.check == "read_after_write" and f.pointer == "/name" for f in findings)


def test_same_seed_same_verdicts():
    verdicts = []
    for _ in range(2):
        session, discovery = _session("tesla-ce", drifts=("null-not-allowed",))
        op = session.target.contract.operations["list_providers"]
        verdicts.append(_verdict(run_properties(session, op, 5, SEED, discovery)))
    assert verdicts[0] == verdicts[1] and verdicts[0]


@pytest.mark.parametrize("drift", [None, "null-not-allowed", "pagination-header-missing"])
def test_http_and_in_process_give_the_same_verdicts(drift):
    """The same mock served by uvicorn over real HTTP and called in-process gives identical verdicts."""
    from apiconform.mock import build_app
    from apiconform.contracts import load_contract

    drifts = (drift,) if drift else ()
    vendor, ops = "tesla-ce", ["list_providers", "read_provider", "list_provider_enrolments"]
    in_process, discovery = _session(vendor, drifts=drifts)
    expected = set()
    for name in ops:
        expected |= _verdict(run_properties(in_process, in_process.target.contract.operations[name], 5, SEED, discovery))
    app = build_app(load_contract(vendor), drifts=drifts, seed=SEED)
    with MockServer(app) as base_url:
        target = http_target(vendor, base_url, credentials=app.mock.behaviour.credentials(), live=False)
        session = Session(target)
        discovery = Discovery(session)
        actual = set()
        for name in ops:
            actual |= _verdict(run_properties(session, target.contract.operations[name], 5, SEED, discovery))
        session.close()
    assert actual == expected
    assert bool(actual) == bool(drift)


def test_lifecycle_does_not_demand_an_id_the_documented_answer_lacks():
    # create_teacher documents `{result, location}`: no id to address the record with, and that is the contract
    # (a faithful server answering exactly the documented shape, as Prism does, made this a false positive)
    def documented(op, reply: Reply, request, ctx) -> Reply:
        if op.operation_id == "create_teacher" and reply.status == 201:
            reply.body = {"result": "Success", "location": "https://api.eduframe.nl/api/v1/teachers/1"}
        return reply

    session, discovery = _session("eduframe", drifts=(documented,))
    recorder = run_lifecycle(session, discovery, "teachers", SEED)
    assert not [f for f in recorder.findings.values() if f.check == "created_id"], [
        f.message for f in recorder.findings.values()]
    assert any("cannot be addressed" in n for n in recorder.notes), recorder.notes


def test_lifecycle_still_reports_a_missing_id_the_contract_requires():
    def no_id(op, reply: Reply, request, ctx) -> Reply:
        if op.action == "create" and isinstance(reply.body, dict):
            reply.body.pop("id", None)
        return reply

    session, discovery = _session("eduframe", drifts=(no_id,))
    findings = list(run_lifecycle(session, discovery, "accounts", SEED).findings.values())
    assert any(f.check == "created_id" for f in findings), [f.message for f in findings]


UNDECLARED = """\
openapi: 3.1.0
info: {title: undeclared, version: '1'}
servers: [{url: /}]
security: [{httpBasic: []}]
components:
  securitySchemes:
    httpBasic: {type: http, scheme: basic, x-apiconform-auth: {flow: http-basic}, x-apiconform-inferred: true}
paths:
  /things:
    get:
      operationId: list_things
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array}}}}}
  /described:
    get:
      operationId: described
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: array}}}}
        '401': {description: the vendor documents its auth failure}
"""


@pytest.mark.parametrize("inferred", [True, False])
def test_a_refusal_without_credentials_where_the_vendors_description_declares_no_security_is_reported(
        tmp_path: Any, inferred: bool) -> None:
    """The vendor's description declares no security; `apiconform init` inferred HTTP Basic from the server
    (`x-apiconform-inferred`). A live server refusing a request without credentials (401) deviates from that
    description (AC404); an operation documenting 401 itself, or a scheme the vendor declared, is never reported."""
    from pathlib import Path

    from apiconform.contracts import load_contract
    from apiconform.engine._discovery import Discovery
    from apiconform.engine._targets import Safety, Target
    from apiconform.mock import MockServer

    text = UNDECLARED if inferred else UNDECLARED.replace(", x-apiconform-inferred: true", "")
    path = Path(tmp_path) / "openapi.yaml"
    path.write_text(text, encoding="utf-8")
    contract = load_contract(path)
    refused = (401, {"content-type": "application/json", "www-authenticate": "Basic"}, b'{"detail": "no"}')
    app = _Refusing(refused)
    with MockServer(app) as url:
        target = Target("undeclared", contract, url, "http", {"username": "admin", "password": "pw-0001"},
                        Safety(read_only=True))
        session = Session(target)
        found = {label: [f for f in run_auth(session, op, SEED, Discovery(session)).findings.values()
                         if f.check == "auth_undeclared"] for label, op in contract.operations.items()}
    assert [f.code for f in found["list_things"]] == (["AC404"] if inferred else [])
    assert found["described"] == []
    if inferred:
        assert "401" in found["list_things"][0].message and "declares no security" in found["list_things"][0].message


class _Refusing:
    """A live server that refuses every request without a Basic credential."""

    def __init__(self, refused: tuple[int, dict[str, str], bytes]) -> None:
        self.refused = refused

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope.get("headers") or [])
        status, head, body = self.refused if b"authorization" not in headers else (
            200, {"content-type": "application/json"}, b"[]")
        raw = [(k.encode(), v.encode()) for k, v in head.items()] + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
