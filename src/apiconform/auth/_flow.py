"""The auth-flow protocol: everything apiconform knows about one way of authenticating, in one object.

The engine (owned parameters, the wrong-credentials client), the redactor (sensitive names), the mock
(verification, the credentials it accepts) and the CLI (the example `apiconform mock` prints) ask a
flow through this protocol and never name one, so a new flow is one module in `apiconform.auth`
(discovered) or one `apiconform.auth.register(flow)` call.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from apiconform.auth._common import Params

#: A flow's name, as `x-apiconform-auth.flow` spells it: lower-case words joined by dashes.
FLOW_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class Location(StrEnum):
    """Where an OpenAPI `apiKey` scheme puts its credential (`in`)."""

    HEADER = "header"
    QUERY = "query"
    COOKIE = "cookie"


@dataclass(frozen=True)
class Owned:
    """Header and query-parameter names (lower-case) an auth flow sets on every request: generated values
    for them are dropped, and request validation leaves them aside."""

    headers: frozenset[str] = frozenset()
    query: frozenset[str] = frozenset()

    def __or__(self, other: Owned) -> Owned:
        return Owned(self.headers | other.headers, self.query | other.query)

    @property
    def names(self) -> frozenset[str]:
        return self.headers | self.query


@dataclass(frozen=True)
class SensitiveNames:
    """Names whose values are masked in every output, whoever sent them: headers (lower-case), query or
    form parameters, and JSON keys (both compared as lower-case with `_` for `-`)."""

    headers: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()

    def __or__(self, other: SensitiveNames) -> SensitiveNames:
        return SensitiveNames(self.headers | other.headers, self.params | other.params, self.keys | other.keys)


@dataclass(frozen=True)
class WrongCredentials:
    """Credentials of the right form but the wrong value, for the negative auth suite: either run the flow
    with `credentials`, or (`credentials` None) send no flow at all, only `headers` (e.g. a forged token)."""

    credentials: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthRequest:
    """A request as the mock sees it, for a flow's server side."""

    method: str
    path: str
    query: Params | None = None
    headers: Mapping[str, str] | None = None
    form: Params | Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExampleCall:
    """The example request `apiconform mock` prints, before a flow adds its credentials: `url` is
    `base_url` + the path, `curl_args` the method/body arguments, `query` the operation's required query
    parameters (synthesized and URL-encoded, auth-owned ones left out)."""

    base_url: str
    url: str
    method: str
    curl_args: tuple[str, ...] = ()
    query: Mapping[str, str] = field(default_factory=dict)

    def curl(self, *auth: str, url: str | None = None) -> list[str]:
        """The lines of a plain curl example carrying `auth` arguments."""
        return ["example:", "  " + shlex.join(["curl", "-i", *self.curl_args, *auth, url or self.url])]


@runtime_checkable
class AuthFlow(Protocol):
    """One way of authenticating, both sides. Implementations subclass `BaseFlow` for the defaults."""

    name: str  #: the `x-apiconform-auth.flow` value (FLOW_NAME)
    credential_fields: tuple[str, ...]  #: what a client needs, e.g. ("role_id", "secret_id")
    sensitive: SensitiveNames  #: names this flow's credentials travel under, masked everywhere

    def infers(self, scheme: Mapping[str, Any]) -> bool:
        """Whether a plain OpenAPI scheme (no `x-apiconform-auth.flow`) is this flow."""

    def owned_parameters(self, scheme: Mapping[str, Any]) -> Owned:
        """The headers and query parameters this flow sets for `scheme`."""

    def one_off_parameters(self, scheme: Mapping[str, Any]) -> frozenset[str]:
        """Parameters whose value changes with every request (a signature): never learned as secrets."""

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        """The client side. Raises `ConfigError` naming (never showing) missing credential fields."""

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        """The server side (the mock): None if `request` carries valid credentials, else a short reason."""

    def wrong_credentials(self, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> WrongCredentials:
        """Credentials of the right form and the wrong value (the negative auth suite's `wrong` client)."""

    def mock_credentials(self, vendor: str) -> dict[str, str]:
        """The credentials an embedded mock of `vendor` accepts (client fields plus any the mock alone reads)."""

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        """The lines `apiconform mock` prints after the credentials: how to call the mock by hand."""


def declared_owned(scheme: Mapping[str, Any]) -> Owned:
    """What plain OpenAPI says a scheme sets: an apiKey's named header (else the query, cookies included,
    as before), `Authorization` for http/oauth2/openIdConnect. Flows add what their extension names."""
    if scheme.get("type") == "apiKey":
        name = str(scheme.get("name")).lower()
        return Owned(headers=frozenset({name})) if scheme.get("in") == Location.HEADER else Owned(query=frozenset({name}))
    if scheme.get("type") in ("http", "oauth2", "openIdConnect"):
        return Owned(headers=frozenset({"authorization"}))
    return Owned()


def bogus(credentials: Mapping[str, str]) -> dict[str, str]:
    """Every credential field with a value of the right kind that no vendor issued."""
    return {k: f"wrong-{k}-0000" for k in credentials}


class BaseFlow:
    """Defaults for `AuthFlow`: subclasses set `name`, `credential_fields`, `sensitive` and implement
    `client_auth` and `verify`; the rest derives from the scheme."""

    name: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]
    sensitive: ClassVar[SensitiveNames] = SensitiveNames()
    #: credential fields that name an account rather than prove it (a Basic user name): shown in reports, not masked
    #: (`apiconform.auth.secret_values`)
    identifier_fields: ClassVar[tuple[str, ...]] = ()

    def infers(self, scheme: Mapping[str, Any]) -> bool:
        return False

    def owned_parameters(self, scheme: Mapping[str, Any]) -> Owned:
        return declared_owned(scheme)

    def one_off_parameters(self, scheme: Mapping[str, Any]) -> frozenset[str]:
        return frozenset()

    def client_auth(
        self, scheme: Mapping[str, Any], credentials: Mapping[str, str], *, base_url: str | httpx.URL | None = None
    ) -> httpx.Auth:
        raise NotImplementedError

    def verify(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], request: AuthRequest) -> str | None:
        raise NotImplementedError

    def wrong_credentials(self, scheme: Mapping[str, Any], credentials: Mapping[str, str]) -> WrongCredentials:
        return WrongCredentials(bogus(credentials))

    def mock_credentials(self, vendor: str) -> dict[str, str]:
        return {name: f"mock-{vendor}-{name.replace('_', '-')}" for name in self.credential_fields}

    def example(self, scheme: Mapping[str, Any], credentials: Mapping[str, str], call: ExampleCall) -> list[str]:
        return call.curl()


__all__ = [
    "FLOW_NAME",
    "AuthFlow",
    "AuthRequest",
    "BaseFlow",
    "ExampleCall",
    "Location",
    "Owned",
    "SensitiveNames",
    "WrongCredentials",
    "bogus",
    "declared_owned",
]
