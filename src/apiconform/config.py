"""Configuration: `[tool.apiconform]` in pyproject.toml, or apiconform.toml (which wins).

Live targets name the environment variables their credentials come from — never the secrets:

    [tool.apiconform.targets.eduframe]
    base_url = "https://api.eduframe.nl/api/v1"
    credentials = { token = "EDUFRAME_TOKEN" }     # field -> environment variable
    max_requests = 200        # budget for the run (default 200 for live targets)
    rate = 5                  # requests per second (default 5)
    allow_writes = false      # read-only unless true (or --allow-writes)
    connect_timeout = 5
    read_timeout = 20
    request_deadline = 30     # one overall deadline per request: connect + headers + body (default: both timeouts)
    redact = ["X-Tenant"]     # extra header/param/field names to redact
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

_TARGET_KEYS = {
    "base_url", "credentials", "max_requests", "rate", "allow_writes", "allowed_writes",
    "connect_timeout", "read_timeout", "redact", "max_retry_after", "max_body_mb", "request_deadline",
}


@dataclass
class Settings:
    source: Path | None = None
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_on: list[str] = field(default_factory=list)
    baseline: str | None = None


def load_config(root: Path | None = None) -> Settings:
    """Read apiconform.toml, else pyproject.toml's [tool.apiconform]; absent files give defaults."""
    root = root or Path.cwd()
    for path, section in ((root / "apiconform.toml", ()), (root / "pyproject.toml", ("tool", "apiconform"))):
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        for key in section:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if section and not data:
            continue
        return _parse(path, data, ".".join(section))
    return Settings()


def _parse(path: Path, data: dict[str, Any], prefix: str) -> Settings:
    where = f"{path}: {prefix + '.' if prefix else ''}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where.rstrip(': .')}: expected a table")
    settings = Settings(source=path)
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise ConfigError(f"{where}targets: expected a table of vendors")
    for vendor, spec in targets.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}targets.{vendor}: expected a table")
        unknown = set(spec) - _TARGET_KEYS
        if unknown:
            raise ConfigError(f"{where}targets.{vendor}: unknown key(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(_TARGET_KEYS))})")
        creds = spec.get("credentials", {})
        if not isinstance(creds, dict) or not all(isinstance(v, str) for v in creds.values()):
            raise ConfigError(f"{where}targets.{vendor}.credentials: expected field = \"ENV_VAR_NAME\" pairs")
        from ._settings import check_target_spec

        check_target_spec(spec, f"{where}targets.{vendor}")
        if "base_url" in spec and not str(spec["base_url"]).startswith(("http://", "https://")):
            raise ConfigError(f"{where}targets.{vendor}.base_url: expected an http(s) URL, got {spec['base_url']!r}")
        settings.targets[vendor] = spec
    fail_on = data.get("fail_on", [])
    if not isinstance(fail_on, list):
        raise ConfigError(f"{where}fail_on: expected a list of categories")
    settings.fail_on = [str(c) for c in fail_on]
    settings.baseline = data.get("baseline")
    return settings


def target_from_config(
    vendor: str,
    settings: Settings,
    base_url: str | None = None,
    allow_writes: bool = False,
    max_requests: int | None = None,
    rate: float | None = None,
) -> Any:
    """A live target from configuration and command-line overrides (CLI wins)."""
    from .targets import Safety, http_target

    from .contracts import load_contract

    spec = settings.targets.get(vendor, {})
    url = base_url or spec.get("base_url") or load_contract(vendor).server_url  # the documented production URL
    if not url:
        raise ConfigError(f"target {vendor}: no base_url (set targets.{vendor}.base_url or pass --target {vendor}=URL)")
    from ._settings import check_cli

    check_cli(max_requests, rate)  # also when pytest is run directly with --rate / --max-requests
    writes = allow_writes or spec.get("allow_writes", False) is True
    safety = Safety(
        read_only=not writes,
        allowed_writes=frozenset(spec.get("allowed_writes", [])),
        max_requests=int(max_requests or spec.get("max_requests", 200)),
        rate=float(rate or spec.get("rate", 5.0)),
        connect_timeout=float(spec.get("connect_timeout", 5.0)),
        read_timeout=float(spec.get("read_timeout", 20.0)),
        max_retry_after=float(spec.get("max_retry_after", 5.0)),
        max_body_bytes=int(float(spec.get("max_body_mb", 10)) * 1024 * 1024),
        request_deadline=float(spec["request_deadline"]) if "request_deadline" in spec else None,
    )
    target = http_target(vendor, url, credential_env=dict(spec.get("credentials", {})), safety=safety)
    target.extra_secret_names = tuple(spec.get("redact", []))
    return target
