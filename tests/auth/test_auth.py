"""apiconform.auth: every flow's client Auth is checked against its own server-side verify."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiconform.auth import (
    CREDENTIAL_FIELDS,
    ApiKeyAuth,
    AuthFailed,
    BearerAuth,
    HmacAuth,
    JwtLoginAuth,
    auth_for,
    encode_data,
    issue_tokens,
    secret_values,
    sign,
    verify_jwt,
    verify_login,
    verify_refresh,
    verify_request,
)
from apiconform.auth import api_key as api_key_flow
from apiconform.auth import bearer as bearer_flow
from apiconform.auth import hmac_sha256, jwt_login
from apiconform.contracts import load_contract
from apiconform.errors import ConfigError, TargetUnavailable

BASE = "https://vendor.test"

HMAC_SCHEME = {
    "type": "apiKey", "in": "query", "name": "api_id",
    "x-apiconform-auth": {"flow": "hmac-sha256", "key_param": "api_id", "signature_param": "sig",
                          "data_param": "data"},
}
JWT_SCHEME = {
    "type": "apiKey", "in": "header", "name": "Authorization",
    "x-apiconform-auth": {"flow": "jwt-login", "prefix": "JWT", "login": "/api/v2/auth/approle",
                          "refresh": "/api/v2/auth/token/refresh"},
}
HMAC_CREDS = {"api_id": "cms-client-17", "api_key": "k3y-very-secret"}
JWT_CREDS = {"role_id": "role-abc-123", "secret_id": "secret-xyz-789", "jwt_secret": "mock-signing-key-0123456789abcdef"}


def contract(schemes: dict[str, Any], security: list[dict[str, list[str]]] | None = None) -> SimpleNamespace:
    doc = {"components": {"securitySchemes": schemes}}
    if security is not None:
        doc["security"] = security
    return SimpleNamespace(security_schemes=schemes, document=doc)


def form_of(request: httpx.Request) -> list[tuple[str, str]]:
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return parse_qsl(request.content.decode(), keep_blank_values=True)
    return []


def verifying_transport(scheme: dict[str, Any], creds: dict[str, str]) -> httpx.MockTransport:
    """A mock vendor that answers 200 when verify_request accepts the request, else 401 + reason."""

    def handler(request: httpx.Request) -> httpx.Response:
        reason = verify_request(scheme, creds, request.method, request.url.path,
                                request.url.params, request.headers, form_of(request))
        return httpx.Response(401, json={"reason": reason}) if reason else httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler)


# ---------------------------------------------------------------- hmac-sha256


def by_hand(values_in_name_order: list[str], key: str) -> str:
    return hmac.new(key.encode(), "".join(values_in_name_order).encode(), hashlib.sha256).hexdigest()


def test_hmac_sign_known_answer() -> None:
    params = {"data": '{"diocese_id":7}', "course_id": "42", "api_id": "cms-client-17", "sig": "ignored"}
    # sorted by NAME: api_id, course_id, data — sig excluded; values joined with no separator
    expected = by_hand(["cms-client-17", "42", '{"diocese_id":7}'], "k3y-very-secret")
    assert sign(params, "k3y-very-secret") == expected
    assert len(expected) == 64 and expected == expected.lower()
    # the recipe details matter: sorting by value, or including sig, gives another signature
    assert sign(params, "k3y-very-secret") != by_hand(sorted(v for k, v in params.items() if k != "sig"), "k3y-very-secret")
    assert sign(params, "k3y-very-secret", signature_param="other") != expected
    assert sign(params, "wrong-key") != expected


def test_hmac_sign_rejects_ambiguous_duplicates() -> None:
    with pytest.raises(ValueError, match="more than once"):
        sign([("a", "1"), ("a", "2")], "key1")


def signed_query(**extra: str) -> dict[str, str]:
    params = {"api_id": HMAC_CREDS["api_id"], "data": encode_data({"diocese_id": 7}), "course_id": "42", **extra}
    params["sig"] = sign(params, HMAC_CREDS["api_key"])
    return params


def test_hmac_verify_accepts_good_and_rejects_bad() -> None:
    good = signed_query()
    assert hmac_sha256.verify("POST", "/v2/contacts/1/courses", good, {}, None, HMAC_CREDS, HMAC_SCHEME) is None

    wrong_key = dict(good, sig=sign({k: v for k, v in good.items() if k != "sig"}, "not-the-key"))
    assert hmac_sha256.verify("POST", "/", wrong_key, {}, None, HMAC_CREDS, HMAC_SCHEME) == "sig does not match"

    tampered = dict(good, course_id="43")
    assert hmac_sha256.verify("POST", "/", tampered, {}, None, HMAC_CREDS, HMAC_SCHEME) == "sig does not match"

    added = dict(good, qualification_id="9")  # a parameter smuggled in after signing
    assert hmac_sha256.verify("POST", "/", added, {}, None, HMAC_CREDS, HMAC_SCHEME) == "sig does not match"

    missing_sig = {k: v for k, v in good.items() if k != "sig"}
    assert hmac_sha256.verify("POST", "/", missing_sig, {}, None, HMAC_CREDS, HMAC_SCHEME) == "missing sig"

    missing_id = {k: v for k, v in good.items() if k != "api_id"}
    assert hmac_sha256.verify("POST", "/", missing_id, {}, None, HMAC_CREDS, HMAC_SCHEME) == "missing api_id"

    other_client = signed_query(api_id="someone-else")
    assert hmac_sha256.verify("POST", "/", other_client, {}, None, HMAC_CREDS, HMAC_SCHEME) == "unknown api_id"

    duplicated = list(good.items()) + [("course_id", "42")]
    assert "more than once" in hmac_sha256.verify("POST", "/", duplicated, {}, None, HMAC_CREDS, HMAC_SCHEME)


def test_hmac_verify_signs_query_and_form_together() -> None:
    query = {"api_id": HMAC_CREDS["api_id"], "course_id": "42"}
    form = {"data": '{"diocese_id":7}'}
    sig = sign({**query, **form}, HMAC_CREDS["api_key"])
    assert verify_request(HMAC_SCHEME, HMAC_CREDS, "POST", "/", dict(query, sig=sig), {}, form) is None
    assert verify_request(HMAC_SCHEME, HMAC_CREDS, "POST", "/", dict(query, sig=sig), {}, {"data": "{}"}) is not None


def test_hmac_auth_signed_request_verifies_server_side() -> None:
    auth = HmacAuth.from_scheme(HMAC_SCHEME, HMAC_CREDS)
    with httpx.Client(transport=verifying_transport(HMAC_SCHEME, HMAC_CREDS), base_url=BASE, auth=auth) as client:
        r = client.post("/v2/contacts/5/courses",
                        params={"course_id": 42, "data": encode_data({"diocese_id": 7}), "booked_at": "2024-01-02 x&y"})
        assert r.status_code == 200, r.text
        sent = r.request.url.params
        assert sent["api_id"] == HMAC_CREDS["api_id"] and len(sent["sig"]) == 64
        # a form body is signed too (the server reads it as parameters)
        r = client.post("/v2/contacts/5/courses", params={"course_id": 42},
                        data={"data": encode_data({"diocese_id": 7}), "note": "ünïcode + spaces"})
        assert r.status_code == 200, r.text
        # a stale sig already on the URL is replaced, not signed over
        r = client.post("/v2/contacts/5/courses", params={"course_id": 1, "sig": "0" * 64})
        assert r.status_code == 200 and r.request.url.params.get_list("sig") != ["0" * 64]

    bad = HmacAuth(HMAC_CREDS["api_id"], "wrong-key")
    with httpx.Client(transport=verifying_transport(HMAC_SCHEME, HMAC_CREDS), base_url=BASE, auth=bad) as client:
        r = client.post("/v2/contacts/5/courses", params={"course_id": 42})
        assert r.status_code == 401 and r.json()["reason"] == "sig does not match"


def test_hmac_auth_refuses_conflicting_api_id() -> None:
    auth = HmacAuth(HMAC_CREDS["api_id"], HMAC_CREDS["api_key"])
    with httpx.Client(transport=verifying_transport(HMAC_SCHEME, HMAC_CREDS), auth=auth) as client:
        with pytest.raises(ValueError, match="different 'api_id'"):
            client.get(f"{BASE}/x", params={"api_id": "other"})


def hmac_app() -> Starlette:
    async def courses(request: Request) -> Response:
        body = (await request.body()).decode()
        form = parse_qsl(body, keep_blank_values=True) if body else []
        reason = verify_request(HMAC_SCHEME, HMAC_CREDS, request.method, request.url.path,
                                request.query_params, request.headers, form)
        return JSONResponse({"reason": reason}, status_code=401) if reason else JSONResponse({"id": 1})

    return Starlette(routes=[Route("/v2/contacts/{id}/courses", courses, methods=["POST"])])


def test_hmac_auth_async_against_starlette_app() -> None:
    async def run() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=hmac_app())
        good = HmacAuth(**HMAC_CREDS)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, auth=good) as client:
            ok = await client.post("/v2/contacts/5/courses", params={"course_id": 42},
                                   data={"data": encode_data({"diocese_id": 7})})
        async with httpx.AsyncClient(transport=transport, base_url=BASE,
                                     auth=HmacAuth(HMAC_CREDS["api_id"], "nope-nope")) as client:
            bad = await client.post("/v2/contacts/5/courses", params={"course_id": 42})
        return ok.status_code, bad.status_code

    assert asyncio.run(run()) == (200, 401)


# ---------------------------------------------------------------- api-key and bearer


@pytest.mark.parametrize(
    "scheme",
    [
        {"type": "apiKey", "in": "header", "name": "X-Session-Token", "x-apiconform-auth": {"flow": "api-key"}},
        {"type": "apiKey", "in": "header", "name": "Authorization", "x-apiconform-auth": {"flow": "api-key", "prefix": "Token"}},
        {"type": "apiKey", "in": "query", "name": "api_key", "x-apiconform-auth": {"flow": "api-key"}},
        {"type": "apiKey", "in": "cookie", "name": "session", "x-apiconform-auth": {"flow": "api-key"}},
    ],
    ids=["header", "prefixed", "query", "cookie"],
)
def test_api_key_auth_round_trip(scheme: dict[str, Any]) -> None:
    creds = {"api_key": "test-key-0123456789"}
    auth = auth_for(contract({"k": scheme}), creds)
    assert isinstance(auth, ApiKeyAuth)
    with httpx.Client(transport=verifying_transport(scheme, creds), base_url=BASE, auth=auth,
                      cookies={"other": "1"}) as client:
        assert client.get("/things", params={"page": 2}).status_code == 200
    # without credentials, and with the wrong key, the same mock rejects
    with httpx.Client(transport=verifying_transport(scheme, creds), base_url=BASE) as client:
        r = client.get("/things")
        assert r.status_code == 401 and r.json()["reason"].startswith("missing")
    wrong = ApiKeyAuth.from_scheme(scheme, {"api_key": "test-key-wrong"})
    with httpx.Client(transport=verifying_transport(scheme, creds), base_url=BASE, auth=wrong) as client:
        r = client.get("/things")
        assert r.status_code == 401 and r.json()["reason"].startswith("invalid")


def test_api_key_prefix_and_placement() -> None:
    scheme = {"type": "apiKey", "in": "header", "name": "Authorization", "x-apiconform-auth": {"flow": "api-key", "prefix": "Token"}}
    creds = {"api_key": "abcd1234"}
    assert api_key_flow.verify("GET", "/", {}, {"authorization": "Token abcd1234"}, None, creds, scheme) is None
    assert api_key_flow.verify("GET", "/", {}, {"Authorization": "abcd1234"}, None, creds, scheme) == "invalid Authorization"
    query_scheme = {"type": "apiKey", "in": "query", "name": "key"}
    assert api_key_flow.verify("GET", "/", {}, {"key": "abcd1234"}, None, creds, query_scheme) == "missing key query"
    assert api_key_flow.verify("GET", "/", [("key", "abcd1234"), ("key", "x")], {}, None, creds, query_scheme) \
        == "key given more than once"


def test_bearer_round_trip_and_rejections() -> None:
    scheme = {"type": "http", "scheme": "bearer", "x-apiconform-auth": {"flow": "bearer"}}
    creds = {"token": "tok_0123456789"}
    auth = auth_for(contract({"b": scheme}), creds)
    assert isinstance(auth, BearerAuth)
    with httpx.Client(transport=verifying_transport(scheme, creds), base_url=BASE, auth=auth) as client:
        r = client.get("/me")
        assert r.status_code == 200 and r.request.headers["Authorization"] == "Bearer tok_0123456789"
    assert bearer_flow.verify("GET", "/", {}, {"authorization": "bearer tok_0123456789"}, None, creds) is None
    assert bearer_flow.verify("GET", "/", {}, {}, None, creds) == "missing Authorization header"
    assert bearer_flow.verify("GET", "/", {}, {"Authorization": "Basic tok_0123456789"}, None, creds) \
        == "Authorization is not a Bearer credential"
    assert bearer_flow.verify("GET", "/", {}, {"Authorization": "Bearer tok_wrong"}, None, creds) == "invalid bearer token"


# ---------------------------------------------------------------- jwt-login: server helpers

SECRET = JWT_CREDS["jwt_secret"]


def test_issue_tokens_and_verify_jwt() -> None:
    tokens = issue_tokens("role-abc-123", SECRET, ttl_seconds=60)
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    claims = jwt.decode(access, SECRET, algorithms=["HS256"])
    assert claims["type"] == "access" and claims["sub"] == "role-abc-123" and claims["exp"] <= time.time() + 61
    assert jwt.decode(refresh, SECRET, algorithms=["HS256"])["type"] == "refresh"

    assert verify_jwt(f"JWT {access}", SECRET) is None
    assert verify_jwt(f"jwt {access}", SECRET, subject="role-abc-123") is None
    assert verify_jwt(None, SECRET) == "missing Authorization header"
    assert verify_jwt(f"Bearer {access}", SECRET) == "Authorization is not a JWT credential"
    assert verify_jwt("JWT", SECRET) == "Authorization is not a JWT credential"
    assert verify_jwt(f"JWT {access}", "another-signing-key-0123456789ab") == "bad token signature"
    assert verify_jwt("JWT not.a.jwt", SECRET) == "malformed token"
    assert verify_jwt(f"JWT {refresh}", SECRET) == "refresh token used as access token"
    assert verify_jwt(f"JWT {access}", SECRET, subject="someone-else") == "token issued to another subject"
    expired = issue_tokens("role-abc-123", SECRET, ttl_seconds=-5)["access_token"]
    assert verify_jwt(f"JWT {expired}", SECRET) == "token expired"
    no_type = jwt.encode({"sub": "x", "exp": time.time() + 60}, SECRET, algorithm="HS256")
    assert verify_jwt(f"JWT {no_type}", SECRET) == "token lacks 'type'"

    assert verify_refresh(refresh, SECRET) is None
    assert verify_refresh(access, SECRET) == "access token used as refresh token"
    assert verify_refresh(None, SECRET) == "missing refresh_token"

    assert verify_login({"role_id": "role-abc-123", "secret_id": "secret-xyz-789"}, JWT_CREDS) is None
    assert verify_login({"role_id": "role-abc-123", "secret_id": "guess"}, JWT_CREDS) == "invalid role_id/secret_id"
    assert verify_login({"role_id": "role-abc-123"}, JWT_CREDS) == "missing secret_id"


def test_jwt_verify_dispatches_by_path() -> None:
    login_body = {"role_id": "role-abc-123", "secret_id": "secret-xyz-789"}
    assert verify_request(JWT_SCHEME, JWT_CREDS, "POST", "/api/v2/auth/approle", None, {}, login_body) is None
    assert verify_request(JWT_SCHEME, JWT_CREDS, "POST", "/api/v2/auth/approle", None, {}, {}) == "missing role_id"
    refresh = issue_tokens("r", SECRET)["refresh_token"]
    assert verify_request(JWT_SCHEME, JWT_CREDS, "POST", "/api/v2/auth/token/refresh", None, {},
                          {"refresh_token": refresh}) is None
    assert verify_request(JWT_SCHEME, JWT_CREDS, "GET", "/api/v2/x", None, {}, None) == "missing Authorization header"


# ---------------------------------------------------------------- jwt-login: client against a mock vendor


class JwtVendor:
    """A TeSLA-like mock: login, refresh, and one protected resource, all via jwt_login helpers."""

    def __init__(self, ttl: int = 300) -> None:
        self.ttl = ttl
        self.calls: list[str] = []
        self.revoked: set[str] = set()
        self.refresh_status = 200
        self.always_401 = False

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        payload = json.loads(body) if body else {}
        if path == "/api/v2/auth/approle":
            self.calls.append("login")
            if reason := verify_request(JWT_SCHEME, JWT_CREDS, method, path, None, headers, payload):
                return 401, {"reason": reason}
            return 200, {"token": issue_tokens(JWT_CREDS["role_id"], SECRET, self.ttl)}
        if path == "/api/v2/auth/token/refresh":
            self.calls.append("refresh")
            reason = verify_request(JWT_SCHEME, JWT_CREDS, method, path, None, headers, payload)
            if reason or self.refresh_status != 200:
                return self.refresh_status if not reason else 401, {"reason": reason or "refresh disabled"}
            return 200, {"token": {"access_token": jwt_login.issue_access(JWT_CREDS["role_id"], SECRET, self.ttl)}}
        self.calls.append("resource")
        reason = verify_request(JWT_SCHEME, JWT_CREDS, method, path, None, headers, None)
        token = (headers.get("authorization") or "").partition(" ")[2]
        if reason or token in self.revoked or self.always_401:
            return 401, {"reason": reason or "revoked"}
        return 200, {"sub": jwt_login.token_subject(token)}

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            status, payload = self.handle(request.method, request.url.path, request.headers, request.content)
            return httpx.Response(status, json=payload)

        return httpx.MockTransport(handler)

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            status, payload = self.handle(request.method, request.url.path, request.headers, await request.body())
            return JSONResponse(payload, status_code=status)

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


def jwt_client(vendor: JwtVendor, **kw: Any) -> tuple[httpx.Client, JwtLoginAuth]:
    auth = auth_for(contract({"jwt": JWT_SCHEME}), JWT_CREDS, **kw)
    assert isinstance(auth, JwtLoginAuth)
    return httpx.Client(transport=vendor.transport(), base_url=BASE, auth=auth), auth


def test_jwt_login_is_lazy_and_reused() -> None:
    vendor = JwtVendor()
    client, auth = jwt_client(vendor)
    assert vendor.calls == [] and auth.access_token is None
    with client:
        first = client.get("/api/v2/provider/1")
        second = client.get("/api/v2/provider/2")
    assert first.status_code == second.status_code == 200
    assert first.json()["sub"] == JWT_CREDS["role_id"]
    assert vendor.calls == ["login", "resource", "resource"]
    assert second.request.headers["Authorization"] == f"JWT {auth.access_token}"
    assert set(auth.tokens) == {auth.access_token, auth.refresh_token}


def test_jwt_refreshes_once_on_401_and_retries() -> None:
    vendor = JwtVendor()
    client, auth = jwt_client(vendor)
    with client:
        assert client.get("/api/v2/x").status_code == 200
        old = auth.access_token
        vendor.revoked.add(old)  # the vendor invalidates the token before its exp
        r = client.get("/api/v2/x")
    assert r.status_code == 200 and auth.access_token != old
    assert vendor.calls == ["login", "resource", "resource", "refresh", "resource"]


def test_jwt_refresh_failure_falls_back_to_login() -> None:
    vendor = JwtVendor()
    client, auth = jwt_client(vendor)
    with client:
        client.get("/api/v2/x")
        vendor.revoked.add(auth.access_token)
        vendor.refresh_status = 500
        r = client.get("/api/v2/x")
    assert r.status_code == 200
    assert vendor.calls == ["login", "resource", "resource", "refresh", "login", "resource"]


def test_jwt_persistent_401_retries_only_once() -> None:
    vendor = JwtVendor()
    client, _ = jwt_client(vendor)
    vendor.always_401 = True
    with client:
        r = client.get("/api/v2/x")
    assert r.status_code == 401
    assert vendor.calls == ["login", "resource", "refresh", "resource"]


def test_jwt_refreshes_proactively_before_expiry() -> None:
    vendor = JwtVendor(ttl=10)  # every token is within the 30 s margin
    client, auth = jwt_client(vendor)
    with client:
        client.get("/api/v2/x")
        before = auth.access_token
        r = client.get("/api/v2/x")
    assert r.status_code == 200 and auth.access_token != before
    assert vendor.calls == ["login", "resource", "refresh", "resource"]  # no 401 was needed
    # with a comfortable ttl, no refresh happens
    vendor2 = JwtVendor(ttl=600)
    client2, _ = jwt_client(vendor2)
    with client2:
        client2.get("/api/v2/x")
        client2.get("/api/v2/x")
    assert vendor2.calls == ["login", "resource", "resource"]


def test_jwt_login_failure_raises_without_leaking_secret() -> None:
    vendor = JwtVendor()
    auth = JwtLoginAuth("role-abc-123", "wrong-secret-id", login_path="/api/v2/auth/approle")
    with httpx.Client(transport=vendor.transport(), base_url=BASE, auth=auth) as client:
        with pytest.raises(AuthFailed) as info:
            client.get("/api/v2/x")
    assert isinstance(info.value, TargetUnavailable) and info.value.exit_code == 3
    assert "wrong-secret-id" not in str(info.value) and "HTTP 401" in str(info.value)
    assert vendor.calls == ["login"]


def test_jwt_login_endpoint_itself_is_not_wrapped() -> None:
    vendor = JwtVendor()
    client, auth = jwt_client(vendor)
    with client:
        r = client.post("/api/v2/auth/approle", json={"role_id": "role-abc-123", "secret_id": "secret-xyz-789"})
    assert r.status_code == 200 and "Authorization" not in r.request.headers and auth.access_token is None


def test_jwt_base_url_prefix() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/approle"):
            return httpx.Response(200, json={"token": issue_tokens("r", SECRET)})
        return httpx.Response(200)

    auth = auth_for(contract({"jwt": JWT_SCHEME}), JWT_CREDS, base_url=f"{BASE}/tesla/")
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.get(f"{BASE}/tesla/api/v2/x")
    assert seen == ["/tesla/api/v2/auth/approle", "/tesla/api/v2/x"]


def test_jwt_async_client_against_starlette_app() -> None:
    vendor = JwtVendor()
    auth = auth_for(contract({"jwt": JWT_SCHEME}), JWT_CREDS)

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=vendor.app()), base_url=BASE, auth=auth) as c:
            a = await c.get("/api/v2/x")
            vendor.revoked.add(auth.access_token)  # type: ignore[union-attr]
            b = await c.get("/api/v2/x")
            return [a.status_code, b.status_code]

    assert asyncio.run(run()) == [200, 200]
    assert vendor.calls == ["login", "resource", "resource", "refresh", "resource"]


# ---------------------------------------------------------------- factory


def test_auth_for_real_contracts() -> None:
    cofe = auth_for(load_contract("cofe-cms"), HMAC_CREDS)
    assert isinstance(cofe, HmacAuth)
    assert (cofe.key_param, cofe.signature_param, cofe.data_param) == ("api_id", "sig", "data")
    ctrlhub = auth_for(load_contract("ctrlhub"), {"api_key": "sess-0123"})
    assert isinstance(ctrlhub, ApiKeyAuth) and (ctrlhub.name, ctrlhub.location) == ("X-Session-Token", "header")
    goodstack = auth_for(load_contract("goodstack"), {"api_key": "sk_test_123"})
    assert isinstance(goodstack, ApiKeyAuth) and goodstack.value == "sk_test_123"  # raw key, no prefix


def test_auth_for_selection_and_errors() -> None:
    assert auth_for(contract({}), {}) is None
    assert auth_for(contract({"o": {"type": "oauth2", "flows": {}}}), {"token": "x"}) is None
    two = contract({"b": {"type": "http", "scheme": "bearer"}, "h": HMAC_SCHEME}, security=[{"h": []}])
    assert isinstance(auth_for(two, HMAC_CREDS), HmacAuth)  # top-level security wins over order
    assert isinstance(auth_for(two, {"token": "tok-1"}, scheme="b"), BearerAuth)
    with pytest.raises(KeyError):
        auth_for(two, {}, scheme="nope")
    with pytest.raises(ConfigError) as info:
        auth_for(contract({"h": HMAC_SCHEME}), {"api_id": "cms-client-17"})
    assert "api_key" in str(info.value) and "cms-client-17" not in str(info.value)


def test_credential_fields_and_secret_values() -> None:
    assert CREDENTIAL_FIELDS == {
        "api-key": ("api_key",), "bearer": ("token",),
        "hmac-sha256": ("api_id", "api_key"), "http-basic": ("username", "password"),
        "jwt-login": ("role_id", "secret_id"),
    }
    assert sorted(secret_values({"api_id": "a-1", "api_key": "k3y", "empty": ""})) == ["a-1", "k3y"]


def test_verify_request_rejects_unknown_flow() -> None:
    with pytest.raises(ValueError):
        verify_request({"type": "oauth2"}, {}, "GET", "/")

