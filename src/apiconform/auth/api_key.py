"""api-key flow: a static key in a header, query parameter or cookie named by the security scheme.

Credentials: `api_key`. Scheme: OpenAPI `{type: apiKey, in: header|query|cookie, name: ...}`;
`x-apiconform-auth.prefix` (optional) is put before the key, e.g. `Token <key>`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx

from apiconform.auth._common import Params, auth_config, equal, header, pairs, require
from apiconform.auth._flow import AuthRequest, BaseFlow, ExampleCall, Location, SensitiveNames

NAME = "api-key"
CREDENTIALS = ("api_key",)
LOCATIONS = tuple(Location)


class ApiKeyAuth(httpx.Auth):
    """Adds a static API key where the scheme says; the same instance serves sync and async clients."""

    def __init__(
        self, api_key: str, name: str = "Authorization", location: str = "header", prefix: str | None = None
    ) -> None:
        if location not in LOCATIONS:
            raise ValueError(f"api-key location must be one of {tuple(map(str, LOCATIONS))}, not {location!r}")
        self.api_key, self.name, self.location, self.prefix = api_key, name, Location(location), prefix

    @classmethod
    def from_scheme(cls, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> ApiKeyAuth:
        """Build from a contract security scheme, so header/param names live only in the contract."""
        require(credentials, CREDENTIALS, NAME)
        return cls(
            credentials["api_key"],
            name=str(scheme.get("name", "Authorization")),
            location=str(scheme.get("in", "header")),
            prefix=auth_config(scheme).get("prefix"),
        )

    @property
    def value(self) -> str:
        return f"{self.prefix} {self.api_key}" if self.prefix else self.api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.location is Location.HEADER:
            request.headers[self.name] = self.value
        elif self.location is Location.QUERY:
            request.url = request.url.copy_set_param(self.name, self.value)
        else:
            cookie = f"{self.name}={self.value}"
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
        yield request


def _cookie(headers: Mapping[str, str] | None, name: str) -> str | None:
    raw = header(headers, "cookie")
    for part in (raw or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


def verify(
    method: str,
    path: str,
    query: Params | None,
    headers: Mapping[str, str] | None,
    form: Params | None,
    credentials: Mapping[str, str],
    scheme: Mapping[str, Any] | None = None,
) -> str | None:
    """Mock-side check of an api-key request: None if accepted, else a short reason."""
    scheme = scheme or {}
    name, location = str(scheme.get("name", "Authorization")), str(scheme.get("in", "header"))
    prefix = auth_config(scheme).get("prefix")
    if location == Location.QUERY:
        found = [v for k, v in pairs(query) if k == name]
        given = found[0] if len(found) == 1 else None
        if len(found) > 1:
            return f"{name} given more than once"
    elif location == Location.COOKIE:
        given = _cookie(headers, name)
    else:
        given = header(headers, name)
    if not given:
        return f"missing {name} {location}"
    expected = f"{prefix} {credentials.get('api_key', '')}" if prefix else credentials.get("api_key", "")
    if not expected or not equal(given, expected):
        return f"invalid {name}"
    return None


class ApiKeyFlow(BaseFlow):
    name = NAME
    credential_fields = CREDENTIALS
    sensitive = SensitiveNames(params=frozenset({"api_key"}), keys=frozenset({"api_key"}))

    def infers(self, scheme: Mapping[str, Any]) -> bool:
        return scheme.get("type") == "apiKey"

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        return ApiKeyAuth.from_scheme(scheme, credentials)

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        return verify(request.method, request.path, request.query, request.headers, None, credentials, scheme)

    def mock_credentials(self, vendor: str) -> dict[str, str]:
        return {"api_key": f"mock-{vendor}-key"}

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        prefix = auth_config(scheme).get("prefix")
        value = f"{prefix} {credentials.get('api_key', '')}" if prefix else credentials.get("api_key", "")
        if scheme.get("in") == Location.QUERY:
            return call.curl(url=f"{call.url}?{scheme.get('name')}={value}")
        return call.curl("-H", f"{scheme.get('name')}: {value}")


FLOW = ApiKeyFlow()
