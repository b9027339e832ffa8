"""apiconform.redact: no credential survives in text, headers, URLs, JSON or curl repros."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote, quote_plus

import httpx

from apiconform.auth import HmacAuth, issue_tokens, secret_values
from apiconform.redact import MASK, Redactor, redact_jwts

API_KEY = "k3y/very+secret=="
API_ID = "cms-client-17"
CREDS = {"api_id": API_ID, "api_key": API_KEY}


def redactor(*extra: str) -> Redactor:
    return Redactor(secret_values(CREDS), extra_names=extra)


def test_text_masks_raw_and_encoded_forms() -> None:
    r = redactor()
    for form in (API_KEY, quote(API_KEY, safe=""), quote_plus(API_KEY), json.dumps(API_KEY)[1:-1]):
        out = r.text(f"failed with key {form} here")
        assert out == f"failed with key {MASK} here", form
    assert "very" not in r.text(f"a{API_KEY}b{API_KEY}")
    assert r.text("nothing secret") == "nothing secret"


def test_short_secrets_are_ignored() -> None:
    r = Redactor(["abc", "", "1"])
    assert r.text("abc 1 abcabc") == "abc 1 abcabc"


def test_runtime_secrets_can_be_added() -> None:
    r = redactor()
    assert r.text("opaque-refresh-777") == "opaque-refresh-777"
    r.add("opaque-refresh-777", None)
    assert r.text("opaque-refresh-777") == MASK


def test_jwts_masked_everywhere() -> None:
    token = issue_tokens("role", "signing-key-0123456789abcdef0123")["access_token"]
    assert redact_jwts(f"Authorization: JWT {token}; next") == f"Authorization: JWT {MASK}; next"
    assert Redactor([]).text(f"got {token}") == f"got {MASK}"
    assert redact_jwts("eyJhbGciOi is not a jwt") == "eyJhbGciOi is not a jwt"


def test_text_masks_sensitive_fragments_of_unknown_values() -> None:
    r = Redactor([])
    out = r.text('GET /x?sig=abcdef0123&page=2 {"refresh_token": "opaque-1", "id": 3}\nX-Session-Token: s-99\nAccept: */*')
    assert "abcdef0123" not in out and "opaque-1" not in out and "s-99" not in out
    assert "page=2" in out and '"id": 3' in out and "Accept: */*" in out


def test_headers() -> None:
    r = redactor("X-Vendor-Secret")
    headers = {
        "Authorization": "JWT eyJabc.eyJdef.ghi",
        "X-Session-Token": "sess-0123456789",
        "Cookie": "sid=abc123; theme=dark",
        "Set-Cookie": "sid=abc123; Path=/; HttpOnly",
        "Proxy-Authorization": "Basic dXNlcjpwYXNz",
        "X-Api-Key": "sk_live_1",
        "X-Vendor-Secret": "v-secret",
        "Idempotency-Key": "idem-4711",
        "Location": f"https://h/next?token=t0k3n&page=2&k={quote(API_KEY, safe='')}",
        "X-Debug": f"signed with {API_KEY}",
    }
    out = r.headers(headers)
    assert out["Authorization"] == f"JWT {MASK}"
    assert out["X-Session-Token"] == out["X-Api-Key"] == out["X-Vendor-Secret"] == MASK
    assert out["Cookie"] == f"sid={MASK}; theme={MASK}"
    assert out["Set-Cookie"] == f"sid={MASK}; Path=/; HttpOnly"
    assert out["Proxy-Authorization"] == f"Basic {MASK}"
    assert out["Idempotency-Key"] == "idem-4711"  # not a secret: findings need it
    assert out["Location"] == f"https://h/next?token={MASK}&page=2&k={MASK}"
    assert out["X-Debug"] == f"signed with {MASK}"
    # raw Authorization without a known scheme word is masked whole
    assert r.headers({"authorization": "sk_test_abc def"}) == {"authorization": MASK}
    # repeated headers survive as pairs
    pairs = r.headers(httpx.Headers([("set-cookie", "a=1"), ("set-cookie", "b=2")]))
    assert pairs == [("set-cookie", f"a={MASK}"), ("set-cookie", f"b={MASK}")]


def test_url() -> None:
    r = redactor("session")
    url = (f"https://user:pa55word@cms.test/v2/{API_ID}/courses?api_id={API_ID}&data=%7B%22diocese_id%22%3A7%7D"
           f"&sig=ab12cd&course_id=42&Access-Token=x1&session=zz&note={quote_plus(API_KEY)}#frag")
    out = r.url(url)
    assert "pa55word" not in out and API_ID not in out and "ab12cd" not in out and "zz" not in out
    assert quote_plus(API_KEY) not in out and "x1" not in out
    assert "course_id=42" in out and "data=%7B%22diocese_id%22%3A7%7D" in out and "#frag" in out
    assert out.startswith(f"https://user:{MASK}@cms.test/v2/{MASK}/courses?api_id={MASK}&")
    assert r.url("https://h/p") == "https://h/p"


def test_json() -> None:
    r = redactor("x-vendor-secret")
    payload = {
        "token": {"access_token": "a.b.c", "refresh_token": "r-123", "expires_in": 300},
        "secret_id": "s-1", "role_id": "r-1", "password": 1234, "Api-Key": "k", "X-Vendor-Secret": "v",
        "items": [{"sig": "ff00"}, {"name": f"note about {API_KEY}"}, None, True],
        "count": 3, "nothing": None,
    }
    out = r.json(payload)
    assert out["token"] == {"access_token": MASK, "refresh_token": MASK, "expires_in": MASK}
    assert out["secret_id"] == out["role_id"] == out["password"] == out["Api-Key"] == out["X-Vendor-Secret"] == MASK
    assert out["items"] == [{"sig": MASK}, {"name": f"note about {MASK}"}, None, True]
    assert out["count"] == 3 and out["nothing"] is None
    assert payload["token"]["refresh_token"] == "r-123"  # input untouched
    assert json.loads(json.dumps(out)) == out


def test_curl_is_reproducible_and_redacted() -> None:
    r = redactor()
    cmd = r.curl(
        "post",
        f"https://cms.test/v2/contacts/5/courses?api_id={API_ID}&sig=0a1b&course_id=42",
        {"Authorization": "Bearer tok-123456", "Content-Type": "application/x-www-form-urlencoded",
         "Content-Length": "99", "Idempotency-Key": "idem-1"},
        f"data=%7B%7D&api_key={quote_plus(API_KEY)}&note=it%27s".encode(),
    )
    argv = shlex.split(cmd)
    assert argv[:4] == ["curl", "--globoff", "-X", "POST"]
    assert argv[4] == f"https://cms.test/v2/contacts/5/courses?api_id={MASK}&sig={MASK}&course_id=42"
    assert "Authorization: Bearer [REDACTED]" in argv and "Idempotency-Key: idem-1" in argv
    assert not any(a.startswith("Content-Length") for a in argv)
    assert argv[-2:] == ["--data-raw", f"data=%7B%7D&api_key={MASK}&note=it%27s"]
    for secret in (API_ID, API_KEY, quote_plus(API_KEY), "tok-123456", "0a1b"):
        assert secret not in cmd

    json_cmd = r.curl("PUT", "https://h/x", {"Content-Type": "application/json"},
                      {"secret_id": "s-123456", "name": "it's ok"})
    body = json.loads(shlex.split(json_cmd)[-1])
    assert body == {"secret_id": MASK, "name": "it's ok"}
    assert shlex.split(r.curl("GET", "https://h/x")) == ["curl", "https://h/x"]
    assert shlex.split(r.curl("HEAD", "https://h/x")) == ["curl", "--head", "https://h/x"]


def test_signed_request_from_hmac_auth_leaves_no_secret() -> None:
    """End to end: what HmacAuth actually sends, rendered as a curl repro, carries no credential."""
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=HmacAuth(**CREDS)) as client:
        client.post("https://cms.test/v2/contacts/5/courses", params={"course_id": 42},
                    data={"data": json.dumps({"diocese_id": 7}), "echo": API_KEY})
    request = captured[0]
    sig = request.url.params["sig"]
    cmd = redactor().curl(request.method, str(request.url), request.headers, request.content)
    assert sig not in cmd and API_ID not in cmd and API_KEY not in cmd and quote_plus(API_KEY) not in cmd
    assert "course_id=42" in cmd


def test_secrets_under_compound_key_names_are_masked_in_bodies() -> None:
    """A vendor's login answer can carry its configuration (TeSLA: CELERY_BROKER_PASSWORD)."""
    from apiconform.redact import Redactor

    body = '{"config": {"CELERY_BROKER_PASSWORD": "guest", "db_secret": "s3", "TESLA_DOMAIN": "localhost"}}'
    masked = Redactor([]).body(body, "application/json")
    assert "guest" not in masked and "s3" not in masked and "localhost" in masked


def test_a_schema_under_a_sensitive_key_teaches_no_secret_but_a_token_there_does() -> None:
    """A vendor answering a JSON Schema that describes a `password` property (`{"type": "string"}`) hands out no
    secret: learning every string under the key taught the redactor the word `string`, which then masked it inside
    every text and pointer (`/server/api/auth_[REDACTED]`). A credential's own value (a string, or strings in a list)
    under a sensitive key is still learned, and reports still mask everything under such a key by structure."""
    r = redactor()
    answer = {"fields": {"properties": {"password": {"type": "string", "title": "Password", "format": "password"},
                                        "token": {"anyOf": [{"type": "string"}, {"type": "null"}]}}},
              "access_token": "vendor-issued-token-0f3a9c", "api_key": ["vendor-key-one", "vendor-key-two"]}
    r.learn_json(answer)
    assert {"string", "Password", "password"}.isdisjoint(r.secrets)
    assert {"vendor-issued-token-0f3a9c", "vendor-key-one", "vendor-key-two"} <= r.secrets
    assert r.text("/server/api/auth_string") == "/server/api/auth_string"
    assert "vendor-key-two" not in r.text("echoed: vendor-key-two") and MASK in r.text("echoed: vendor-key-two")
    shown = r.json(answer)
    assert shown["fields"]["properties"]["password"] == {"type": MASK, "title": MASK, "format": MASK}
    assert shown["access_token"] == MASK


def test_values_known_to_be_public_are_never_learned() -> None:
    """What the run made up and sent itself is no one's secret, however the vendor echoes it back (`public`)."""
    r = redactor()
    r.learn_json({"access_token": "made-up-by-the-run", "refresh_token": "vendor-refresh-991"},
                 public={"made-up-by-the-run"})
    r.learn_request(httpx.Request("GET", "https://api.example.com/x?token=sent-by-the-run"), public={"sent-by-the-run"})
    assert "made-up-by-the-run" not in r.secrets and "sent-by-the-run" not in r.secrets
    assert "vendor-refresh-991" in r.secrets
    r.learn_request(httpx.Request("GET", "https://api.example.com/x?token=a-token-on-the-wire"))
    assert "a-token-on-the-wire" in r.secrets


def test_a_pointer_is_masked_only_by_whole_segments() -> None:
    """A pointer is structure: a secret's text inside a segment is left alone (one finding, one fingerprint), a
    segment that *is* a secret (a map keyed by a token) or a JWT is masked."""
    r = redactor()
    r.add("string", "tok-key-123456")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
    assert r.pointer("/server/api/auth_string") == "/server/api/auth_string"
    assert r.pointer("/sessions/tok-key-123456/user") == f"/sessions/{MASK}/user"
    assert r.pointer(f"/by_token/{jwt}") == f"/by_token/{MASK}"
    assert r.pointer(f"/keys/{API_KEY.replace('/', '~1')}") == f"/keys/{MASK}"
    assert r.pointer("") == ""


def test_a_basic_user_name_is_an_identifier_the_password_the_secret() -> None:
    """HTTP Basic's user name names an account (it appears in the vendor's paths: `/api/admin/settings`): reports
    keep it, so a reproduce line stays true; the password is masked everywhere. A user name with an empty password
    is the credential itself (an API key sent as the user name) and stays masked."""
    class Basic:  # what `secret_values` reads of a contract: its schemes
        security_schemes = {"basic": {"type": "http", "scheme": "basic"}}
        document: dict[str, object] = {}

    contract = Basic()
    r = Redactor(secret_values({"username": "admin", "password": "prefect-s3cret"}, contract))
    curl = r.curl("GET", "http://127.0.0.1:1/api/admin/settings",
                  {"authorization": "Basic YWRtaW46cHJlZmVjdC1zM2NyZXQ="}, None)
    assert "/api/admin/settings" in curl and "prefect-s3cret" not in curl and "YWRtaW46" not in curl
    assert r.text("password prefect-s3cret") == f"password {MASK}"
    keyed = Redactor(secret_values({"username": "sk_live_51Habc", "password": ""}, contract))
    assert keyed.text("/v1/charges?key=sk_live_51Habc") == f"/v1/charges?key={MASK}"
    # without a contract (no flow known): every value masked, as before
    assert "admin" in Redactor(secret_values({"username": "admin", "password": "pw-123456"})).secrets
