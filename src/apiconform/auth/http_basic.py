"""http-basic flow: `Authorization: Basic base64(username:password)` (RFC 7617).

Credentials: `username` and `password`. Scheme: OpenAPI `{type: http, scheme: basic}` (Swagger 2.0
`type: basic` converts to it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import httpx

from apiconform.auth._common import equal, header, require
from apiconform.auth._flow import AuthRequest, BaseFlow, ExampleCall, SensitiveNames

NAME = "http-basic"
CREDENTIALS = ("username", "password")


def verify(headers: Mapping[str, str] | None, credentials: Mapping[str, str]) -> str | None:
    """Mock-side check of a Basic request: None if accepted, else a short reason."""
    value = header(headers, "authorization")
    if not value:
        return "missing Authorization header"
    auth_scheme, _, token = value.strip().partition(" ")
    if auth_scheme.lower() != "basic":  # auth-scheme names are case-insensitive (RFC 9110 11.1)
        return "Authorization is not a Basic credential"
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "Basic credential is not base64 of user:password"
    if not sep or not equal(user, credentials.get("username", "")) or not equal(password, credentials.get("password", "")):
        return "invalid username or password"
    return None


class HttpBasicFlow(BaseFlow):
    name = NAME
    credential_fields = CREDENTIALS
    identifier_fields = ("username",)  # the password is the secret (unless it is empty: then the user name is)
    sensitive = SensitiveNames(params=frozenset({"password"}), keys=frozenset({"password"}))

    def infers(self, scheme: Mapping[str, Any]) -> bool:
        return scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic"

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        require(credentials, CREDENTIALS, NAME)
        return httpx.BasicAuth(credentials["username"], credentials["password"])

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        return verify(request.headers, credentials)

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        return call.curl("-u", f"{credentials.get('username', '')}:{credentials.get('password', '')}")


FLOW = HttpBasicFlow()
