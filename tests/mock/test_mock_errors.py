"""Every error the mocks produce is in the vendor's documented error shape and says what went wrong.

For each vendor and operation the test provokes the errors a mock produces (no or wrong credentials,
bad input, unknown item, unknown route, wrong method, rate limit) and checks that the body validates
against the documented error schema of the status (or, where no operation documents the error, the
API's documented error shape), that it matches a documented example where the contract declares one
for that kind of error (`x-apiconform-error`), and that its texts are real texts: no synthesizer filler
("message 13"), no docs placeholder ("string"), no code that names another kind of error.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import httpx
import pytest

from apiconform.auth import auth_for
from apiconform.contracts import Contract, Operation, declared_error_kinds, list_vendors, load_contract
from apiconform.mock import build_app
from apiconform.mock._errors import representative
from apiconform.mock.behaviour import Behaviour
from apiconform.engine._transports import SyncASGITransport

BASE = "http://mock.test"
VENDORS = list_vendors()
FILLER = re.compile(r"^[A-Za-z_]+( [A-Za-z_]+)? \d+$|^string$|^<string>$")  # "message 13", "error code 4"
#: words a code or title of an error of one kind must not use (it would name another kind)
WRONG_WORDS = {
    "unauthenticated": ("not_found", "bad_request", "invalid", "validation", "conflict"),
    "validation": ("unauth", "forbidden", "not_found", "conflict"),
    "not_found": ("unauth", "invalid", "validation", "bad_request"),
    "method_not_allowed": ("unauth", "invalid", "validation"),
    "rate_limited": ("unauth", "invalid", "validation", "not_found"),
}
CODE_KEYS = {"code", "title", "error_code", "type"}


def _strings(body: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(body, dict):
        for k, v in body.items():
            yield from _strings(v, str(k))
    elif isinstance(body, list):
        for v in body:
            yield from _strings(v, key)
    elif isinstance(body, str):
        yield key, body


def _shape(value: Any, depth: int = 0) -> Any:
    if depth > 2:
        return None
    if isinstance(value, dict):
        return {k: _shape(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0], depth + 1)] if value else []
    return type(value).__name__


def judge(contract: Contract, app: Any, op: Operation | None, kind: str, response: httpx.Response) -> list[str]:
    """Why an error answer is not vendor-style ([] if it is)."""
    where = f"{contract.vendor} {op.label if op else '-'} {kind} {response.status_code}"
    if response.status_code < 400 or response.status_code >= 500:
        return [f"{where}: not a client error: {response.text[:120]}"]
    if not response.content:
        return []  # a documented bodiless error (the schema check below would say if a body is required)
    try:
        body = response.json()
    except ValueError:
        return [f"{where}: not JSON: {response.text[:120]}"]
    problems: list[str] = []
    documented = op is not None and op.response_for(response.status_code) is not None
    shape_op, shape_status = (op, response.status_code) if documented else (representative(contract) or (None, 0))
    if shape_op is not None:
        ptr = app.ctx.response_schema(shape_op, shape_status)
        if ptr is not None:
            problems += [f"{where}: {list(e.absolute_path)} {e.message[:120]}" for e in contract.validate(ptr, body)[:2]]
    if documented and op is not None:
        declared = [ex["value"] for media in op.response_for(response.status_code).content.values()  # type: ignore[union-attr]
                    for ex in media.examples.values() if kind in declared_error_kinds(ex) and "value" in ex]
        if declared and _shape(body) != _shape(declared[0]) and set(body) != set(declared[0]):
            problems.append(f"{where}: not the documented example's shape: {json.dumps(body)[:160]}")
    for key, text in _strings(body):
        if FILLER.match(text) or not text.strip():
            problems.append(f"{where}: filler text {key}={text!r}")
        if key in CODE_KEYS and any(w in text.lower() for w in WRONG_WORDS.get(kind, ())):
            problems.append(f"{where}: {key}={text!r} names another kind of error")
    return problems


def _client(app: Any, contract: Contract, auth: bool = True) -> httpx.Client:
    creds = app.behaviour.credentials()
    return httpx.Client(transport=SyncASGITransport(app), base_url=BASE, auth=auth_for(contract, creds) if auth else None)


def _path(app: Any, contract: Contract, op: Operation) -> str:
    path = op.path
    for name in op.path_params():
        ptr = op.param_schemas.get(("path", name))
        value = app.ctx.synth.value(contract.at(ptr)) if ptr else "1"
        path = path.replace("{" + name + "}", str(value))
    return path


def _invalid_input(contract: Contract, op: Operation) -> dict[str, Any] | None:
    """Request arguments that break the operation's input contract (None: it takes no input to break)."""
    media = next(iter(op.request_body), None)
    if media is not None and ("json" in media or media.endswith("+json")):
        return {"content": b"[1, 2]", "headers": {"Content-Type": media}}
    if any(p.get("in") == "query" and p.get("required") for p in op.parameters):
        return {}  # required query parameters left out
    return None


def _generic_ok(vendor: str) -> bool:
    """Whether the contract alone (no behaviour module) can serve the vendor: not with a login flow."""
    schemes = load_contract(vendor).security_schemes.values()
    return all((s.get("x-apiconform-auth") or {}).get("flow") != "jwt-login" for s in schemes)


CASES = [pytest.param(v, False, id=v) for v in VENDORS] + [
    pytest.param(v, True, id=f"{v}-contract-only") for v in VENDORS if _generic_ok(v)]


@pytest.mark.parametrize(("vendor", "generic"), CASES)
def test_every_mock_error_is_vendor_style(vendor: str, generic: bool) -> None:
    """With the vendor's behaviour module, and with the contract alone (the generic engine's own bodies)."""
    contract = load_contract(vendor)
    app = build_app(contract, behaviour=Behaviour(contract) if generic else None)
    http, anonymous = _client(app, contract), _client(app, contract, auth=False)
    problems: list[str] = []
    seen: dict[str, int] = {}

    def check(op: Operation | None, kind: str, response: httpx.Response, statuses: tuple[int, ...]) -> None:
        if response.status_code not in statuses:
            return  # this operation answers otherwise (e.g. validation before existence); not this kind
        seen[kind] = seen.get(kind, 0) + 1
        problems.extend(judge(contract, app, op, kind, response))

    for op in contract:
        path = _path(app, contract, op)
        if op.security and not any(not req for req in op.security):
            check(op, "unauthenticated", anonymous.request(op.method.upper(), path), (401, 403, 404))
        bad = _invalid_input(contract, op)
        if bad is not None and op.documents_validation:
            check(op, "validation", http.request(op.method.upper(), path, **bad), (400, 422))
        if op.id_param and "404" in op.responses:
            check(op, "not_found", http.request(op.method.upper(), path, json={} if op.request_body else None), (404,))
    check(None, "not_found", http.get("/no-such-route/at-all"), (404,))
    some = next(iter(contract))
    unused = next(m for m in ("PATCH", "PUT", "DELETE", "POST", "GET")
                  if not any(o.method.upper() == m and o.path == some.path for o in contract))
    wrong_method = http.request(unused, _path(app, contract, some))
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"]
    check(None, "method_not_allowed", wrong_method, (405,))
    limited = build_app(contract, behaviour=Behaviour(contract) if generic else None, rate_limit=1)
    limited_http = _client(limited, contract)
    answers = [limited_http.request(some.method.upper(), _path(limited, contract, some)) for _ in range(2)]
    assert answers[1].status_code == 429, answers[1].text
    problems.extend(judge(contract, limited, some, "rate_limited", answers[1]))

    assert {"not_found", "method_not_allowed"} <= set(seen), seen
    if any(op.security for op in contract):
        assert seen.get("unauthenticated"), seen
    if any(op.documents_validation for op in contract):
        assert seen.get("validation"), seen
    assert not problems, "\n".join(problems[:20])


def test_the_judge_catches_generic_and_wrong_error_bodies() -> None:
    """The checks above fail on the bodies the mocks used to give (seen failing before the fix)."""
    contract = load_contract("goodstack")
    app = build_app(contract)
    op = contract.operation("create_eligibility_subscription")
    wrong = {"error": {"code": "unauthorized", "title": "Unauthorized", "message": "message 13"}}
    response = httpx.Response(400, json=wrong)
    found = judge(contract, app, op, "validation", response)
    assert any("filler" in p for p in found) and any("names another kind" in p for p in found), found
    placeholder = httpx.Response(400, json={"error": {"code": "string", "title": "string", "message": "string"}})
    assert judge(contract, app, op, "validation", placeholder)
    assert judge(contract, app, None, "not_found", httpx.Response(404, json={"detail": "Not found."}))  # not Goodstack's shape


def test_error_kinds_have_one_vocabulary() -> None:
    """The kinds `x-apiconform-error` may name (checked by `contracts check`) are the kinds the mock produces."""
    from apiconform.contracts import ERROR_KINDS
    from apiconform.mock._errors import KIND_STATUSES, KIND_TEXT

    assert set(ERROR_KINDS) == set(KIND_STATUSES) == set(KIND_TEXT)


def test_contracts_check_rejects_an_unknown_error_kind(tmp_path: Any) -> None:
    import shutil

    from apiconform.contracts import check_contract, contract_path

    folder = tmp_path / "goodstack"
    shutil.copytree(contract_path("goodstack").parent, folder)
    document = folder / "openapi.yaml"
    document.write_text(document.read_text().replace("x-apiconform-error: validation", "x-apiconform-error: validaton"))
    result = check_contract(str(document))
    assert any("unknown x-apiconform-error kind(s) 'validaton'" in p.message for p in result.problems), result.problems
