"""The embedded mocks: every vendor's mock answers inside its own contract, keeps state, paginates,
authenticates like the vendor, and gives the same answers over real HTTP as in-process."""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
import uuid
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import click
import httpx
import jwt
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from apiconform.auth import HmacAuth, auth_for
from apiconform.auth.jwt_login import server_secret
from apiconform.contracts import Contract, Envelope, Operation, Pagination, list_vendors, load_contract
from apiconform.mock import MockServer, build_app
from apiconform.engine._transports import SyncASGITransport

BASE = "http://mock.test"
VENDORS = list_vendors()


# --- helpers -------------------------------------------------------------------------------------
def client(app: Any, contract: Contract, credentials: dict[str, str] | None = None, *, auth: bool = True) -> httpx.Client:
    """An in-process client of the mock, authenticated with the mock's own credentials unless told otherwise."""
    creds = app.behaviour.credentials() if credentials is None else credentials
    return httpx.Client(
        transport=SyncASGITransport(app), base_url=BASE, auth=auth_for(contract, creds) if auth else None
    )


def problems_of(app: Any, op: Operation, response: httpx.Response) -> list[str]:
    """Why an answer is outside the contract: 5xx, undocumented status, body that fails its schema."""
    contract: Contract = app.contract
    if response.status_code >= 500:
        return [f"{op.label}: {response.status_code} {response.text[:200]}"]
    if op.response_for(response.status_code) is None:
        return [f"{op.label}: undocumented status {response.status_code} {response.text[:200]}"]
    ptr = app.ctx.response_schema(op, response.status_code)
    if ptr is None or not response.content:
        return []
    errors = contract.validate(ptr, response.json())
    return [f"{op.label} {response.status_code} {list(e.absolute_path)}: {e.message[:160]}" for e in errors[:3]]


def _security_params(contract: Contract) -> set[str]:
    """Header/query names the auth flow owns: generated values for them are replaced by real credentials."""
    names = {"authorization"}
    for scheme in contract.security_schemes.values():
        if scheme.get("type") == "apiKey":
            names.add(str(scheme["name"]).lower())
        config = scheme.get("x-apiconform-auth") or {}
        names |= {str(config[k]).lower() for k in ("key_param", "signature_param") if config.get(k)}
    return names


def request_of(case: Any, contract: Contract, op: Operation) -> dict[str, Any]:
    """httpx request arguments from a schemathesis case (auth left to the client's `auth`)."""
    kwargs = case.as_transport_kwargs(base_url=BASE)
    owned = _security_params(contract)
    headers = {
        k: str(v) for k, v in (kwargs.get("headers") or {}).items()
        if k.lower() not in owned and not k.lower().startswith("x-schemathesis")
    }
    if op.idempotency is not None:
        headers[op.idempotency.header] = str(uuid.uuid4())
    params = kwargs.get("params")
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if k.lower() not in owned}
    request: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"], "headers": headers, "params": params}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    if "data" in kwargs:
        request["content" if isinstance(kwargs["data"], (bytes, str)) else "data"] = kwargs["data"]
    return request


def fuzz(vendor: str, mode: GenerationMode, examples: int, only: set[str] | None = None, **app_options: Any) -> tuple[list[str], int]:
    """Send schemathesis-generated requests for every operation; return the problems and the request count."""
    contract = load_contract(vendor)
    app = build_app(contract, **app_options)
    http = client(app, contract)
    schema = schemathesis.openapi.from_dict(contract.document)
    problems: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        sop = result.ok()
        op = contract.operation(f"{sop.method.upper()} {sop.path}")
        if only is not None and op.operation_id not in only:
            continue

        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(sop.as_strategy(generation_mode=mode))
        def exchange(case: Any) -> None:
            nonlocal sent
            try:
                response = http.request(**request_of(case, contract, op))
            except ValueError as exc:  # the HMAC client refuses to sign a repeated parameter: nothing was sent
                if "cannot sign" in str(exc):
                    return
                raise
            sent += 1
            if mode is GenerationMode.NEGATIVE:
                if response.status_code >= 500:
                    problems.append(f"{op.label}: {response.status_code} on a negative request")
            else:
                problems.extend(problems_of(app, op, response))

        try:
            exchange()
        except Unsatisfiable:  # nothing to negate (e.g. no parameters): no request to send
            continue
    return problems, sent


# --- every vendor, every operation: generated requests get answers inside the contract ------------
# Examples per operation. Eduframe has 143 operations and TeSLA 32: fewer examples there keep this
# file short on 2 cores (generation, not the mock, is where the time goes).
POSITIVE_EXAMPLES = {"eduframe": 4, "tesla-ce": 6}
NEGATIVE_EXAMPLES = {"eduframe": 2, "tesla-ce": 4}


# Eduframe's 143 operations are two thirds of this fuzzing's time: `make test-e2e` fuzzes them (CI runs it), the
# fast set the four other vendors'.
FUZZED = [pytest.param(v, marks=pytest.mark.e2e) if v == "eduframe" else v for v in VENDORS]


@pytest.mark.parametrize("vendor", FUZZED)
def test_positive_requests_get_documented_conformant_answers(vendor: str) -> None:
    problems, sent = fuzz(vendor, GenerationMode.POSITIVE, POSITIVE_EXAMPLES.get(vendor, 10))
    assert sent >= len(load_contract(vendor))
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("vendor", FUZZED)
def test_negative_requests_never_get_a_server_error(vendor: str) -> None:
    problems, sent = fuzz(vendor, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES.get(vendor, 10))
    assert sent > 0
    assert not problems, "\n".join(problems[:20])


def test_the_conformance_check_reports_a_broken_mock() -> None:
    """The same harness, pointed at a mock that drops a required field, reports it (the check can fail)."""
    problems, _ = fuzz("eduframe", GenerationMode.POSITIVE, 3, only={"list_accounts", "get_current_educator"},
                       drifts=["required-field-dropped"])
    assert problems and all("is a required property" in p for p in problems)
    problems, _ = fuzz("eduframe", GenerationMode.POSITIVE, 3, only={"get_current_educator"}, drifts=["status-code-changed"])
    assert problems and all("undocumented status" in p for p in problems)


# --- stateful store ------------------------------------------------------------------------------
@pytest.fixture()
def eduframe() -> tuple[Any, Contract, httpx.Client]:
    contract = load_contract("eduframe")
    app = build_app(contract)
    return app, contract, client(app, contract)


def _conforms(app: Any, contract: Contract, op_id: str, response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    assert not problems_of(app, contract.operation(op_id), response)
    return response.json() if response.content else None


def _all_pages(http: httpx.Client, path: str) -> list[Any]:
    items: list[Any] = []
    url: str | None = f"{path}?per_page=100"
    while url:
        response = http.get(url)
        assert response.status_code == 200
        items += response.json()
        url = response.links.get("next", {}).get("url")
    return items


@pytest.mark.parametrize(
    "collection, create, update, field, value",
    [
        ("categories", {"name": "Data science", "is_published": True}, {"name": "Data & AI"}, "name", "Data & AI"),
        ("courses", {"name": "Python 101", "code": "PY101", "category_id": 1}, {"name": "Python 102"}, "name",
         "Python 102"),
        ("program/elements", {"course_id": 7, "edition_id": 3}, {"edition_id": 4}, "edition_id", 4),
    ],
)
def test_eduframe_create_read_update_list_delete(eduframe: Any, collection: str, create: dict[str, Any],
                                                 update: dict[str, Any], field: str, value: Any) -> None:
    app, contract, http = eduframe
    ops = {op.action: op for op in contract if op.path.rstrip("/") in (f"/{collection}", f"/{collection}/{{id}}")}
    created = http.post(f"/{collection}", json=create)
    body = _conforms(app, contract, ops["create"].operation_id, created, 201)
    for key, given in create.items():
        assert body[key] == given, key  # the record reads back what was written
    item = f"/{collection}/{body['id']}"
    assert _conforms(app, contract, ops["read"].operation_id, http.get(item), 200) == body
    updated = _conforms(app, contract, ops["update"].operation_id, http.put(item, json=update), 200)
    assert updated[field] == value and updated["id"] == body["id"]
    assert {k: v for k, v in updated.items() if k not in update} == {k: v for k, v in body.items() if k not in update}
    assert http.get(item).json()[field] == value
    listed = _all_pages(http, f"/{collection}")
    assert [r for r in listed if r["id"] == body["id"]] == [updated]
    if "delete" in ops:
        assert http.delete(item).status_code == 204
        missing = http.get(item)
        assert missing.status_code == 404
        assert missing.json() == {"errors": {}, "code": 404, "message": "Not Found"}
        assert not problems_of(app, ops["read"], missing)
        assert http.delete(item).status_code == 404
    else:
        missing = http.get(f"/{collection}/987654")
        assert missing.status_code == 404 and not problems_of(app, ops["read"], missing)


def test_eduframe_nested_attributes_read_back_under_the_answer_name(eduframe: Any) -> None:
    app, contract, http = eduframe
    created = http.post("/course_locations", json={"name": "Utrecht", "address_attributes": {
        "address": "Oudegracht 1", "postal_code": "3511 AA", "city": "Utrecht", "country": "NL"}})
    body = _conforms(app, contract, "create_course_location", created, 201)
    assert body["address"]["address"] == "Oudegracht 1" and body["address"]["city"] == "Utrecht"
    changed = http.put(f"/course_locations/{body['id']}", json={"address_attributes": {"city": "Amersfoort"}})
    after = _conforms(app, contract, "update_course_location", changed, 200)
    assert after["address"]["city"] == "Amersfoort" and after["address"]["address"] == "Oudegracht 1"
    assert http.get(f"/course_locations/{body['id']}").json()["address"]["city"] == "Amersfoort"
    account = http.post("/accounts", json={"name": "Acme BV", "address_attributes": {"city": "Delft"}})
    assert _conforms(app, contract, "create_account", account, 201)["address"]["city"] == "Delft"


def test_eduframe_validation_errors_use_the_documented_shape(eduframe: Any) -> None:
    app, contract, http = eduframe
    missing = http.post("/categories", json={"description": "no name"})
    body = _conforms(app, contract, "create_category", missing, 422)
    assert body == {"errors": {"name": ["can't be blank"]}, "code": 422, "message": "Validation failed: Name can't be blank"}
    wrong_type = http.post("/categories", content=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status_code == 400 and not problems_of(app, contract.operation("create_category"), wrong_type)
    no_route = http.get("/no/such/path")
    assert no_route.status_code == 404 and no_route.json()["code"] == 404


@pytest.mark.parametrize("raw, accepted", [("true", True), ("false", True), ("1", True), ("0", True), ("yes", False), ("2", False)])
def test_eduframe_boolean_parameters_accept_true_false_1_0(eduframe: Any, raw: str, accepted: bool) -> None:
    app, contract, http = eduframe
    response = http.get("/enrollments", params={"with_canceled": raw})
    assert response.status_code == (200 if accepted else 400), response.text
    assert not problems_of(app, contract.operation("list_enrollments"), response)
    if not accepted:
        assert list(response.json()["errors"]) == ["with_canceled"]


def test_tesla_enrolment_lifecycle_under_a_seeded_provider() -> None:
    contract = load_contract("tesla-ce")
    app = build_app(contract)
    http = client(app, contract)
    base = f"/api/v2/provider/{_tesla_provider(app)}/enrolment/"
    learner, task = str(uuid.uuid4()), str(uuid.uuid4())
    created = _conforms(app, contract, "create_provider_enrolment", http.post(base, json={"learner_id": learner, "task_id": task}), 201)
    assert created["learner_id"] == learner and created["is_locked"] is True
    item = f"{base}{learner}/"
    # the presigned upload form is in the create's answer only (x-apiconform-state transient)
    assert _conforms(app, contract, "read_provider_enrolment", http.get(item), 200) == {**created, "model_upload_url": None}
    patched = _conforms(app, contract, "partial_update_provider_enrolment", http.patch(item, json={"percentage": 0.5}), 200)
    assert patched["percentage"] == 0.5 and patched["learner_id"] == learner
    listed = _conforms(app, contract, "list_provider_enrolments", http.get(base), 200)
    assert patched in listed["results"] and listed["count"] == len(listed["results"])
    unlocked = http.post(f"{item}unlock/", json={"token": task})
    assert unlocked.status_code == 200 and not problems_of(app, contract.operation("unlock_provider_enrolment"), unlocked)
    deleted = http.delete(item)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = http.get(item)
    assert gone.status_code == 404 and gone.json() == {"detail": "Not found."}
    assert http.post(f"{item}unlock/").status_code == 404


# --- pagination ----------------------------------------------------------------------------------
def test_eduframe_page_pagination_default_bounds_and_link_header(eduframe: Any) -> None:
    app, contract, http = eduframe
    seeded = len(http.get("/accounts", params={"per_page": 100}).json())
    for i in range(30):
        assert http.post("/accounts", json={"name": f"Account {i}"}).status_code == 201
    total = seeded + 30
    first = http.get("/accounts")
    assert len(_conforms(app, contract, "list_accounts", first, 200)) == 25  # default page size
    links = first.links
    assert set(links) == {"next", "last"}
    assert parse_qs(urlsplit(links["next"]["url"]).query) == {"page": ["2"], "per_page": ["25"]}
    second = http.get(links["next"]["url"])
    assert len(second.json()) == total - 25 and "next" not in second.links
    assert http.get(links["last"]["url"]).json() == second.json()
    assert [a["id"] for a in first.json()] + [a["id"] for a in second.json()] == [
        a["id"] for a in http.get("/accounts", params={"per_page": 100}).json()]
    small = http.get("/accounts", params={"per_page": 10, "page": 2})
    assert len(small.json()) == 10
    assert parse_qs(urlsplit(small.links["last"]["url"]).query)["page"] == [str(-(-total // 10))]
    for params, name in (({"per_page": 101}, "per_page"), ({"page": 0}, "page"), ({"per_page": 0}, "per_page")):
        rejected = http.get("/accounts", params=params)
        body = _conforms(app, contract, "list_accounts", rejected, 400)
        assert list(body["errors"]) == [name] and body["code"] == 400
    assert len(http.get("/accounts", params={"page": 99}).json()) == 0


def test_tesla_limit_offset_envelope() -> None:
    contract = load_contract("tesla-ce")
    app = build_app(contract)
    http = client(app, contract)
    base = f"/api/v2/provider/{_tesla_provider(app)}/enrolment/"
    for _ in range(5):
        http.post(base, json={"learner_id": str(uuid.uuid4()), "task_id": str(uuid.uuid4())})
    everything = http.get(base).json()
    count = everything["count"]
    assert count == len(everything["results"]) >= 5 and everything["next"] is None and everything["previous"] is None
    page = _conforms(app, contract, "list_provider_enrolments", http.get(base, params={"limit": 2}), 200)
    assert page["count"] == count and len(page["results"]) == 2 and page["previous"] is None
    assert parse_qs(urlsplit(page["next"]).query) == {"limit": ["2"], "offset": ["2"]}
    following = http.get(page["next"]).json()
    assert following["results"] == everything["results"][2:4]
    assert parse_qs(urlsplit(following["previous"]).query) == {"limit": ["2"], "offset": ["0"]}
    assert http.get(following["previous"]).json()["results"] == page["results"]
    last = http.get(base, params={"limit": 2, "offset": count - 1}).json()
    assert len(last["results"]) == 1 and last["next"] is None


def test_the_mock_answers_the_declared_envelope_names() -> None:
    """The mock reads the typed pagination record: renamed envelope members are the ones it answers."""
    tesla = load_contract("tesla-ce")
    op = tesla.operations["list_provider_enrolments"]
    renamed = dataclasses.replace(op, pagination=Pagination(style="offset", envelope=Envelope(count="total", next="after")))
    contract = dataclasses.replace(tesla, operations={**tesla.operations, op.operation_id: renamed})
    app = build_app(contract)
    http = client(app, contract)
    base = f"/api/v2/provider/{_tesla_provider(app)}/enrolment/"
    for _ in range(3):
        http.post(base, json={"learner_id": str(uuid.uuid4()), "task_id": str(uuid.uuid4())})
    page = http.get(base, params={"limit": 1}).json()
    assert set(page) == {"total", "after", "previous", "results"} and len(page["results"]) == 1
    assert page["total"] >= 3 and parse_qs(urlsplit(page["after"]).query) == {"limit": ["1"], "offset": ["1"]}


def _tesla_provider(app: Any) -> Any:
    """The provider the mock's credentials belong to (what its login answers as provider_id)."""
    return app.ctx.identity()


# --- auth ----------------------------------------------------------------------------------------
# vendor: (operation, method, path, request kwargs, documented status for missing/wrong credentials, body check)
AUTH_CASES: dict[str, tuple[str, str, str, dict[str, Any], int, Callable[[Any], bool]]] = {
    "eduframe": ("list_accounts", "GET", "/accounts", {}, 403, lambda b: b == {"errors": {}, "code": 403, "message": "Forbidden"}),
    "goodstack": ("create_eligibility_subscription", "POST", "/v1/eligibility-subscriptions", {"json": {"organisationId": "organisation_1"}}, 401,
                  lambda b: b["error"]["code"] == "unauthorized"),
    "ctrlhub": ("create_qualification_award", "POST", "/v3/qualification-awards", {"json": {}}, 401, lambda b: b["errors"][0]["status"] == "401"),
    "cofe-cms": ("create_contact_course", "POST", "/v2/contacts/5/courses", {"params": {"data": '{"diocese_id": 1}', "course_id": 3}}, 401,
                 lambda b: "error" in b),
    "tesla-ce": ("list_provider_notifications", "GET", "/api/v2/provider/1001/notification/", {}, 401, lambda b: "detail" in b),
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_missing_and_wrong_credentials_get_the_documented_error(vendor: str) -> None:
    op_id, method, path, kwargs, status, body_ok = AUTH_CASES[vendor]
    contract = load_contract(vendor)
    app = build_app(contract)
    op = contract.operation(op_id)
    anonymous = client(app, contract, auth=False).request(method, path, **kwargs)
    # TeSLA (DRF permission classes): no credentials at all is 403, a bad token 401
    assert anonymous.status_code == (403 if vendor == "tesla-ce" else status) and body_ok(anonymous.json()), anonymous.text
    assert not problems_of(app, op, anonymous)
    creds = app.behaviour.credentials()
    if vendor == "tesla-ce":  # a JWT the mock did not sign
        token = jwt.encode({"sub": creds["role_id"], "exp": int(time.time()) + 60}, "not-the-mock-key-0123456789abcdef")
        wrong = client(app, contract, auth=False).request(method, path, headers={"Authorization": f"JWT {token}"})
    else:
        wrong = client(app, contract, {k: f"wrong-{v}" for k, v in creds.items()}).request(method, path, **kwargs)
    assert wrong.status_code == status, wrong.text
    assert not problems_of(app, op, wrong)
    right = client(app, contract).request(method, path, **kwargs)
    assert right.status_code not in (401, 403), right.text


def test_cofe_rejects_a_bad_signature_and_accepts_a_good_one() -> None:
    contract = load_contract("cofe-cms")
    app = build_app(contract)
    creds = app.behaviour.credentials()
    op = contract.operation("create_contact_course")
    params = {"data": '{"diocese_id": 12}', "course_id": 3}
    forged = client(app, contract, {**creds, "api_key": "not-the-secret"}).post("/v2/contacts/5/courses", params=params)
    assert forged.status_code == 401 and not problems_of(app, op, forged)
    signed = HmacAuth(creds["api_id"], creds["api_key"])
    request = httpx.Request("POST", f"{BASE}/v2/contacts/5/courses", params=params)
    request = next(signed.auth_flow(request))
    tampered = httpx.URL(str(request.url)).copy_set_param("course_id", "4")  # signature no longer covers the data
    raw = httpx.Client(transport=SyncASGITransport(app))
    assert raw.post(tampered).status_code == 401
    good = raw.post(request.url)
    assert good.status_code == 200 and not problems_of(app, op, good)
    assert good.json()["course_id"] == 3 and good.json()["contact_id"] == 5


def test_tesla_login_issues_a_jwt_that_works_and_refresh_renews_it() -> None:
    contract = load_contract("tesla-ce")
    app = build_app(contract)
    creds = app.behaviour.credentials()
    raw = httpx.Client(transport=SyncASGITransport(app), base_url=BASE)
    bad = raw.post("/api/v2/auth/approle", json={"role_id": creds["role_id"], "secret_id": "nope"})
    assert bad.status_code == 401 and bad.json() == "Invalid credentials"
    assert not problems_of(app, contract.operation("login_approle"), bad)
    login = raw.post("/api/v2/auth/approle", json={"role_id": creds["role_id"], "secret_id": creds["secret_id"]})
    assert login.status_code == 200 and not problems_of(app, contract.operation("login_approle"), login)
    tokens = login.json()["token"]
    mine = f"/api/v2/provider/{login.json()['provider_id']}/"
    ok = raw.get(mine, headers={"Authorization": f"JWT {tokens['access_token']}"})
    assert ok.status_code == 200
    for token in ("garbage", jwt.encode({"sub": creds["role_id"], "exp": int(time.time()) - 10}, server_secret(creds))):
        rejected = raw.get(mine, headers={"Authorization": f"JWT {token}"})
        assert rejected.status_code == 401 and not problems_of(app, contract.operation("read_provider"), rejected)
    # both shapes vendor 1.0.10 accepts: the pair, or the access token + the refresh token as Authorization
    for kwargs in ({"json": {"token": tokens}},
                   {"json": {"token": tokens["access_token"]}, "headers": {"Authorization": f"JWT {tokens['refresh_token']}"}}):
        refreshed = raw.post("/api/v2/auth/token/refresh", **kwargs)
        assert refreshed.status_code == 200 and not problems_of(app, contract.operation("refresh_token"), refreshed)
        renewed = refreshed.json()["token"]["access_token"]
        assert raw.get(mine, headers={"Authorization": f"JWT {renewed}"}).status_code == 200
    # what the vendor refuses: the {refresh_token} body (400), a garbage or access token as refresh token (403)
    assert raw.post("/api/v2/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 400
    for bad in ("garbage", tokens["access_token"]):
        bogus = raw.post("/api/v2/auth/token/refresh", json={"token": {"access_token": tokens["access_token"], "refresh_token": bad}})
        assert bogus.status_code in (400, 401, 403) and not problems_of(app, contract.operation("refresh_token"), bogus)


def test_goodstack_idempotency_replays_and_rejects_changed_data() -> None:
    contract = load_contract("goodstack")
    app = build_app(contract)
    http = client(app, contract)
    op = contract.operation("create_eligibility_subscription")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_1"}, headers=key)
    assert first.status_code == 200 and not problems_of(app, op, first)
    again = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_1"}, headers=key)
    assert again.status_code == 200 and again.content == first.content
    other = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_1"},
                      headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.json()["data"]["id"] != first.json()["data"]["id"]
    changed = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_2"}, headers=key)
    assert changed.status_code == 400 and not problems_of(app, op, changed)
    assert changed.json()["error"]["code"] == "idempotency/same_key_different_data"


def test_cofe_unknown_contact_invalid_data_and_rate_limit() -> None:
    contract = load_contract("cofe-cms")
    op = contract.operation("create_contact_course")
    app = build_app(contract)
    http = client(app, contract)
    unknown = http.post("/v2/contacts/5000/courses", params={"data": '{"diocese_id": 1}', "course_id": 3})
    assert unknown.status_code == 404 and not problems_of(app, op, unknown)
    for data in ("{not json", "[1, 2]", '{"diocese_id": "x"}', "{}"):
        invalid = http.post("/v2/contacts/5/courses", params={"data": data, "course_id": 3})
        assert invalid.status_code == 400 and list(invalid.json()["errors"]) == ["data"], data
        assert not problems_of(app, op, invalid)
    limited = build_app(contract, rate_limit=3)
    http = client(limited, contract)
    answers = [http.post("/v2/contacts/5/courses", params={"data": '{"diocese_id": 1}', "course_id": 3}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1 and not problems_of(limited, op, answers[3])


# --- real HTTP -----------------------------------------------------------------------------------
def test_mock_server_over_http_answers_like_in_process() -> None:
    contract = load_contract("eduframe")
    token = {"Authorization": "Bearer " + build_app(contract).behaviour.credentials()["token"]}
    requests = [("GET", "/accounts?per_page=2", token), ("GET", "/accounts/1001", token), ("GET", "/accounts", {}),
                ("GET", "/accounts?per_page=101", token), ("GET", "/educators/current", token)]
    local = httpx.Client(transport=SyncASGITransport(build_app(contract, seed=7)), base_url="http://127.0.0.1")
    expected = [local.request(m, p, headers=h) for m, p, h in requests]
    with MockServer(build_app(contract, seed=7)) as base_url, httpx.Client(base_url=base_url) as remote:
        for (method, path, headers), want in zip(requests, expected):
            got = remote.request(method, path, headers=headers)
            assert (got.status_code, got.headers["content-type"], got.json()) == (
                want.status_code, want.headers["content-type"], want.json())
            if "link" in want.headers:
                assert got.headers["link"] == want.headers["link"].replace("http://127.0.0.1", base_url)
                assert remote.get(got.links["next"]["url"], headers=headers).status_code == 200


@pytest.mark.parametrize("vendor", VENDORS)
def test_in_process_mock_answers_without_an_event_loop_exactly_as_through_asgi(vendor: str) -> None:
    """A mock without fault middleware is asked through `MockApp.answer_scope` (no event loop, no ASGI messages);
    every operation's request, a HEAD, an unknown path and an anonymous call get the same status, headers and body
    bytes as through the ASGI call, and the state they leave behind is the same (the same requests again)."""
    contract = load_contract(vendor)
    direct_app, asgi_app = build_app(contract, seed=3), build_app(contract, seed=3)

    async def asgi_only(scope: Any, receive: Any, send: Any) -> None:  # no `answer_scope`: the ASGI path
        await asgi_app(scope, receive, send)

    direct, through = SyncASGITransport(direct_app), SyncASGITransport(asgi_only)
    creds = direct_app.behaviour.credentials()
    clients = [httpx.Client(transport=t, base_url=BASE, auth=auth_for(contract, creds)) for t in (direct, through)]
    anonymous = [httpx.Client(transport=t, base_url=BASE) for t in (direct, through)]
    calls: list[tuple[int, str, str, dict[str, Any]]] = []
    for op in list(contract)[:40]:
        path = op.fill_path({name: "1001" for name in op.path_params()})
        body = {"json": {}} if op.method in ("post", "put", "patch") else {}
        calls.append((0, op.method.upper(), path, {"params": {"page": "1", "q": "a b"}, **body}))
    calls += [(0, "HEAD", "/", {}), (0, "GET", "/no/such/path%2Fhere", {}), (1, "GET", "/", {})]
    for _ in range(2):
        for who, method, path, kw in calls:
            got, want = ((anonymous if who else clients)[i].request(method, path, **kw) for i in (0, 1))
            assert (got.status_code, got.headers.raw, got.content) == (want.status_code, want.headers.raw, want.content)
    assert direct._loop is None and through._loop is not None


# --- the `mock` command ----------------------------------------------------------------------------
@pytest.fixture()
def cli() -> click.Group:
    from apiconform.cli import _Group
    from apiconform.cli._mock import mock

    @click.group(cls=_Group)
    def group() -> None:
        pass

    group.add_command(mock)
    return group


def test_cli_lists_drifts_and_faults(cli: click.Group) -> None:
    from apiconform.mock import DRIFTS, FAULTS

    drifts = CliRunner().invoke(cli, ["mock", "--list-drifts"])
    assert drifts.exit_code == 0 and [line.split()[0] for line in drifts.output.splitlines()] == list(DRIFTS)
    faults = CliRunner().invoke(cli, ["mock", "--list-faults"])
    assert faults.exit_code == 0 and [line.split()[0] for line in faults.output.splitlines()] == list(FAULTS)


@pytest.mark.parametrize("args", [["nosuch"], ["eduframe", "--drift", "nosuch"], ["eduframe", "--fault", "nosuch:1"], []])
def test_cli_usage_errors_are_one_line_exit_2(cli: click.Group, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["mock", *args])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "error" in result.output


def _curl_to_request(line: str) -> dict[str, Any]:
    """The method, headers, body and URL of a printed `curl` example."""
    words = shlex.split(line)
    request: dict[str, Any] = {"method": "GET", "headers": {}, "content": None}
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("-X", "-H", "-d"):
            value = words[i + 1]
            if word == "-X":
                request["method"] = value
            elif word == "-H":
                name, _, header = value.partition(": ")
                request["headers"][name] = header
            else:
                request["content"] = value.encode()
                request["method"] = request["method"] if request["method"] != "GET" else "POST"
            i += 2
        elif word.startswith("http"):
            request["url"] = word
            i += 1
        else:
            i += 1
    return request


@pytest.mark.parametrize("vendor, expect", [("eduframe", "Authorization: Bearer mock-eduframe-token"),
                                            ("tesla-ce", "/api/v2/auth/approle"), ("goodstack", "Authorization: mock-goodstack-key"),
                                            ("cofe-cms", "HmacAuth"), ("ctrlhub", "X-Session-Token: mock-ctrlhub-key")])
def test_cli_prints_base_url_credentials_and_example_then_serves(cli: click.Group, monkeypatch: pytest.MonkeyPatch,
                                                                 vendor: str, expect: str) -> None:
    served: list[tuple[Any, str, int]] = []
    monkeypatch.setattr("apiconform.mock.serve", lambda app, host, port: served.append((app, host, port)))
    result = CliRunner().invoke(cli, ["mock", vendor, "--port", "8123", "--drift", "enum-value-changed", "--fault", "latency:5"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.output and expect in result.output
    assert [(h, p) for _, h, p in served] == [("127.0.0.1", 8123)]
    curl = [line.strip() for line in result.output.splitlines() if line.strip().startswith("curl -i")]
    if vendor == "tesla-ce":  # the example reads the caller's own provider, which the mock answers (not a 403)
        assert "/api/v2/provider/1001/" in curl[0]
    if vendor in ("eduframe", "goodstack", "ctrlhub"):  # the printed example works as printed (here in-process)
        served.clear()
        CliRunner().invoke(cli, ["mock", vendor, "--port", "8123"])
        http = httpx.Client(transport=SyncASGITransport(served[0][0]))
        response = http.request(**_curl_to_request(curl[0]))
        assert 200 <= response.status_code < 300, response.text


# --- what a vendor's own client needs of a mock of an imported contract ------------------------
STORE = Path(__file__).resolve().parents[1] / "data" / "store-contract.yaml"  # Kinto-like, see its header


def test_a_client_of_the_vendor_reaches_the_mock_under_the_servers_base_path_and_puts_create() -> None:
    """Served under `servers[0]`'s path as well (a vendor client sends /v1/things); a PUT documenting 201 and no
    404 of its own creates the record its path names (RFC 9110 9.3.4); a list in a `data` envelope answers the
    records, not their envelopes."""
    app = build_app(load_contract(STORE))
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test")
    before = http.get("/v1/things").json()["data"]
    created = http.put("/v1/things/mine", json={"data": {"title": "x"}})
    assert created.status_code == 201 and created.json()["data"] == {"id": "mine", "title": "x"}
    assert http.get("/v1/things/mine").json()["data"]["title"] == "x"
    assert http.put("/things/mine", json={"data": {"title": "y"}}).status_code == 200  # without the base path too
    listed = http.get("/v1/things").json()["data"]
    assert len(listed) == len(before) + 1 and {"id": "mine", "title": "y"} in listed
    assert all("data" not in item for item in listed)
    assert http.get("/v2/things").status_code == 404


SECRETS_CONTRACT = """\
openapi: 3.1.0
info: {title: settings, version: '1'}
servers: [{url: /api}]
paths:
  /admin/settings:
    get:
      operationId: read_settings
      responses:
        '200':
          description: the server's settings (its secrets writeOnly, as a pydantic SecretStr is described)
          content:
            application/json:
              schema:
                type: object
                required: [server]
                properties:
                  server:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string}
                      auth_string: {anyOf: [{type: string, format: password, writeOnly: true}, {type: 'null'}]}
                      password: {type: string, writeOnly: true}
                      databases:
                        type: array
                        minItems: 2
                        items:
                          type: object
                          properties:
                            url: {type: string, writeOnly: true}
                            kind: {type: string}
        '422': {description: invalid}
"""


def test_the_mock_answers_no_writeonly_property_so_its_own_judge_passes(tmp_path: Path) -> None:
    """An imported description marking secrets writeOnly (OpenAPI: SHOULD NOT be sent back, AC622): the mock's generated
    answer carried them, nested and in array items, so the imported contract failed against its own mock."""
    from apiconform.cli import main

    folder = tmp_path / "contracts" / "settings"
    folder.mkdir(parents=True)
    (folder / "openapi.yaml").write_text(SECRETS_CONTRACT, encoding="utf-8")
    reports = tmp_path / "reports"
    result = CliRunner().invoke(main, ["run", "settings", "--contracts", str(tmp_path / "contracts"), "--no-allure",
                                       "--no-progress", "--max-examples", "5", "--reports-dir", str(reports)])
    run = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    found = [f["check"] for c in run["cases"] for f in c["findings"]]
    assert result.exit_code == 0 and found == [], (result.output, found)
    assert any(c["status"] == 200 for c in run["cases"]), "the settings were answered"
