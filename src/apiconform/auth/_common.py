"""Helpers every flow shares: parameter/header normalisation and constant-time comparison."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from apiconform.errors import ConfigError, TargetUnavailable

#: Request parameters as the mock sees them: a plain mapping, a multi-dict (starlette
#: `QueryParams`/`FormData`, httpx `QueryParams`) or a sequence of (name, value) pairs.
Params = Mapping[str, Any] | Iterable[tuple[str, Any]]

EXTENSION = "x-apiconform-auth"


class AuthFailed(TargetUnavailable):
    """Login/refresh did not yield credentials. `answer` is None when the vendor refused them (401/403:
    nothing after it can be tested, exit 3); otherwise it is the login answer that drifted (tokens null,
    an HTML page with 200 ...), which the gate judges as a finding on the login operation."""

    def __init__(self, message: str, answer: Any = None) -> None:
        super().__init__(message)
        self.answer = answer


def pairs(params: Params | None) -> list[tuple[str, str]]:
    """Every (name, value) pair, keeping repeats, so signatures see exactly what was sent."""
    if params is None:
        return []
    multi = getattr(params, "multi_items", None)
    if callable(multi):
        items = list(multi())
    elif isinstance(params, Mapping):
        items = list(params.items())
    else:
        items = list(params)
    return [(str(k), "" if v is None else str(v)) for k, v in items]


def header(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None, name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts as well as real header objects."""
    wanted = name.lower()
    for key, value in pairs(headers):
        if key.lower() == wanted:
            return value
    return None


def equal(given: str, expected: str) -> bool:
    """Constant-time string comparison (timing must not leak how much of a secret matched)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def auth_config(scheme: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The scheme's `x-apiconform-auth` object ({} when absent). The one reader of the extension."""
    if not scheme:
        return {}
    config = scheme.get(EXTENSION) or {}
    return config if isinstance(config, Mapping) else {}


def contract_auth_config(contract: Any) -> Mapping[str, Any]:
    """The `x-apiconform-auth` of the contract's first security scheme that declares one ({} when none):
    what the mock, the recorder and `apiconform mock`'s example call read (identity, login, refresh)."""
    for scheme in contract.security_schemes.values():
        config = scheme.get(EXTENSION)
        if isinstance(config, Mapping):
            return config
    return {}


def require(credentials: Mapping[str, str], fields: Iterable[str], flow: str) -> None:
    """Fail with the missing field names (never the values) before any request is made."""
    missing = [f for f in fields if not credentials.get(f)]
    if missing:
        raise ConfigError(f"{flow} auth needs credential(s): {', '.join(missing)}")


def same_path(path: str, endpoint: str) -> bool:
    """Whether `path` is `endpoint`, also when the server URL adds a base-path prefix."""
    p, e = path.rstrip("/") or "/", endpoint.rstrip("/") or "/"
    return p == e or p.endswith(e) and e != "/"
