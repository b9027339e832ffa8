"""hmac-sha256 flow (Church of England CMS API): every request carries `api_id` and a `sig`.

Recipe, as the vendor's public client does it: `sig` is the lowercase hex HMAC-SHA256, keyed with
the API key, of the VALUES of all request parameters except `sig`, sorted by parameter NAME and
concatenated without a separator. Values are signed decoded (as the server reads them after URL
decoding), so `data` — a URL-encoded JSON string on the wire — is signed as the JSON text itself.

Credentials: `api_id` (public identifier) and `api_key` (the HMAC secret). Parameter names come
from the scheme's `x-apiconform-auth`: `key_param` (api_id), `signature_param` (sig),
`data_param` (data).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx

from apiconform.auth._common import Params, auth_config, equal, pairs, require
from apiconform.auth._flow import AuthRequest, BaseFlow, ExampleCall, Owned, SensitiveNames, WrongCredentials, bogus

NAME = "hmac-sha256"
CREDENTIALS = ("api_id", "api_key")
FORM_TYPE = "application/x-www-form-urlencoded"


def _unique(params: Params) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, value in pairs(params):
        if name in seen:
            # Sorting by name cannot order two values of one name the way the vendor would.
            raise ValueError(f"parameter {name!r} given more than once; cannot sign unambiguously")
        seen[name] = value
    return seen


def sign(params: Params, key: str, signature_param: str = "sig") -> str:
    """The vendor's signature over `params` (any `signature_param` in them is ignored).

    The single implementation of the recipe: the client Auth and the mock's `verify` both call it.
    """
    values = _unique(params)
    message = "".join(values[name] for name in sorted(values) if name != signature_param)
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def encode_data(obj: Any) -> str:
    """Compact JSON for the `data` parameter (the HTTP layer URL-encodes it on the wire)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def form_params(request: httpx.Request) -> list[tuple[str, str]]:
    """The parameters of an application/x-www-form-urlencoded body ([] for any other body)."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE or not request.content:
        return []
    return parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)


class HmacAuth(httpx.Auth):
    """Adds `api_id` and `sig` to the query string, signing query AND form-body parameters."""

    requires_request_body = True  # form-body parameters are part of the signed message

    def __init__(
        self,
        api_id: str,
        api_key: str,
        key_param: str = "api_id",
        signature_param: str = "sig",
        data_param: str | None = "data",
    ) -> None:
        self.api_id, self.api_key = api_id, api_key
        self.key_param, self.signature_param, self.data_param = key_param, signature_param, data_param

    @classmethod
    def from_scheme(cls, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> HmacAuth:
        require(credentials, CREDENTIALS, NAME)
        config = auth_config(scheme)
        return cls(
            credentials["api_id"],
            credentials["api_key"],
            key_param=str(config.get("key_param") or scheme.get("name") or "api_id"),
            signature_param=str(config.get("signature_param", "sig")),
            data_param=config.get("data_param", "data"),
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = form_params(request)
        if any(name == self.signature_param for name, _ in body):
            raise ValueError(f"form body already carries {self.signature_param!r}; let the Auth sign it")
        query = [(k, v) for k, v in request.url.params.multi_items() if k != self.signature_param]
        present = [v for k, v in query + body if k == self.key_param]
        if any(v != self.api_id for v in present):
            raise ValueError(f"request carries a different {self.key_param!r} than the credentials")
        if not present:
            query.append((self.key_param, self.api_id))
        sig = sign(query + body, self.api_key, self.signature_param)
        query.append((self.signature_param, sig))
        request.url = request.url.copy_with(params=httpx.QueryParams(list(query)))
        yield request


def verify(
    method: str,
    path: str,
    query: Params | None,
    headers: Mapping[str, str] | None,
    form: Params | None,
    credentials: Mapping[str, str],
    scheme: Mapping[str, Any] | None = None,
) -> str | None:
    """Mock-side check: recompute the signature over query + form params and compare in constant time."""
    config = auth_config(scheme)
    key_param = str(config.get("key_param") or (scheme or {}).get("name") or "api_id")
    signature_param = str(config.get("signature_param", "sig"))
    try:
        params = _unique(pairs(query) + pairs(form))
    except ValueError as exc:
        return str(exc).split(";")[0]
    if not params.get(key_param):
        return f"missing {key_param}"
    if not params.get(signature_param):
        return f"missing {signature_param}"
    if not equal(params[key_param], credentials.get("api_id", "")):
        return f"unknown {key_param}"
    expected = sign(params, credentials.get("api_key", ""), signature_param)
    if not equal(params[signature_param], expected):
        return f"{signature_param} does not match"
    return None


class HmacFlow(BaseFlow):
    name = NAME
    credential_fields = CREDENTIALS
    sensitive = SensitiveNames(params=frozenset({"api_id", "sig", "api_key"}), keys=frozenset({"api_id", "sig", "api_key"}))

    def owned_parameters(self, scheme: Mapping[str, Any]) -> Owned:
        config = auth_config(scheme)
        signed = frozenset(str(config[key]).lower() for key in ("key_param", "signature_param") if key in config)
        return super().owned_parameters(scheme) | Owned(query=signed)

    def one_off_parameters(self, scheme: Mapping[str, Any]) -> frozenset[str]:
        config = auth_config(scheme)
        return frozenset({str(config["signature_param"])}) if "signature_param" in config else frozenset()

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        return HmacAuth.from_scheme(scheme, credentials)

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        return verify(request.method, request.path, request.query, request.headers, request.form, credentials, scheme)

    def wrong_credentials(self, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> WrongCredentials:
        wrong = bogus(credentials)
        if "api_id" in credentials:
            wrong["api_id"] = credentials["api_id"]  # known id, bad signature
        return WrongCredentials(wrong)

    def mock_credentials(self, vendor: str) -> dict[str, str]:
        return {"api_id": f"mock-{vendor}-id", "api_key": f"mock-{vendor}-secret"}

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        query = "&".join(f"{k}={v}" for k, v in call.query.items())
        return ["example (requests are HMAC-signed, so sign with apiconform's HmacAuth):",
                f"  python -c \"import httpx; from apiconform.auth import HmacAuth; "
                f"print(httpx.request('{call.method.upper()}', '{call.url}?{query}', "
                f"auth=HmacAuth('{credentials.get('api_id', '')}', '{credentials.get('api_key', '')}')).text)\""]


FLOW = HmacFlow()
