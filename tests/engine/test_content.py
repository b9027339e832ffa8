"""Encoded content in request strings (contentEncoding / contentMediaType / contentSchema) and path parameters
holding reserved characters (style, allowReserved): what the generators send is what the judge accepts, on every
generation path (the compiled generator and the schemathesis bridge), so a request apiconform meant as valid is
never judged invalid and blamed on the server (issue 24: a real server's JSON-in-a-string query parameter got an
empty value, a file path in a path parameter was read back wrong)."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from apiconform.contracts import load_contract
from apiconform.contracts._validate import from_httpx, validate_request
from apiconform.engine import _compiled
from apiconform.engine import _suites as suites
from apiconform.engine._casecache import WireCase
from apiconform.engine._session import Session
from apiconform.engine._targets import Safety, Target
from apiconform.engine import _generate as runner
from apiconform.engine._judge import judge
from apiconform.engine._request import pin_path
from apiconform.engine.checks import NEGATIVE, POSITIVE, CheckContext, run_checks

CONTRACT = load_contract(str(Path(__file__).parents[1] / "data" / "content" / "openapi.yaml"))
BASE = "https://api.example.com/v1"


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_CACHE", "off")


def violations(label: str, request: httpx.Request) -> list[tuple[str, str]]:
    op = CONTRACT.operations[label]
    return [(v.name, v.message) for v in validate_request(CONTRACT, op, from_httpx(request, op)).violations]


def query(**params: str) -> list[tuple[str, str]]:
    base = {"filter": "{}", "where": '{"a": 1}', "blob": "aGk="}
    return violations("list_things", httpx.Request("GET", f"{BASE}/things", params={**base, **params}))


def body(**fields: object) -> list[tuple[str, str]]:
    base = {"doc": "[1]", "data": "aGk=", "both": base64.b64encode(b"[1, 2]").decode()}
    return violations("create_thing", httpx.Request("POST", f"{BASE}/things", json={**base, **fields}))


# --- the judge ----------------------------------------------------------------------------------------------
def test_the_judge_reads_content_in_query_parameters() -> None:
    assert query() == []
    assert query(filter="") == [("filter", "The filter parameter must be a JSON document.")]
    assert query(filter="not json") != [] and query(filter="null") == [] and query(filter="3") == []
    assert query(where='{"a": "x"}')[0][0] == "where" and query(where="{}")[0][0] == "where"
    assert query(blob="not base64!") == [("blob", "The blob parameter must be base64-encoded.")]
    assert query(blob="aGk") != []  # padding is part of base64
    assert query(note="anything at all") == []  # a media type apiconform does not parse stays an annotation


def test_the_judge_reads_content_in_json_bodies_nested_and_combined() -> None:
    assert body() == []
    assert body(doc="{")[0][0] == "doc"
    assert body(data="@@")[0][0] == "data"
    assert body(both=base64.b64encode(b"not json").decode())[0][0] == "both"
    assert body(both=base64.b64encode(b'["x"]').decode())[0][0] == "both"  # contentSchema of the decoded document
    assert body(both="[1, 2]")[0][0] == "both"  # JSON, but not base64-encoded
    assert body(nested=["aGk_", "aGk-"]) == [] and body(nested=["aGk/"])[0][0] == "nested"  # base64url alphabet
    assert body(doc=5)[0][0] == "doc"  # the schema's own errors first


def test_a_contract_without_content_keywords_walks_nothing() -> None:
    assert CONTRACT.asserts_content
    assert not load_contract("eduframe").asserts_content


# --- the generators -----------------------------------------------------------------------------------------
def _judged(op_label: str, cases: list) -> list[str]:
    op = CONTRACT.operations[op_label]
    return [judge(CONTRACT, op, runner._offline_request(CONTRACT, op, case)) for case in cases]


@pytest.mark.parametrize("label", ["list_things", "create_thing"])
def test_the_compiled_generator_draws_valid_content(label: str) -> None:
    op = CONTRACT.operations[label]
    strategy = _compiled.compiled_strategy(CONTRACT, op, {}, False, runner._encoded_query(CONTRACT, op))
    raw: list[str] = []

    def valid(case: object) -> bool:
        raw.append(judge(CONTRACT, op, runner._offline_request(CONTRACT, op, case)))  # type: ignore[arg-type]
        return True

    cases = _compiled.draw(strategy, 8, 5, valid, None, runner._settings(2))
    assert len(cases) >= 4 and set(raw) == {POSITIVE}, raw
    if label == "create_thing":
        assert any(json.loads(base64.b64decode(c.kwargs["json"]["both"])) for c in cases)


@pytest.mark.parametrize("label", ["list_things", "create_thing"])
def test_the_schemathesis_bridge_draws_valid_content(label: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every valid case schemathesis draws is valid as sent (before the fix: most were not, an empty or random
    string where a JSON document or base64 was documented, and the server was blamed for accepting them)."""
    monkeypatch.setenv("APICONFORM_GENERATOR", "schemathesis")
    cases, note = runner.generated_cases(CONTRACT, CONTRACT.operations[label], "positive", 12, 7, {})
    assert not note and len(cases) >= 6
    assert set(_judged(label, cases)) == {POSITIVE}


def test_negative_cases_of_content_strings_are_judged_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_GENERATOR", "schemathesis")
    cases, _ = runner.generated_cases(CONTRACT, CONTRACT.operations["create_thing"], "negative", 12, 7, {})
    assert cases and NEGATIVE in _judged("create_thing", cases)


# --- path parameters holding reserved characters ------------------------------------------------------------
@pytest.mark.parametrize("value", ["a/b.txt", "100%", "..", ".", "with space", "x%2Fy", "../etc/passwd", "é/ü"])
def test_reserved_path_values_round_trip_through_the_one_path_filler_and_the_judge(value: str) -> None:
    for label, name in (("read_file", "path"), ("read_meta", "path"), ("read_label", "plain")):
        if label != "read_label" and "%2F" in value:  # reserved expansion passes a `%XX` triplet: it means `/`
            continue
        op = CONTRACT.operations[label]
        values = {"path": value, "label": value, "matrix": value, "plain": value}
        request = httpx.Request("GET", BASE + op.fill_path(values))
        wire = from_httpx(request, op)
        assert wire.path_params.get(name) == value, (label, request.url.raw_path)
        if label == "read_label":
            assert wire.path_params == {"label": value, "matrix": value, "plain": value}
    # allowReserved keeps `/` (RFC 6570 reserved expansion) but never a dot segment the client would remove
    assert CONTRACT.operations["read_file"].fill_path({"path": "a/b.txt"}) == "/files/a/b.txt"
    assert CONTRACT.operations["read_file"].fill_path({"path": "../x"}) == "/files/%2E%2E/x"
    assert CONTRACT.operations["read_label"].fill_path({"label": "a/b", "matrix": "a b", "plain": "%"}) == \
        "/labels/.a%2Fb/;matrix=a%20b/%25"


def test_values_set_after_generation_are_sent_in_the_parameter_style() -> None:
    """A configured or discovered value pinned into a generated case (a file path, a space) is sent encoded for its
    parameter, so the judge reads back exactly that value and calls the request valid."""
    op = CONTRACT.operations["read_label"]
    cases, _ = runner.generated_cases(CONTRACT, op, "positive", 3, 1, {})
    pinned = pin_path(CONTRACT, op, cases[0], {"plain": "a b/c", "label": "x/y", "matrix": "1%"},
                             random.Random(0), id_style=True)
    request = runner._offline_request(CONTRACT, op, pinned)
    assert from_httpx(request, op).path_params == {"plain": "a b/c", "label": "x/y", "matrix": "1%"}
    assert judge(CONTRACT, op, request) == POSITIVE


# --- never blamed for what apiconform made ------------------------------------------------------------------
class _Answer:
    """An ASGI app answering every request with one status and `{}`; it counts what reached it."""

    def __init__(self, status: int) -> None:
        self.status, self.seen = status, 0

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        self.seen += 1
        await send({"type": "http.response.start", "status": self.status,  # type: ignore[operator]
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]


class _Known:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def fixed_values(self, op: object) -> dict[str, str]:
        return {}

    def path_values(self, op: object) -> dict[str, str]:
        return dict(self.values)


def _session(status: int) -> tuple[Session, _Answer]:
    app = _Answer(status)
    target = Target(vendor="content", contract=CONTRACT, base_url="http://mock/v1", kind="mock",
                    credentials={"username": "u", "password": "p"}, safety=Safety(), app=app)
    return Session(target), app


def test_a_valid_case_invalid_as_built_is_never_sent_nor_blamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated 'valid' case the judge refuses as built (here: required query parameters missing) is not sent:
    before, the vendor's 200 to it was reported as 'invalid request accepted with 200'."""
    session, app = _session(200)
    op = CONTRACT.operations["list_things"]
    bad = WireCase({"method": "GET", "url": "/things", "params": {"filter": "{}"}, "headers": {}, "cookies": {}},
                   "positive", op.path, {})
    monkeypatch.setattr(suites, "generate", lambda contract, op, mode, n, seed, known, consume: consume(bad) or "")
    rec = suites.run_properties(session, op, 3, 1, _Known({}))  # type: ignore[arg-type]
    assert app.seen == 0 and not rec.findings
    assert any("invalid as built" in note for note in rec.notes), rec.notes


def test_a_documented_403_for_a_made_up_id_is_not_a_credentials_refusal() -> None:
    session, _ = _session(403)
    op = CONTRACT.operations["read_owned"]
    exchange = session.send(op, httpx.Request("GET", "http://mock/v1/owned/x1"))
    made_up = suites.addresses_known(op, exchange.request, {"id": "known-1"})
    known = suites.addresses_known(op, httpx.Request("GET", "http://mock/v1/owned/known-1"), {"id": "known-1"})
    assert (made_up, known) == (False, True)
    refused = [f.message for f in run_checks(CheckContext(CONTRACT, op, exchange, POSITIVE))[0]]
    assert refused == ["valid credentials refused with 403"]  # a record the run knows: the credentials were refused
    assert run_checks(CheckContext(CONTRACT, op, exchange, POSITIVE, known_records=False))[0] == []
    exchange.record_gone = True  # a record the run itself deleted before: not the credentials either
    assert run_checks(CheckContext(CONTRACT, op, exchange, POSITIVE))[0] == []
    exchange.record_gone = False
    implied = replace(op, responses={k: v for k, v in op.responses.items() if k != "403"})  # 403 implied only
    assert [f.message for f in run_checks(CheckContext(CONTRACT, implied, exchange, POSITIVE, known_records=False))[0]
            if f.category.value == "auth"] == ["valid credentials refused with 403"]  # still the credentials
