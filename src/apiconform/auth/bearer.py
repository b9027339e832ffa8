"""bearer flow: `Authorization: Bearer <token>` (RFC 6750).

Credentials: `token`. Scheme: OpenAPI `{type: http, scheme: bearer}`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx

from apiconform.auth._common import Params, equal, header, require

FLOW = "bearer"
CREDENTIALS = ("token",)


class BearerAuth(httpx.Auth):
    """Adds a static bearer token; the same instance serves sync and async clients."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_scheme(cls, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> BearerAuth:
        require(credentials, CREDENTIALS, FLOW)
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
