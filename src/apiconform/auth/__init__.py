"""Authentication flows, both sides: an `httpx.Auth` for the live client and `verify` for the mock.

One module per flow, so the client and the mock share a single implementation of each recipe. Each
module's `FLOW` implements the `AuthFlow` protocol (`_flow.py`): credential fields, sensitive names, the
parameters it owns, the client `httpx.Auth`, the server-side `verify`, wrong-credential variants, mock
credentials and the example `apiconform mock` prints. Modules of this package that define `FLOW` are
registered at import (a new flow is one module); `register()` adds one from elsewhere. The flow comes from
the security scheme's `x-apiconform-auth.flow` (see contracts/README.md).

Credential fields (`credentials` mapping keys) per flow — see `CREDENTIAL_FIELDS`:

- `api-key`:     `api_key` — sent in the header/query/cookie the scheme names (optional `prefix`).
- `bearer`:      `token` — sent as `Authorization: Bearer <token>`.
- `http-basic`:  `username` and `password` — sent as `Authorization: Basic base64(username:password)`.
- `hmac-sha256`: `api_id` (identifier) and `api_key` (HMAC secret) — requests get `api_id` + `sig`.
- `jwt-login`:   `role_id` and `secret_id` — exchanged for JWTs at the scheme's login endpoint.
  The mock also reads the optional `jwt_secret` (token signing key; defaults to `secret_id`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import httpx

from apiconform.auth._common import EXTENSION, AuthFailed, Params, auth_config, contract_auth_config, same_path
from apiconform.auth._flow import (
    FLOW_NAME,
    AuthFlow,
    AuthRequest,
    BaseFlow,
    ExampleCall,
    Location,
    Owned,
    SensitiveNames,
    WrongCredentials,
    bogus,
    declared_owned,
)
from apiconform.auth._identity import capture, fixed_path_values, identity_specs, login_path
from apiconform.auth.api_key import ApiKeyAuth
from apiconform.auth.bearer import BearerAuth
from apiconform.auth.hmac_sha256 import HmacAuth, encode_data, sign
from apiconform.auth.jwt_login import JwtLoginAuth, issue_access, issue_tokens, verify_jwt, verify_login, verify_refresh

__all__ = [
    "CREDENTIAL_FIELDS",
    "FLOWS",
    "ApiKeyAuth",
    "AuthFailed",
    "AuthFlow",
    "AuthRequest",
    "BaseFlow",
    "BearerAuth",
    "ExampleCall",
    "HmacAuth",
    "JwtLoginAuth",
    "Location",
    "Owned",
    "SensitiveNames",
    "WrongCredentials",
    "auth_config",
    "auth_for",
    "capture",
    "contract_auth_config",
    "credential_fields",
    "encode_data",
    "fixed_path_values",
    "flow_for",
    "flow_of",
    "flows",
    "identity_specs",
    "issue_access",
    "issue_tokens",
    "login_path",
    "mock_credentials",
    "one_off_parameters",
    "owned_parameters",
    "register",
    "same_path",
    "secret_values",
    "select_scheme",
    "selected_flow",
    "sensitive_names",
    "sign",
    "unregister",
    "verify_jwt",
    "verify_login",
    "verify_refresh",
    "verify_request",
    "wrong_credentials",
]

_REGISTRY: dict[str, AuthFlow] = {}


def register(flow: AuthFlow) -> AuthFlow:
    """Make `flow` known by its name (what `x-apiconform-auth.flow` says); returns it, so it can decorate."""
    if not isinstance(flow, AuthFlow):
        raise TypeError(f"{flow!r} does not implement the AuthFlow protocol")
    if not FLOW_NAME.fullmatch(str(flow.name)):
        raise ValueError(f"auth flow name {flow.name!r} must be lower-case words joined by dashes")
    if not flow.credential_fields or not all(f.isidentifier() for f in flow.credential_fields):
        raise ValueError(f"auth flow {flow.name!r}: credential_fields must be identifiers, e.g. ('token',)")
    known = _REGISTRY.get(flow.name)
    if known is not None and known is not flow:
        raise ValueError(f"auth flow {flow.name!r} is already registered")
    _REGISTRY[flow.name] = flow
    return flow


def unregister(name: str) -> None:
    """Forget a flow registered with `register` (tests)."""
    _REGISTRY.pop(name, None)


def _discover() -> None:
    """Register the `FLOW` of every public module of this package, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            flow = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FLOW", None)
            if flow is not None:
                register(flow)


_discover()


def flows() -> tuple[AuthFlow, ...]:
    """Every registered flow, built-in ones first."""
    return tuple(_REGISTRY.values())


class _CredentialFields(Mapping[str, tuple[str, ...]]):
    """flow name -> credential fields, read from the registry (so it follows `register`)."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return tuple(_REGISTRY[name].credential_fields)

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


CREDENTIAL_FIELDS: Mapping[str, tuple[str, ...]] = _CredentialFields()
FLOWS: tuple[str, ...] = tuple(_REGISTRY)  #: the built-in flows (`flows()` also has registered ones)


class _HasSchemes(Protocol):
    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]: ...


def flow_for(scheme: Mapping[str, Any]) -> AuthFlow | None:
    """The flow a scheme runs: its `x-apiconform-auth.flow`, else the flow plain OpenAPI implies
    (`apiKey` -> api-key, http bearer -> bearer, http basic -> http-basic); None for oauth2, openIdConnect...: not run."""
    name = auth_config(scheme).get("flow")
    if name:
        return _REGISTRY.get(str(name))
    return next((flow for flow in _REGISTRY.values() if flow.infers(scheme)), None)


def flow_of(scheme: Mapping[str, Any]) -> str | None:
    """The name of the flow a scheme runs (`flow_for`), or None."""
    flow = flow_for(scheme)
    return flow.name if flow is not None else None


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
        if candidate in schemes and flow_for(schemes[candidate]):
            return candidate, schemes[candidate]
    return None


def selected_flow(contract: _HasSchemes) -> tuple[AuthFlow, dict[str, Any]] | None:
    """The flow the contract's selected scheme runs, with that scheme (None: no usable scheme)."""
    picked = select_scheme(contract)
    flow = flow_for(picked[1]) if picked else None
    return (flow, picked[1]) if flow is not None and picked is not None else None


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
    flow = flow_for(definition)
    if flow is None:
        raise ValueError(f"security scheme {picked[0]!r} has no supported {EXTENSION} flow")
    return flow.client_auth(definition, credentials, base_url=base_url)


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
    flow = flow_for(scheme)
    if flow is None:
        raise ValueError(f"security scheme has no supported {EXTENSION} flow")
    return flow.verify(scheme, credentials, AuthRequest(method, path, query, headers, form))


def owned_parameters(contract: _HasSchemes) -> Owned:
    """Headers and query parameters the contract's auth flows set (every scheme's, used or not): what
    plain OpenAPI says a scheme without a flow sets counts too."""
    owned = Owned()
    for scheme in contract.security_schemes.values():
        flow = flow_for(scheme)
        owned |= flow.owned_parameters(scheme) if flow is not None else declared_owned(scheme)
    return owned


def one_off_parameters(contract: _HasSchemes) -> tuple[str, ...]:
    """Parameters whose values change with every request (signatures), over every scheme."""
    found: list[str] = []
    for scheme in contract.security_schemes.values():
        flow = flow_for(scheme)
        found += sorted(flow.one_off_parameters(scheme)) if flow is not None else []
    return tuple(found)


def sensitive_names() -> SensitiveNames:
    """The names every registered flow's credentials travel under (the redactor masks them everywhere)."""
    names = SensitiveNames()
    for flow in _REGISTRY.values():
        names |= flow.sensitive
    return names


def credential_fields(contract: _HasSchemes) -> tuple[str, ...]:
    """The credential fields a client of this contract needs (its selected scheme's flow; () if none)."""
    picked = selected_flow(contract)
    return tuple(picked[0].credential_fields) if picked else ()


def mock_credentials(contract: _HasSchemes, vendor: str) -> dict[str, str]:
    """The credentials an embedded mock accepts: every scheme's flow's, the first scheme winning a shared field."""
    creds: dict[str, str] = {}
    for scheme in contract.security_schemes.values():
        flow = flow_for(scheme)
        for name, value in (flow.mock_credentials(vendor) if flow is not None else {}).items():
            creds.setdefault(name, value)
    return creds


def wrong_credentials(contract: _HasSchemes, credentials: Mapping[str, str]) -> WrongCredentials:
    """What the negative auth suite sends instead of the real credentials (right form, wrong value)."""
    picked = selected_flow(contract)
    return picked[0].wrong_credentials(picked[1], credentials) if picked else WrongCredentials(bogus(credentials))


def secret_values(credentials: Mapping[str, str], contract: _HasSchemes | None = None) -> list[str]:
    """Every credential value, for `apiconform.redact.Redactor`, but the account identifiers of the contract's flow
    (`identifier_fields`: HTTP Basic's user name). A user name names an account the way an id names a record: it
    appears in the vendor's paths and answers (`/api/admin/settings` for user `admin`), and masking it there broke
    every reproduce line holding it; the password is the secret. An identifier whose flow's other fields are all
    empty *is* the credential (an API key sent as the Basic user name, password empty) and stays masked."""
    picked = selected_flow(contract) if contract is not None else None
    identifiers = set(getattr(picked[0], "identifier_fields", ())) if picked else set()
    if identifiers and not any(credentials.get(f) for f in picked[0].credential_fields if f not in identifiers):  # type: ignore[index]
        identifiers = set()
    return [str(v) for k, v in credentials.items() if v and k not in identifiers]
