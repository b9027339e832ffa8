"""jwt-login flow (TeSLA CE): log in with an AppRole, send `Authorization: JWT <access>`, refresh.

Client: `POST {login}` JSON `{role_id, secret_id}` -> `{"token": {"access_token", "refresh_token"}}`;
requests then carry `Authorization: {prefix} <access_token>`. The access token is refreshed
(`POST {refresh}` with the scheme's `refresh_body` template, default JSON `{refresh_token}`,
-> `{"token": {"access_token"}}`, falling back to a fresh
login) when its `exp` is within 30 s, and once after a 401, after which the request is retried once.

Credentials: `role_id`, `secret_id`; the mock additionally reads `jwt_secret` (the key it signs
tokens with; defaults to `secret_id`). Scheme: `x-apiconform-auth: {prefix, login, refresh}`.
"""

from __future__ import annotations

import json
import secrets
import shlex
import time
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import httpx

from apiconform.auth._common import AuthFailed, Params, auth_config, equal, header, pairs, require, same_path
from apiconform.auth._flow import AuthRequest, BaseFlow, ExampleCall, Owned, SensitiveNames, WrongCredentials

NAME = "jwt-login"
CREDENTIALS = ("role_id", "secret_id")
ALGORITHM = "HS256"
REFRESH_MARGIN = 30  # seconds before exp at which the client refreshes proactively
REFRESH_TTL_FACTOR = 24  # refresh tokens outlive access tokens


# ---------------------------------------------------------------- server side (mock)


def _mint(subject: str, secret: str, ttl_seconds: int, kind: str, encoding: str = "base64url") -> str:
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + ttl_seconds, "type": kind, "jti": secrets.token_hex(8)}
    if encoding == "base64":
        return _mint_padded(claims, secret)
    import jwt  # PyJWT imports `cryptography` (~0.1 s): only a jwt-login flow pays for it, not every CLI start

    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _mint_padded(claims: Mapping[str, Any], secret: str) -> str:
    """A JWT whose segments are standard, padded base64 (`token_encoding: base64`), as some vendors
    (e.g. Vault transit signing) issue them; clients that decode with plain base64 rely on it.
    PyJWT still verifies it (its decoder tolerates padding and the standard alphabet)."""
    import base64
    import hashlib
    import hmac
    import json

    def seg(data: bytes) -> bytes:
        return base64.b64encode(data)

    signing_input = seg(json.dumps({"alg": ALGORITHM, "typ": "JWT"}).encode()) + b"." + seg(json.dumps(dict(claims)).encode())
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def issue_access(subject: str, secret: str, ttl_seconds: int = 300, encoding: str = "base64url") -> str:
    """One HS256 access token (what the refresh endpoint returns)."""
    return _mint(subject, secret, ttl_seconds, "access", encoding)


def issue_tokens(subject: str, secret: str, ttl_seconds: int = 300, encoding: str = "base64url",
                 refresh_ttl: int | None = None) -> dict[str, str]:
    """An access/refresh pair as the login endpoint returns it under `token` (`refresh_ttl`: default
    `ttl_seconds` x REFRESH_TTL_FACTOR)."""
    return {
        "access_token": _mint(subject, secret, ttl_seconds, "access", encoding),
        "refresh_token": _mint(subject, secret, refresh_ttl or ttl_seconds * REFRESH_TTL_FACTOR, "refresh", encoding),
    }


# ---------------------------------------------------------------- refresh request shapes
# `x-apiconform-auth.refresh_body` (optional): the refresh request(s) the vendor accepts, as templates
# in which the strings "$access_token" / "$refresh_token" stand for the tokens. A template may carry a
# `header` (the Authorization value) beside its `body`. The client sends the first; the mock accepts
# any. Default: `[{body: {refresh_token: $refresh_token}}]`.
DEFAULT_REFRESH = ({"body": {"refresh_token": "$refresh_token"}},)


def refresh_templates(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    declared = config.get("refresh_body")
    if not declared:
        return list(DEFAULT_REFRESH)
    items = declared if isinstance(declared, list) else [declared]
    return [t if isinstance(t, Mapping) and "body" in t else {"body": t} for t in items]


def fill_template(template: Any, tokens: Mapping[str, str | None]) -> Any:
    """The template with `$access_token` / `$refresh_token` replaced (inside strings too)."""
    if isinstance(template, Mapping):
        return {k: fill_template(v, tokens) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_template(v, tokens) for v in template]
    if isinstance(template, str):
        for name, value in tokens.items():
            template = template.replace(f"${name}", value or "")
        return template
    return template


def match_template(template: Any, value: Any, found: dict[str, str]) -> bool:
    """Whether `value` has the template's shape; collects the token values it carries into `found`."""
    if isinstance(template, Mapping):
        return isinstance(value, Mapping) and all(k in value and match_template(t, value[k], found) for k, t in template.items())
    if isinstance(template, str) and "$" in template:
        if not isinstance(value, str):
            return False
        prefix, _, name = template.partition("$")
        if not value.startswith(prefix) or not value[len(prefix):].strip():
            return False
        found[name] = value[len(prefix):].strip()
        return True
    return bool(template == value)


def refresh_tokens_in(config: Mapping[str, Any], body: Any, authorization: str | None) -> dict[str, str] | None:
    """The tokens a refresh request carries, if it has one of the accepted shapes (None: it has none)."""
    for template in refresh_templates(config):
        found: dict[str, str] = {}
        if not match_template(template["body"], body, found):
            continue
        if "header" in template and not match_template(template["header"], authorization or "", found):
            continue
        return found
    return None


def _decode(token: str, secret: str, kind: str) -> tuple[dict[str, Any] | None, str | None]:
    import jwt

    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "type"]}
        )
    except jwt.ExpiredSignatureError:
        return None, "token expired"
    except jwt.InvalidSignatureError:
        return None, "bad token signature"
    except jwt.MissingRequiredClaimError as exc:
        return None, f"token lacks {exc.claim!r}"
    except jwt.InvalidTokenError:
        return None, "malformed token"
    if claims.get("type") != kind:
        return None, f"{claims.get('type')} token used as {kind} token"
    return claims, None


def verify_jwt(
    header_value: str | None, secret: str, prefix: str = "JWT", subject: str | None = None
) -> str | None:
    """Check an Authorization value: None if it carries a valid, unexpired access token."""
    if not header_value:
        return "missing Authorization header"
    given_prefix, _, token = header_value.strip().partition(" ")
    if given_prefix.lower() != prefix.lower() or not token.strip():
        return f"Authorization is not a {prefix} credential"
    claims, reason = _decode(token.strip(), secret, "access")
    if reason:
        return reason
    if subject is not None and claims and claims.get("sub") != subject:
        return "token issued to another subject"
    return None


def verify_login(body: Mapping[str, Any] | None, credentials: Mapping[str, str]) -> str | None:
    """Check a login body's role_id/secret_id against the expected credentials."""
    body = body or {}
    for field in CREDENTIALS:
        if not isinstance(body.get(field), str) or not body[field]:
            return f"missing {field}"
    role_ok = equal(body["role_id"], credentials.get("role_id", ""))
    secret_ok = equal(body["secret_id"], credentials.get("secret_id", ""))  # both compared: no early exit
    if not (role_ok and secret_ok):
        return "invalid role_id/secret_id"
    return None


def verify_refresh(refresh_token: Any, secret: str) -> str | None:
    """Check a refresh token (signature, expiry, and that it is not an access token)."""
    if not isinstance(refresh_token, str) or not refresh_token:
        return "missing refresh_token"
    return _decode(refresh_token, secret, "refresh")[1]


def token_subject(token: str) -> str | None:
    """The `sub` claim, read without verification (call only after a verify_* returned None)."""
    return _claims(token).get("sub")


def server_secret(credentials: Mapping[str, str]) -> str:
    """The key the mock signs and checks tokens with."""
    return credentials.get("jwt_secret") or credentials.get("secret_id", "")


def verify(
    method: str,
    path: str,
    query: Params | None,
    headers: Mapping[str, str] | None,
    form: Params | Mapping[str, Any] | None,
    credentials: Mapping[str, str],
    scheme: Mapping[str, Any] | None = None,
) -> str | None:
    """Mock-side check of any request: login/refresh bodies on those endpoints, the JWT elsewhere."""
    config = auth_config(scheme)
    body = dict(pairs(form)) if form is not None and not isinstance(form, Mapping) else dict(form or {})
    if config.get("login") and same_path(path, str(config["login"])):
        return verify_login(body, credentials)
    if config.get("refresh") and same_path(path, str(config["refresh"])):
        tokens = refresh_tokens_in(config, body, header(headers, "authorization")) or {}
        return verify_refresh(tokens.get("refresh_token"), server_secret(credentials))
    return verify_jwt(
        header(headers, "authorization"), server_secret(credentials), str(config.get("prefix", "JWT"))
    )


# ---------------------------------------------------------------- client side


def _claims(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    import jwt

    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.InvalidTokenError:
        return {}  # opaque token: no proactive refresh, the 401 path still works


def _expires_within(token: str | None, seconds: float) -> bool:
    exp = _claims(token).get("exp")
    return isinstance(exp, (int, float)) and exp - time.time() <= seconds


class JwtLoginAuth(httpx.Auth):
    """Logs in lazily, sends the access token, refreshes before expiry and once after a 401.

    Lock-free by design: concurrent requests may both refresh, which is harmless (each stores a
    valid token); a 401 only triggers a refresh if the token it was sent with is still current.
    """

    def __init__(
        self,
        role_id: str,
        secret_id: str,
        login_path: str,
        refresh_path: str | None = None,
        prefix: str = "JWT",
        base_url: str | httpx.URL | None = None,
        margin: float = REFRESH_MARGIN,
        refresh_template: Mapping[str, Any] | None = None,
    ) -> None:
        self.refresh_template = refresh_template or DEFAULT_REFRESH[0]
        self.role_id, self.secret_id = role_id, secret_id
        self.login_path, self.refresh_path, self.prefix = login_path, refresh_path, prefix
        self.base_url = httpx.URL(str(base_url).rstrip("/")) if base_url else None
        self.margin = margin
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    @classmethod
    def from_scheme(
        cls,
        scheme: Mapping[str, Any],
        credentials: Mapping[str, str],
        base_url: str | httpx.URL | None = None,
    ) -> JwtLoginAuth:
        require(credentials, CREDENTIALS, NAME)
        config = auth_config(scheme)
        if not config.get("login"):
            raise ValueError("jwt-login scheme needs x-apiconform-auth.login")
        return cls(
            credentials["role_id"],
            credentials["secret_id"],
            login_path=str(config["login"]),
            refresh_path=config.get("refresh"),
            prefix=str(config.get("prefix", "JWT")),
            base_url=base_url,
            refresh_template=refresh_templates(config)[0],
        )

    @property
    def tokens(self) -> list[str]:
        """Tokens obtained at run time, so a Redactor can learn them."""
        return [t for t in (self.access_token, self.refresh_token) if t]

    def _url(self, request: httpx.Request, endpoint: str) -> httpx.URL:
        if endpoint.startswith(("http://", "https://")):
            return httpx.URL(endpoint)
        if self.base_url is not None:
            return httpx.URL(str(self.base_url) + endpoint)
        return request.url.copy_with(path=endpoint, query=None, fragment=None)

    def _is_auth_endpoint(self, request: httpx.Request) -> bool:
        return any(
            ep and same_path(request.url.path, self._url(request, ep).path)
            for ep in (self.login_path, self.refresh_path)
        )

    def _login(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = {"role_id": self.role_id, "secret_id": self.secret_id}
        response = yield httpx.Request("POST", self._url(request, self.login_path), json=body)
        token = _token_object(response)
        if response.status_code in (401, 403):
            raise AuthFailed(f"jwt-login: login at {self.login_path} failed with HTTP {response.status_code}")
        if response.status_code >= 300 or not token.get("access_token"):
            raise AuthFailed(f"jwt-login: login at {self.login_path} answered HTTP {response.status_code} "
                             "without a usable access token", answer=response)
        self.access_token = str(token["access_token"])
        self.refresh_token = str(token["refresh_token"]) if token.get("refresh_token") else None

    def _refresh(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Refresh via the refresh token when possible; otherwise (or on failure) log in again."""
        usable = self.refresh_path and self.refresh_token and not _expires_within(self.refresh_token, 0)
        if usable:
            tokens = {"access_token": self.access_token, "refresh_token": self.refresh_token}
            body = fill_template(self.refresh_template["body"], tokens)
            headers = {"Authorization": fill_template(self.refresh_template["header"], tokens)} if "header" in self.refresh_template else {}
            response = yield httpx.Request("POST", self._url(request, str(self.refresh_path)), json=body, headers=headers)
            token = _token_object(response)
            if response.status_code < 300 and token.get("access_token"):
                self.access_token = str(token["access_token"])
                if token.get("refresh_token"):
                    self.refresh_token = str(token["refresh_token"])
                return
        yield from self._login(request)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._is_auth_endpoint(request):
            yield request  # login/refresh operations under test carry their own body credentials
            return
        if self.access_token is None:
            yield from self._login(request)
        elif _expires_within(self.access_token, self.margin):
            yield from self._refresh(request)
        sent = self.access_token
        request.headers["Authorization"] = f"{self.prefix} {sent}"
        response = yield request
        if response.status_code != 401:
            return
        if self.access_token == sent:  # nobody refreshed meanwhile
            yield from self._refresh(request)
        request.headers["Authorization"] = f"{self.prefix} {self.access_token}"
        yield request

    # Read only the bodies of our own login/refresh responses, never the caller's (may be streamed).
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if outgoing is not request:
                response.read()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                break

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if outgoing is not request:
                await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                break


def _token_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    token = payload.get("token") if isinstance(payload, dict) else None
    return token if isinstance(token, dict) else {}


FORGED_SIGNING_KEY = "apiconform-forged-signing-key-0123456789abcdef"


class JwtLoginFlow(BaseFlow):
    name = NAME
    credential_fields = CREDENTIALS
    _tokens = frozenset({"role_id", "secret_id", "access_token", "refresh_token"})
    sensitive = SensitiveNames(params=_tokens, keys=_tokens)

    def owned_parameters(self, scheme: Mapping[str, Any]) -> Owned:
        return super().owned_parameters(scheme) | Owned(headers=frozenset({"authorization"}))

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        return JwtLoginAuth.from_scheme(scheme, credentials, base_url=base_url)

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        return verify(request.method, request.path, request.query, request.headers, request.form, credentials, scheme)

    def wrong_credentials(self, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> WrongCredentials:
        """A well-formed access token no vendor signed (logging in with wrong secrets only tests the login)."""
        claims = {"sub": "apiconform-forged", "exp": int(time.time()) + 600, "type": "access"}
        import jwt

        forged = jwt.encode(claims, FORGED_SIGNING_KEY, algorithm=ALGORITHM)
        prefix = str(auth_config(scheme).get("prefix", "JWT"))
        return WrongCredentials(headers={"Authorization": f"{prefix} {forged}"})

    def mock_credentials(self, vendor: str) -> dict[str, str]:
        # the mock signs its tokens with `jwt_secret` (HS256 wants >= 32 bytes)
        return {"role_id": f"mock-{vendor}-role", "secret_id": f"mock-{vendor}-secret",
                "jwt_secret": f"mock-{vendor}-token-signing-key-0123456789"}

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        config = auth_config(scheme)
        login = json.dumps({"role_id": credentials.get("role_id", ""), "secret_id": credentials.get("secret_id", "")})
        return ["example (log in, then send the access token):",
                "  " + shlex.join(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", login,
                                   call.base_url + str(config.get("login", "/login"))]),
                "  " + shlex.join(["curl", "-i", *call.curl_args, "-H",
                                   f"Authorization: {config.get('prefix', 'Bearer')} <token.access_token>", call.url])]


FLOW = JwtLoginFlow()
