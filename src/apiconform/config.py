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
    probe = "list_accounts"   # the safe operation the preflight checks (default: chosen from those that run)
    path_params = { account_id = "42" }   # path parameters fixed for this target, by name

Credentials need no config at all: a field without an entry is read from
`APICONFORM_<VENDOR>_<FIELD>` (upper case, `-` -> `_`), e.g. APICONFORM_TESLA_CE_ROLE_ID.
A configured target is used only when asked: `apiconform run --live` or `--target VENDOR[=URL]`.
A top-level `contracts = "team-contracts"` names a team's contracts folder (like `--contracts`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiconform.errors import ApiconformError, ConfigError

_TARGET_KEYS = {
    "base_url", "credentials", "max_requests", "rate", "allow_writes", "allowed_writes",
    "connect_timeout", "read_timeout", "redact", "max_retry_after", "max_body_mb", "request_deadline", "probe",
    "path_params",
}
_TOP_KEYS = {"targets", "fail_on", "baseline", "contracts"}


def default_env_name(vendor: str, field_name: str) -> str:
    """The environment variable a credential field is read from when the config names none."""
    return "APICONFORM_" + "_".join(part.upper() for part in (vendor, field_name)).replace("-", "_").replace(".", "_")


@dataclass
class Settings:
    source: Path | None = None
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_on: list[str] = field(default_factory=list)
    baseline: str | None = None
    contracts: Path | None = None  # a team's contracts folder (`contracts = "path"`, relative to the config file)


def contracts_setting(root: Path | None = None) -> tuple[Path | None, str]:
    """The configured team contracts folder and where it was configured (for error lines)."""
    settings = load_config(root)
    return settings.contracts, f"{settings.source}: contracts"


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
        _misspelt(path, data, section)
        for key in section:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if section and not data:
            continue
        return _parse(path, data, ".".join(section))
    return Settings()


def _misspelt(path: Path, data: Any, section: tuple[str, ...]) -> None:
    """A table that was meant for apiconform but is spelt so it would be ignored is an error, never silence."""
    if not isinstance(data, dict):
        return
    if section:  # pyproject.toml: [tool.apiconform] only; [apiconform], [tool.apiconform-x], [tool.api-conform] are typos
        raw_tool = data.get("tool")
        tool: dict[str, Any] = raw_tool if isinstance(raw_tool, dict) else {}
        near = [f"tool.{k}" for k in tool if k != "apiconform" and k.replace("-", "").replace("_", "").startswith("apiconform")]
        near += [k for k in data if k.replace("-", "").replace("_", "").startswith("apiconform")]
        if near:
            raise ConfigError(f"{path}: [{near[0]}] is not read; apiconform's table is [tool.apiconform] "
                              f"(targets in [tool.apiconform.targets.VENDOR])")
    elif "tool" in data and isinstance(data["tool"], dict) and "apiconform" in data["tool"]:
        raise ConfigError(f"{path}: [tool.apiconform...] is the pyproject.toml spelling; "
                          f"in apiconform.toml write [targets.VENDOR] at the top level")


def _parse(path: Path, data: dict[str, Any], prefix: str) -> Settings:
    where = f"{path}: {prefix + '.' if prefix else ''}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where.rstrip(': .')}: expected a table")
    settings = Settings(source=path)
    unknown_top = set(data) - _TOP_KEYS
    if unknown_top:
        raise ConfigError(f"{where}unknown key(s) {', '.join(sorted(unknown_top))} (known: {', '.join(sorted(_TOP_KEYS))}; "
                          f"targets go in [{prefix + '.' if prefix else ''}targets.VENDOR])")
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
        from apiconform._settings import check_target_spec

        check_target_spec(spec, f"{where}targets.{vendor}")
        fixed = spec.get("path_params", {})
        if not isinstance(fixed, dict) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in fixed.values()):
            raise ConfigError(f"{where}targets.{vendor}.path_params: expected name = \"value\" pairs")
        if "probe" in spec and not isinstance(spec["probe"], str):
            raise ConfigError(f"{where}targets.{vendor}.probe: expected an operationId")
        if "base_url" in spec and not str(spec["base_url"]).startswith(("http://", "https://")):
            raise ConfigError(f"{where}targets.{vendor}.base_url: expected an http(s) URL, got {spec['base_url']!r}")
        settings.targets[vendor] = spec
    fail_on = data.get("fail_on", [])
    if not isinstance(fail_on, list):
        raise ConfigError(f"{where}fail_on: expected a list of categories")
    settings.fail_on = [str(c) for c in fail_on]
    settings.baseline = data.get("baseline")
    if "contracts" in data:
        if not isinstance(data["contracts"], str) or not data["contracts"]:
            raise ConfigError(f"{where}contracts: expected the path of a contracts folder")
        settings.contracts = path.parent / data["contracts"]
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
    from apiconform.contracts import load_contract
    from apiconform.engine._targets import Safety, http_target

    spec = settings.targets.get(vendor, {})
    url = base_url or spec.get("base_url") or load_contract(vendor).server_url  # the documented production URL
    if not url:
        raise ConfigError(f"target {vendor}: no base_url (set targets.{vendor}.base_url or pass --target {vendor}=URL)")
    from apiconform._settings import check_cli

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
    contract = load_contract(vendor)
    credential_env = dict(spec.get("credentials", {}))
    for field_name in _credential_fields(contract):  # unnamed fields: the documented default variable
        credential_env.setdefault(field_name, default_env_name(vendor, field_name))
    target = http_target(vendor, url, credential_env=credential_env, safety=safety)
    target.extra_secret_names = tuple(spec.get("redact", []))
    target.path_params = {str(k): str(v) for k, v in dict(spec.get("path_params", {})).items()}
    if spec.get("probe"):
        try:
            probe = contract.operation(str(spec["probe"]))
        except ApiconformError:
            raise ConfigError(f"{settings.source}: targets.{vendor}.probe: no operation {spec['probe']!r} in the contract") from None
        if not probe.is_safe:
            raise ConfigError(f"{settings.source}: targets.{vendor}.probe: {probe.label} is {probe.method.upper()}; "
                              f"the probe must be a safe (GET) operation")
        target.probe = probe.label
    return target


def _credential_fields(contract: Any) -> tuple[str, ...]:
    from apiconform.auth import CREDENTIAL_FIELDS, flow_of, select_scheme

    picked = select_scheme(contract)
    flow = flow_of(picked[1]) if picked else None
    return CREDENTIAL_FIELDS.get(flow or "", ())
