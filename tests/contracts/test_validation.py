"""Request validation (the one judge the mock and the negative suite share) and the runner's `judge`,
branch by branch on hand-built requests (no mock, no network)."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from apiconform.engine.checks import NEGATIVE, POSITIVE
from apiconform.contracts import MediaSpec
from apiconform.engine._judge import judge
from apiconform.contracts._validate import (
    FORM_MEDIA,
    WireRequest,
    coerce,
    content_encoded_examples,
    from_httpx,
    validate_request,
)

BASE = "https://api.test"


def violations(contract, op_name: str, request: httpx.Request) -> list[tuple[str, str]]:
    op = contract.operations[op_name]
    wire = validate_request(contract, op, from_httpx(request, op))
    return [(v.location, v.name) for v in wire.violations]


def wire(contract, op_name: str, request: httpx.Request) -> WireRequest:
    op = contract.operations[op_name]
    return validate_request(contract, op, from_httpx(request, op))


# --- coercion ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("schema, raw, value", [
    ({"type": "integer"}, "12", 12),
    ({"type": "integer"}, "-3", -3),
    ({"type": "integer"}, "1.5", "1.5"),
    ({"type": "integer"}, "12a", "12a"),
    ({"type": "number"}, "1.5", 1.5),
    ({"type": "number"}, "2", 2),
    ({"type": "number"}, "1e3", 1000.0),
    ({"type": "number"}, "x", "x"),
    ({"type": ["integer", "null"]}, "7", 7),
    ({"type": "boolean"}, "true", True),
    ({"type": "boolean"}, "FALSE", False),
    ({"type": "boolean"}, " 1 ", True),
    ({"type": "boolean"}, "0", False),
    ({"type": "boolean"}, "yes", "yes"),
    ({"type": "null"}, "", None),
    ({"type": "null"}, "null", None),
    ({"type": "null"}, "x", "x"),
    ({"type": "array", "items": {"type": "integer"}}, "1,2", [1, 2]),
    ({"type": "array", "items": {"type": "integer"}}, ["1", "x"], [1, "x"]),
    ({"type": "array", "items": {"type": "integer"}}, "", []),
    ({"type": "integer"}, ["1", "2"], 2),  # repeated scalar: the last one counts
    ({"type": "string"}, "12", "12"),
    ({}, "12", "12"),
])
def test_coerce(schema, raw, value, eduframe):
    assert coerce(eduframe, schema, raw) == value


def test_boolean_literals_are_the_contracts(eduframe, tesla_ce):
    assert coerce(tesla_ce, {"type": "boolean"}, "1") == "1"  # tesla-ce documents no 1/0 spelling
    assert coerce(eduframe, {"type": "boolean"}, "1") is True


# --- parameters --------------------------------------------------------------------------------------
def test_valid_query_passes_and_is_coerced(eduframe):
    w = wire(eduframe, "list_accounts", httpx.Request("GET", f"{BASE}/accounts", params={"per_page": "10", "search": "x"}))
    assert w.violations == [] and w.params == {"per_page": 10, "search": "x"}


@pytest.mark.parametrize("params, bad", [
    ({"per_page": "0"}, ("query", "per_page")),
    ({"per_page": "101"}, ("query", "per_page")),
    ({"per_page": "ten"}, ("query", "per_page")),
    ({"account_type": "nope"}, ("query", "account_type")),
])
def test_invalid_query_values(params, bad, eduframe):
    assert violations(eduframe, "list_accounts", httpx.Request("GET", f"{BASE}/accounts", params=params)) == [bad]


def test_repeated_query_values_are_validated_as_a_list(eduframe):
    request = httpx.Request("GET", f"{BASE}/courses", params=[("id", "1"), ("id", "x")])
    assert violations(eduframe, "list_courses", request) == [("query", "id")]
    request = httpx.Request("GET", f"{BASE}/courses", params=[("id", "1"), ("id", "2")])
    assert violations(eduframe, "list_courses", request) == []


def test_path_parameters_are_read_back_and_validated(eduframe):
    assert violations(eduframe, "get_account", httpx.Request("GET", f"{BASE}/accounts/12")) == []
    assert violations(eduframe, "get_account", httpx.Request("GET", f"{BASE}/accounts/abc")) == [("path", "id")]
    w = wire(eduframe, "get_account", httpx.Request("GET", f"{BASE}/accounts/12"))
    assert w.path_params == {"id": "12"} and w.params["id"] == 12 and w.method == "GET"


def test_required_parameters_and_headers(cofe_cms, goodstack):
    bare = httpx.Request("POST", f"{BASE}/v2/contacts/1/courses")
    assert set(violations(cofe_cms, "create_contact_course", bare)) >= {("query", "api_id"), ("query", "data"),
                                                                    ("query", "sig"), ("query", "course_id")}
    op = goodstack.operations["create_eligibility_subscription"]
    good = httpx.Request("POST", f"{BASE}/v1/eligibility-subscriptions", json={"organisationId": "organisation_1"},
                         headers={"Idempotency-Key": ""})
    assert ("header", "Idempotency-Key") in violations(goodstack, op.operation_id, good)  # minLength 1, read case-insensitively
    good.headers["idempotency-key"] = "k1"
    assert violations(goodstack, op.operation_id, good) == []


# --- JSON-in-a-string parameters (contentMediaType + contentSchema): enforced ---------------------------
@pytest.fixture
def cofe(cofe_cms):
    def cofe(data: str) -> list[tuple[str, str]]:
        params = {"api_id": "a", "data": data, "sig": "0" * 64, "course_id": "3"}
        return violations(cofe_cms, "create_contact_course", httpx.Request("POST", f"{BASE}/v2/contacts/1/courses", params=params))

    return cofe


def test_content_schema_is_enforced_on_json_string_parameters(cofe):
    assert cofe('{"diocese_id": 4}') == []
    assert cofe('{"diocese_id": "four"}') == [("query", "data")]
    assert cofe("{}") == [("query", "data")]
    assert cofe("not json") == [("query", "data")]


def test_content_schema_messages_name_the_parameter(cofe_cms):
    params = {"api_id": "a", "data": "not json", "sig": "0" * 64, "course_id": "3"}
    w = wire(cofe_cms, "create_contact_course", httpx.Request("POST", f"{BASE}/v2/contacts/1/courses", params=params))
    assert [v.message for v in w.violations] == ["The data parameter must be a JSON document."]
    params["data"] = "{}"
    w = wire(cofe_cms, "create_contact_course", httpx.Request("POST", f"{BASE}/v2/contacts/1/courses", params=params))
    assert w.violations[0].message.startswith("data: ") and "diocese_id" in w.violations[0].message


def test_content_schema_of_another_media_type_is_not_parsed(cofe_cms, cofe):
    op = cofe_cms.operations["create_contact_course"]
    ptr = op.param_schemas[("query", "data")]
    schema = cofe_cms.at(ptr)
    old = schema["contentMediaType"]
    schema["contentMediaType"] = "text/csv"
    try:
        assert cofe("not json") == []
    finally:
        schema["contentMediaType"] = old


def test_valid_examples_for_json_string_parameters(cofe_cms, eduframe):
    op = cofe_cms.operations["create_contact_course"]
    values = content_encoded_examples(cofe_cms, op, lambda schema: {"diocese_id": 1})
    assert values == {"data": '{"diocese_id":1}'}
    assert content_encoded_examples(eduframe, eduframe.operations["list_accounts"], lambda s: 1) == {}


# --- bodies --------------------------------------------------------------------------------------------
LOGIN = f"{BASE}/api/v2/auth/approle"


def test_json_body_valid_invalid_missing_malformed(tesla_ce):
    ok = httpx.Request("POST", LOGIN, json={"role_id": "r", "secret_id": "s"})
    w = wire(tesla_ce, "login_approle", ok)
    assert w.violations == [] and w.body == {"role_id": "r", "secret_id": "s"} and w.media_type == "application/json"
    assert violations(tesla_ce, "login_approle", httpx.Request("POST", LOGIN, json={"role_id": "r"})) == [("body", "secret_id")]
    assert violations(tesla_ce, "login_approle", httpx.Request("POST", LOGIN, json={"role_id": 5, "secret_id": "s"})) == [
        ("body", "role_id")]
    assert violations(tesla_ce, "login_approle", httpx.Request("POST", LOGIN, json=[])) == [("body", "body")]
    assert violations(tesla_ce, "login_approle", httpx.Request("POST", LOGIN)) == [("body", "body")]
    malformed = httpx.Request("POST", LOGIN, content=b"{", headers={"content-type": "application/json"})
    w = wire(tesla_ce, "login_approle", malformed)
    assert [(v.name, v.message) for v in w.violations] == [("body", "Malformed JSON body.")]
    nonutf8 = httpx.Request("POST", LOGIN, content=b"\xff", headers={"content-type": "application/json"})
    assert violations(tesla_ce, "login_approle", nonutf8) == [("body", "body")]


def test_unsupported_media_type_names_the_documented_ones(tesla_ce):
    request = httpx.Request("POST", LOGIN, content=b"role_id=r", headers={"content-type": "text/plain"})
    w = wire(tesla_ce, "login_approle", request)
    assert [(v.name, v.message) for v in w.violations] == [
        ("Content-Type", "Unsupported media type 'text/plain'; expected application/json.")]
    request = httpx.Request("POST", LOGIN, content=b"x")
    assert "'none'" in wire(tesla_ce, "login_approle", request).violations[0].message


def test_optional_body_may_be_absent(tesla_ce):
    op = replace(tesla_ce.operations["login_approle"], request_required=False)
    w = validate_request(tesla_ce, op, from_httpx(httpx.Request("POST", LOGIN), op))
    assert w.violations == [] and w.body is None


@pytest.fixture
def form_op(tesla_ce):
    def form_op():
        op = tesla_ce.operations["login_approle"]
        ptr = op.request_body["application/json"].schema_pointer
        return replace(op, request_body={FORM_MEDIA: MediaSpec(FORM_MEDIA, ptr, {}),
                                         "application/octet-stream": MediaSpec("application/octet-stream", None, {})})

    return form_op


def test_form_body_is_parsed_coerced_and_signed_as_sent(tesla_ce, form_op):
    op = form_op()
    request = httpx.Request("POST", LOGIN + "?x=1", data={"role_id": "r", "secret_id": "s"})
    w = validate_request(tesla_ce, op, from_httpx(request, op))
    assert w.violations == [] and w.body == {"role_id": "r", "secret_id": "s"} and w.media_type == FORM_MEDIA
    assert w.all_params() == {"x": "1", "role_id": "r", "secret_id": "s"} and w.query_dict() == {"x": "1"}
    request = httpx.Request("POST", LOGIN, data={"role_id": "r"})
    assert [(v.location, v.name) for v in validate_request(tesla_ce, op, from_httpx(request, op)).violations] == [
        ("body", "secret_id")]
    bad = httpx.Request("POST", LOGIN, content=b"role_id=\xff", headers={"content-type": FORM_MEDIA})
    assert [v.message for v in validate_request(tesla_ce, op, from_httpx(bad, op)).violations] == ["Body is not UTF-8."]


def test_other_media_bodies_are_kept_raw_and_not_validated(tesla_ce, form_op):
    op = form_op()
    request = httpx.Request("POST", LOGIN, content=b"\x00\x01", headers={"content-type": "application/octet-stream"})
    w = validate_request(tesla_ce, op, from_httpx(request, op))
    assert w.violations == [] and w.body == b"\x00\x01" and w.all_params() == {}


# --- the runner's judge: the contract decides, auth-owned values aside --------------------------------
def test_judge_is_positive_for_a_valid_request_and_negative_for_an_invalid_one(eduframe):
    assert judge(eduframe, eduframe.operations["get_account"], httpx.Request("GET", f"{BASE}/accounts/1")) == POSITIVE
    assert judge(eduframe, eduframe.operations["get_account"], httpx.Request("GET", f"{BASE}/accounts/x")) == NEGATIVE


def test_judge_ignores_what_the_auth_flow_owns(cofe_cms, goodstack):
    # cofe's api_id/sig are added by the HMAC flow after judging: their absence does not make a request invalid
    params = {"data": json.dumps({"diocese_id": 4}), "course_id": "3"}
    request = httpx.Request("POST", f"{BASE}/v2/contacts/1/courses", params=params)
    assert judge(cofe_cms, cofe_cms.operations["create_contact_course"], request) == POSITIVE
    params["data"] = "{}"
    request = httpx.Request("POST", f"{BASE}/v2/contacts/1/courses", params=params)
    assert judge(cofe_cms, cofe_cms.operations["create_contact_course"], request) == NEGATIVE
    # a header-owned credential (Authorization) is ignored too, a documented header is not
    good = httpx.Request("POST", f"{BASE}/v1/eligibility-subscriptions", json={"organisationId": "organisation_1"},
                         headers={"Idempotency-Key": ""})
    assert judge(goodstack, goodstack.operations["create_eligibility_subscription"], good) == NEGATIVE


def test_security_params_name_every_auth_owned_value(cofe_cms, ctrlhub, eduframe, goodstack, tesla_ce):
    from apiconform.engine._judge import _security_params

    assert _security_params(cofe_cms) == (frozenset(), frozenset({"api_id", "sig"}))
    assert "authorization" in _security_params(eduframe)[0]
    assert _security_params(tesla_ce)[0] == frozenset({"authorization"})
    headers, query = _security_params(ctrlhub)
    # the session token and the bearer token its SDK sends (contracts/ctrlhub/SOURCE.md)
    assert headers == frozenset({"x-session-token", "authorization"}) and query == frozenset()
    headers, query = _security_params(goodstack)
    assert query == frozenset() and headers and "idempotency-key" not in headers


# --- details the mutation run showed untested --------------------------------------------------------
def test_wire_request_fields_and_all_params_only_for_forms(tesla_ce):
    w = wire(tesla_ce, "login_approle", httpx.Request("POST", LOGIN + "?a=1", json={"role_id": "r", "secret_id": "s"}))
    assert w.path == "/api/v2/auth/approle" and w.url == LOGIN + "?a=1" and w.all_params() == {"a": "1"}


def test_nullable_union_types_coerce_to_their_non_null_type(eduframe):
    assert coerce(eduframe, {"type": ["null", "integer"]}, "5") == 5
    assert coerce(eduframe, {"type": ["null"]}, "x") == "x"


def test_default_boolean_spellings_and_case_of_extra_literals(tesla_ce):
    assert coerce(tesla_ce, {"type": "boolean"}, "true") is True and coerce(tesla_ce, {"type": "boolean"}, "false") is False
    assert coerce(tesla_ce, {"type": "boolean"}, "TRUE") is True
    info = tesla_ce.document["info"]["x-apiconform"]
    info["boolean-literals"] = {"Yes": True}
    try:
        assert coerce(tesla_ce, {"type": "boolean"}, "yes") is True
    finally:
        del info["boolean-literals"]


def test_number_and_repeat_details(eduframe):
    assert coerce(eduframe, {"type": "number"}, "1E3") == 1000.0
    two = coerce(eduframe, {"type": "number"}, "2")
    assert two == 2 and type(two) is int
    assert coerce(eduframe, {"type": "integer"}, ["1", "2", "3"]) == 3
    assert coerce(eduframe, {"type": "array"}, "a,b") == ["a", "b"]


def test_one_comma_separated_value_for_an_array_parameter(eduframe):
    assert violations(eduframe, "list_courses", httpx.Request("GET", f"{BASE}/courses", params={"id": "1,2"})) == []


def test_violation_messages(cofe_cms, eduframe, tesla_ce):
    w = wire(cofe_cms, "create_contact_course", httpx.Request("POST", f"{BASE}/v2/contacts/1/courses"))
    assert {v.message for v in w.violations if v.location == "query"} == {"This parameter is required."}
    w = wire(eduframe, "list_accounts", httpx.Request("GET", f"{BASE}/accounts", params={"per_page": "0"}))
    assert "minimum" in w.violations[0].message or "less than" in w.violations[0].message
    w = wire(tesla_ce, "login_approle", httpx.Request("POST", LOGIN))
    assert [v.message for v in w.violations] == ["A request body is required."]
    w = wire(tesla_ce, "login_approle", httpx.Request("POST", LOGIN, json={"role_id": 5, "secret_id": "s"}))
    assert w.violations[0].message == "5 is not of type 'string'"
    w = wire(tesla_ce, "login_approle", httpx.Request("POST", LOGIN, content=b"x", headers={"content-type": "text/plain"}))
    assert w.violations[0].location == "body"


def test_parameters_without_schema_are_kept_as_sent_and_do_not_stop_validation(eduframe):
    op = eduframe.operations["list_accounts"]
    raw_param = {"name": "free", "in": "query"}
    loose = replace(op, parameters=(raw_param, *op.parameters))
    w = validate_request(eduframe, loose, from_httpx(httpx.Request("GET", f"{BASE}/accounts",
                                                               params={"free": "x", "per_page": "0"}), loose))
    assert w.params["free"] == "x" and [v.name for v in w.violations] == ["per_page"]


def test_content_schema_without_media_type_is_json(cofe_cms, cofe):
    schema = cofe_cms.at(cofe_cms.operations["create_contact_course"].param_schemas[("query", "data")])
    old = schema.pop("contentMediaType")
    try:
        assert cofe("not json") == [("query", "data")]
    finally:
        schema["contentMediaType"] = old


def test_content_examples_are_synthesised_from_the_content_schema_compactly(cofe_cms):
    seen = []
    values = content_encoded_examples(cofe_cms, cofe_cms.operations["create_contact_course"],
                                      lambda schema: seen.append(schema) or {"a": 1, "b": [1, 2]})
    assert values == {"data": '{"a":1,"b":[1,2]}'} and seen[0]["required"] == ["diocese_id"]


def test_media_type_parameters_and_listing_of_documented_types(tesla_ce, form_op):
    ok = httpx.Request("POST", LOGIN, content=b'{"role_id": "r", "secret_id": "s"}',
                       headers={"content-type": "application/json; charset=utf-8"})
    assert wire(tesla_ce, "login_approle", ok).violations == []
    op = form_op()
    request = httpx.Request("POST", LOGIN, content=b"x", headers={"content-type": "text/plain"})
    message = validate_request(tesla_ce, op, from_httpx(request, op)).violations[0].message
    assert message.endswith(f"expected {FORM_MEDIA}, application/octet-stream.")


def test_form_bodies_keep_blanks_tolerate_bare_names_and_coerce_by_schema(eduframe, tesla_ce, form_op):
    op = form_op()
    request = httpx.Request("POST", LOGIN, content=b"role_id=&secret_id=s&flag", headers={"content-type": FORM_MEDIA})
    w = validate_request(tesla_ce, op, from_httpx(request, op))
    assert w.body == {"role_id": "", "secret_id": "s", "flag": ""}
    bad = httpx.Request("POST", LOGIN, content=b"role_id=\xff", headers={"content-type": FORM_MEDIA})
    v = validate_request(tesla_ce, op, from_httpx(bad, op)).violations
    assert [(x.location, x.name) for x in v] == [("body", "body")]
    teacher = eduframe.operations["create_teacher"]
    typed = replace(teacher, request_body={FORM_MEDIA: MediaSpec(FORM_MEDIA, teacher.request_body["application/json"].schema_pointer, {})})
    request = httpx.Request("POST", f"{BASE}/teachers", content=b"user_id=5&note=7", headers={"content-type": FORM_MEDIA})
    assert validate_request(eduframe, typed, from_httpx(request, typed)).body == {"user_id": 5, "note": "7"}
    untyped = replace(teacher, request_body={FORM_MEDIA: MediaSpec(FORM_MEDIA, None, {})})
    assert validate_request(eduframe, untyped, from_httpx(request, untyped)).body == {"user_id": "5", "note": "7"}


def test_a_required_cookie_parameter_is_required(eduframe):
    op = replace(eduframe.operations["list_accounts"], parameters=({"name": "sid", "in": "cookie", "required": True},))
    w = validate_request(eduframe, op, from_httpx(httpx.Request("GET", f"{BASE}/accounts"), op))
    assert [(v.location, v.name) for v in w.violations] == [("cookie", "sid")]


def test_form_schema_without_properties_keeps_values_as_sent(tesla_ce):
    op = replace(tesla_ce.operations["login_approle"],
                 request_body={FORM_MEDIA: MediaSpec(FORM_MEDIA, "/components/schemas/EmptyBody", {})})
    request = httpx.Request("POST", LOGIN, content=b"a=1", headers={"content-type": FORM_MEDIA})
    assert validate_request(tesla_ce, op, from_httpx(request, op)).body == {"a": "1"}
