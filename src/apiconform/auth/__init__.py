"""Authentication flows, both sides: an `httpx.Auth` for the live client and `verify` for the mock.

One module per flow, so the client and the mock share a single implementation of each recipe.
The flow comes from the security scheme's `x-apiconform-auth.flow` (see contracts/README.md).

Credential fields (`credentials` mapping keys) per flow — see `CREDENTIAL_FIELDS`:

- `api-key`:     `api_key` — sent in the header/query/cookie the scheme names (optional `prefix`).
- `bearer`:      `token` — sent as `Authorization: Bearer <token>`.
- `hmac-sha256`: `api_id` (identifier) and `api_key` (HMAC secret) — requests get `api_id` + `sig`.
- `jwt-login`:   `role_id` and `secret_id` — exchanged for JWTs at the scheme's login endpoint.
  The mock also reads the optional `jwt_secret` (token signing key; defaults to `secret_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from apiconform.auth import api_key, bearer, hmac_sha256, jwt_login
from apiconform.auth._common import EXTENSION, AuthFailed, Params, auth_config
from apiconform.auth.api_key import ApiKeyAuth
from apiconform.auth.bearer import BearerAuth
from apiconform.auth.hmac_sha256 import HmacAuth, encode_data, sign
from apiconform.auth.jwt_login import JwtLoginAuth, issue_access, issue_tokens, verify_jwt, verify_login, verify_refresh

__all__ = [
    "CREDENTIAL_FIELDS",
    "FLOWS",
    "ApiKeyAuth",
    "AuthFailed",
    "BearerAuth",
    "HmacAuth",
    "JwtLoginAuth",
    "Verifier",
    "auth_for",
    "encode_data",
    "flow_of",
    "issue_access",
    "issue_tokens",
    "secret_values",
    "select_scheme",
    "sign",
    "verify_jwt",
    "verify_login",
    "verify_refresh",
    "verify_request",
]

_MODULES = {m.FLOW: m for m in (api_key, bearer, hmac_sha256, jwt_login)}
FLOWS: tuple[str, ...] = tuple(_MODULES)
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {flow: m.CREDENTIALS for flow, m in _MODULES.items()}

Verifier = Callable[..., "str | None"]


class _HasSchemes(Protocol):
    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]: ...


def flow_of(scheme: Mapping[str, Any]) -> str | None:
    """The flow a scheme runs: its `x-apiconform-auth.flow`, else inferred from plain OpenAPI."""
    flow = auth_config(scheme).get("flow")
    if flow:
        return str(flow) if flow in _MODULES else None
    if scheme.get("type") == "apiKey":
        return "api-key"
    if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return "bearer"
    return None  # oauth2, openIdConnect, basic...: not run by apiconform


def select_scheme(contract: _HasSchemes, name: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The scheme to authenticate with: `name`, else the first usable one the top-level
    `security` requires, else the first usable scheme declared; None if there is none."""
    schemes = contract.security_schemes
    if name is not None:
        if name not in schemes:
            raise KeyError(f"no security scheme {name!r} (have: {', '.join(schemes) or 'none'})")
        return name, schemes[name]
    document = getattr(contract, "document", None) or {}
    required = [n for req in document.get("security") or [] for n in req]
    for candidate in [*required, *schemes]:
        if candidate in schemes and flow_of(schemes[candidate]):
            return candidate, schemes[candidate]
    return None


def auth_for(
    contract: _HasSchemes,
    credentials: Mapping[str, str],
    *,
    scheme: str | None = None,
    base_url: str | httpx.URL | None = None,
) -> httpx.Auth | None:
    """The `httpx.Auth` for a contract's security scheme (None when it declares no usable scheme).

    `base_url` is where jwt-login's login/refresh paths are resolved (default: the request's origin).
    Raises `ConfigError` naming (never showing) missing credential fields.
    """
    picked = select_scheme(contract, scheme)
    if picked is None:
        return None
    _, definition = picked
    flow = flow_of(definition)
    if flow == "api-key":
        return ApiKeyAuth.from_scheme(definition, credentials)
    if flow == "bearer":
        return BearerAuth.from_scheme(definition, credentials)
    if flow == "hmac-sha256":
        return HmacAuth.from_scheme(definition, credentials)
    if flow == "jwt-login":
        return JwtLoginAuth.from_scheme(definition, credentials, base_url=base_url)
    raise ValueError(f"unsupported auth flow {flow!r}")  # pragma: no cover - flow_of filters


def verify_request(
    scheme: Mapping[str, Any],
    credentials: Mapping[str, str],
    method: str,
    path: str,
    query: Params | None = None,
    headers: Mapping[str, str] | None = None,
    form: Params | Mapping[str, Any] | None = None,
) -> str | None:
    """Mock entry point: dispatch to the scheme's flow `verify`; None if accepted, else a reason."""
    flow = flow_of(scheme)
    if flow is None:
        raise ValueError(f"security scheme has no supported {EXTENSION} flow")
    result: str | None = _MODULES[flow].verify(method, path, query, headers, form, credentials, scheme)
    return result


def secret_values(credentials: Mapping[str, str]) -> list[str]:
    """Every credential value, for `apiconform.redact.Redactor` (identifiers included: cheap and safe)."""
    return [str(v) for v in credentials.values() if v]
