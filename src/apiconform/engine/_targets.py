"""Targets: where the suites send requests (embedded mock, mock over HTTP, or the live vendor).

A target is a base URL + a transport + the vendor's auth flow + safety limits. The suites never
know which kind they run against; the same checks give the same verdicts in-process and over HTTP.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import httpx

from apiconform._defaults import LIVE_DEFAULTS, LiveDefaults
from apiconform.auth import auth_for, credential_fields, owned_parameters, secret_values
from apiconform.contracts import Contract, load_contract
from apiconform.engine._ledger import slot_interval, wait_for_slot
from apiconform.errors import ApiconformError, ConfigError
from apiconform.redact import Redactor

if TYPE_CHECKING:
    from apiconform.config import Settings, TargetSettings  # typing only: the engine never imports pydantic at start-up

#: Secrets learned at run time in this process, per vendor (the preflight's login tokens included), so a
#: target built later for the same vendor masks them from its first report on (filled by engine._session).
LEARNED: dict[str, set[str]] = {}
#: String values this process's runs sent to each vendor themselves (query, headers, JSON bodies): made up by the run
#: (generated, an example of the description, an observed value reused), so never learned as the vendor's secret when
#: an answer carries them back under a sensitive key - a record one work item created is read back by another's
#: session (filled by engine._session)
MADE_UP: dict[str, set[str]] = {}
MOCK_BASE_URL = "http://mock.apiconform.invalid"
#: "mock": in-process; "http": any URL (a served mock or the live vendor).
TargetKind = Literal["mock", "http"]


@dataclass(frozen=True)
class Safety:
    """Limits that keep a live vendor unharmed. Mocks get generous defaults (no budget, no pacing, writes
    allowed); live targets strict ones. Every default is `apiconform._defaults.LIVE_DEFAULTS`'."""

    read_only: bool = False  # only safe methods (GET/HEAD/OPTIONS) run
    allowed_writes: frozenset[str] = frozenset()  # operations allowed to write even when read_only
    # which records writes may touch (engine._writes): "own" (created by this run) or "sandbox" (any); a mock's
    # limits say "sandbox", every live target's default is LIVE_DEFAULTS.writes ("own")
    writes: str = "sandbox"
    expendable: tuple[str, ...] = ()  # records writable whoever created them: ids, or "/path" patterns (fnmatch)
    max_requests: int | None = None  # budget per target per run
    rate: float | None = None  # requests per second, client side
    connect_timeout: float = LIVE_DEFAULTS.connect_timeout
    read_timeout: float = LIVE_DEFAULTS.read_timeout
    max_retries: int = 2  # for idempotent requests and transport errors
    max_retry_after: float = LIVE_DEFAULTS.max_retry_after  # longest Retry-After we wait for (seconds)
    max_body_bytes: int = int(LIVE_DEFAULTS.max_body_mb * 1024 * 1024)
    request_deadline: float | None = LIVE_DEFAULTS.request_deadline  # overall (None: connect + read timeout)

    @property
    def deadline(self) -> float:
        """Seconds one request may take in all, however slowly the vendor drips its answer."""
        return self.request_deadline if self.request_deadline is not None else self.connect_timeout + self.read_timeout

    @classmethod
    def for_live(cls) -> Safety:
        """A live target's limits when nothing is configured."""
        return cls.of(LIVE_DEFAULTS)

    @classmethod
    def of(cls, spec: LiveDefaults | TargetSettings, allow_writes: bool = False, writes: str | None = None) -> Safety:
        """The limits a target's settings declare (the defaults, or a configured `TargetSettings`: the same
        keys); `allow_writes`: the command line's `--allow-writes`; `writes`: its `--writes` (wins over the key)."""
        return cls(
            read_only=not (allow_writes or writes or spec.allow_writes), allowed_writes=frozenset(spec.allowed_writes),
            writes=writes or spec.writes, expendable=tuple(spec.expendable),
            max_requests=spec.max_requests, rate=spec.rate, connect_timeout=spec.connect_timeout,
            read_timeout=spec.read_timeout, max_retry_after=spec.max_retry_after,
            max_body_bytes=int(spec.max_body_mb * 1024 * 1024), request_deadline=spec.request_deadline,
        )

    def allows(self, operation: str, method: str) -> bool:
        return not self.read_only or method.lower() in ("get", "head", "options") or operation in self.allowed_writes


@dataclass
class Target:
    """One vendor endpoint the suites talk to."""

    vendor: str
    contract: Contract
    base_url: str
    kind: TargetKind
    credentials: dict[str, str]
    safety: Safety = field(default_factory=Safety)
    app: Any = None  # the ASGI mock app for in-process targets
    extra_secret_names: tuple[str, ...] = ()
    path_params: dict[str, str] = field(default_factory=dict)  # fixed per target in config, by name
    probe: str | None = None  # the operationId the preflight checks (config `probe`), else chosen
    identities: dict[str, str] = field(default_factory=dict)  # resource -> the caller's own id (captured)
    other_credentials: dict[str, str] | None = None  # a second identity's, for object-level authorization probes
    logged_in: bool = False  # a login endpoint accepted the credentials during this run
    mock_spec: tuple[tuple[str, ...], tuple[str, ...], int] | None = None  # an embedded mock's (drifts, faults, seed)
    ledger_dir: str | None = None  # the run's budget/rate ledger, shared by its processes (None: this process's own)
    _redactor: Redactor | None = field(default=None, repr=False, compare=False)
    _redactor_names: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def transport(self) -> httpx.BaseTransport:
        if self.app is not None:  # asyncio and the ASGI bridge load only for a mock (~40 ms of a live run's start)
            from apiconform.engine._transports import SyncASGITransport

            return SyncASGITransport(self.app)
        from apiconform.engine._deadline import transport

        return transport()

    def redactor(self) -> Redactor:
        """The target's one redactor: every secret learned at run time (login tokens, signatures, values
        seen on the wire) is masked by every report writer of this process from then on."""
        if self._redactor is None or self._redactor_names != self.extra_secret_names:
            owned = sorted(owned_parameters(self.contract).names)  # where the auth flow puts credentials
            self._redactor = Redactor([*secret_values(self.credentials, self.contract),
                                       *secret_values(self.other_credentials or {}, self.contract),
                                       *url_secrets(self.base_url),
                                       *LEARNED.get(self.vendor, ())], [*self.extra_secret_names, *owned])
            self._redactor_names = self.extra_secret_names
        return self._redactor

    def client(self, authenticated: bool = True, credentials: dict[str, str] | None = None) -> httpx.Client:
        """An httpx client with the vendor's auth flow (or other credentials, for auth checks)."""
        creds = self.credentials if credentials is None else credentials
        auth = auth_for(self.contract, creds, base_url=self.base_url) if authenticated else None
        timeout = httpx.Timeout(self.safety.read_timeout, connect=self.safety.connect_timeout)
        hooks = {"response": [self._watch_login]} if authenticated and credentials is None else {}
        return httpx.Client(
            base_url=self.base_url, transport=self.transport(), auth=auth, timeout=timeout, follow_redirects=False,
            event_hooks=hooks,
        )

    def _watch_login(self, response: httpx.Response) -> None:
        """Note a successful login and capture the identities its answer hands out (x-apiconform-auth.identity)."""
        from apiconform.auth import capture, identity_specs, login_path, same_path

        path = login_path(self.contract)
        if not path or response.request.method != "POST" or not same_path(response.request.url.path, path):
            return
        if not 200 <= response.status_code < 300:
            return
        self.logged_in = True
        specs = identity_specs(self.contract)
        if specs:
            if response.request.extensions.get("apiconform.case"):
                return  # a test's own request to the login operation: its Session reads and judges it
            response.read()  # the auth flow's login (not streamed to anyone else)
            try:
                self.identities.update(capture(specs, response.json(), None))
            except ValueError:
                pass

    def describe(self) -> str:
        return "mock" if self.kind == "mock" else self.base_url


def mock_target(
    vendor: str, drifts: tuple[str, ...] = (), faults: tuple[str, ...] = (), seed: int = 0, learned: Any = None
) -> Target:
    """The embedded mock of a vendor, in-process (no ports), with optional drifts and faults (`learned`: a
    learned data file the mock executes instead of the one its contract names)."""
    from apiconform.mock import build_app

    contract = load_contract(vendor)
    app = build_app(contract, drifts=drifts, faults=faults, seed=seed, learned=learned)
    creds = dict(app.mock.behaviour.credentials())
    return Target(vendor, contract, MOCK_BASE_URL, "mock", creds, Safety(), app=app,
                  mock_spec=(tuple(drifts), tuple(faults), seed))


def http_target(
    vendor: str,
    base_url: str,
    credentials: dict[str, str] | None = None,
    credential_env: dict[str, str] | None = None,
    safety: Safety | None = None,
    live: bool = True,
) -> Target:
    """A target reached over HTTP; credentials come from environment variables named in config."""
    contract = load_contract(vendor)
    creds = dict(credentials or {})
    for field_name, env_name in (credential_env or {}).items():
        value = os.environ.get(env_name)
        if not value:
            raise ConfigError(
                f"target {vendor}: credential {field_name!r} expects environment variable {env_name}, which is not set"
            )
        creds[field_name] = value
    if safety is None:
        safety = Safety.for_live() if live else Safety()
    return Target(vendor, contract, base_url.rstrip("/"), "http", creds, safety)


def target_from_config(
    vendor: str,
    settings: Settings,
    base_url: str | None = None,
    allow_writes: bool = False,
    max_requests: int | None = None,
    rate: float | None = None,
    writes: str | None = None,
) -> Target:
    """A live target from configuration and command-line overrides (CLI wins). The settings are read by
    `apiconform.config` (pydantic); the engine only reads their attributes."""
    from apiconform.config import default_env_name, target_problems

    spec = settings.target(vendor)
    url = base_url or spec.base_url or load_contract(vendor).server_url  # the documented production URL
    if not url:
        raise ConfigError(f"target {vendor}: no base_url (set targets.{vendor}.base_url or pass --target {vendor}=URL)")
    # the overrides are checked here too: pytest run directly with --rate / --max-requests
    safety = Safety.of(spec.overridden(max_requests, rate), allow_writes, writes)
    contract = load_contract(vendor)
    problems = target_problems(vendor, settings, contract)
    if problems:  # a misspelt credential or path_params key is named, never ignored
        where, message = problems[0]
        more = f" (and {len(problems) - 1} more: apiconform contracts check {vendor})" if len(problems) > 1 else ""
        raise ConfigError(f"{settings.source}: {where}: {message}{more}")
    credential_env = dict(spec.credentials)
    for field_name in credential_fields(contract):  # unnamed fields: the documented default variable
        credential_env.setdefault(field_name, default_env_name(vendor, field_name))
    target = http_target(vendor, url, credential_env=credential_env, safety=safety)
    target.other_credentials = other_identity(vendor, contract, spec.other_credentials)
    target.extra_secret_names = tuple(spec.redact)
    target.path_params = {str(k): str(v) for k, v in spec.path_params.items()}
    if spec.probe:
        try:
            probe = contract.operation(spec.probe)
        except ApiconformError:
            raise ConfigError(f"{settings.source}: targets.{vendor}.probe: no operation {spec.probe!r} in the contract") from None
        if not probe.is_safe:
            raise ConfigError(f"{settings.source}: targets.{vendor}.probe: {probe.label} is {probe.method.upper()}; "
                              f"the probe must be a safe (GET) operation")
        target.probe = probe.label
    return target


def other_identity(vendor: str, contract: Any, configured: Mapping[str, str]) -> dict[str, str] | None:
    """A second identity's credentials (`other_credentials = { field = "ENV_VAR" }`, else every field's
    `APICONFORM_<VENDOR>_OTHER_<FIELD>` variable), or None when the target declares none."""
    from apiconform.config import default_env_name

    fields = credential_fields(contract)
    names = {f: configured.get(f) or default_env_name(vendor, f"other_{f}") for f in fields}
    values = {f: os.environ.get(env, "") for f, env in names.items()}
    if not configured and not (values and all(values.values())):   # no auth (no fields) or no second identity set
        return None
    missing = [names[f] for f, v in values.items() if not v]
    if missing or not values:
        raise ConfigError(f"target {vendor}: the second identity's credential expects environment variable "
                          f"{(missing or ['(no credential fields)'])[0]}, which is not set")
    return values


def url_secrets(url: str) -> list[str]:
    """Credentials embedded in a URL: userinfo (user and password) and sensitive query parameter values."""
    from urllib.parse import parse_qsl, urlsplit

    from apiconform.redact import sensitive_names

    names = sensitive_names().params
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return []
    found = [v for v in (parts.username, parts.password) if v]
    found += [v for k, v in parse_qsl(parts.query) if k.lower().replace("-", "_") in names]
    return found


class RateLimiter:
    """Client-side pacing of one process's target: at most `rate` requests in any second (see `_ledger`)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = slot_interval(rate)
        self._state = {"next": 0.0}
        self._lock = threading.Lock()

    def wait(self) -> None:
        if self.interval:
            with self._lock:
                wait_for_slot(self._state, self.interval)


__all__ = ["LEARNED", "MADE_UP", "MOCK_BASE_URL", "RateLimiter", "Safety", "Target", "TargetKind", "http_target", "mock_target", "replace",
           "target_from_config", "url_secrets"]
