"""bearer flow: `Authorization: Bearer <token>` (RFC 6750).

Credentials: `token`. Scheme: OpenAPI `{type: http, scheme: bearer}`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx

from apiconform.auth._common import Params, equal, header, require
from apiconform.auth._flow import AuthRequest, BaseFlow, ExampleCall, SensitiveNames

NAME = "bearer"
CREDENTIALS = ("token",)


class BearerAuth(httpx.Auth):
    """Adds a static bearer token; the same instance serves sync and async clients."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_scheme(cls, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> BearerAuth:
        require(credentials, CREDENTIALS, NAME)
        return cls(credentials["token"])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
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
    """Mock-side check of a bearer request: None if accepted, else a short reason."""
    value = header(headers, "authorization")
    if not value:
        return "missing Authorization header"
    auth_scheme, _, token = value.strip().partition(" ")
    if auth_scheme.lower() != "bearer":  # auth-scheme names are case-insensitive (RFC 9110 11.1)
        return "Authorization is not a Bearer credential"
    expected = credentials.get("token", "")
    if not expected or not equal(token.strip(), expected):
        return "invalid bearer token"
    return None


class BearerFlow(BaseFlow):
    name = NAME
    credential_fields = CREDENTIALS
    sensitive = SensitiveNames(params=frozenset({"token"}), keys=frozenset({"token"}))

    def infers(self, scheme: Mapping[str, Any]) -> bool:
        return scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        return BearerAuth.from_scheme(scheme, credentials)

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        return verify(request.method, request.path, request.query, request.headers, None, credentials, scheme)

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        return call.curl("-H", f"Authorization: Bearer {credentials.get('token', '')}")


FLOW = BearerFlow()
