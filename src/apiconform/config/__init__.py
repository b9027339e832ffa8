"""Configuration: `[tool.apiconform]` in pyproject.toml, or apiconform.toml (which wins).

Live targets name the environment variables their credentials come from — never the secrets:

    [tool.apiconform.targets.eduframe]
    base_url = "https://api.eduframe.nl/api/v1"
    credentials = { token = "EDUFRAME_TOKEN" }     # field -> environment variable
    max_requests = 200        # budget for the run (default 200 for live targets)
    rate = 5                  # requests per second (default 5)
    allow_writes = false      # read-only unless true (or --allow-writes / --writes)
    writes = "own"            # with writes: only records this run created ("own"), or any record ("sandbox")
    expendable = ["/buckets/scratch/*", "42"]  # records writable whoever created them: "/path" globs, or ids
    allowed_writes = ["login"]  # operations allowed to write even when read-only
    connect_timeout = 5
    read_timeout = 20
    request_deadline = 30     # one overall deadline per request: connect + headers + body (default: both timeouts)
    max_retry_after = 5       # longest Retry-After waited for, in seconds
    max_body_mb = 10          # the largest answer read, in MiB
    redact = ["X-Tenant"]     # extra header/param/field names to redact
    probe = "list_accounts"   # the safe operation the preflight checks (default: chosen from those that run)
    path_params = { account_id = "42" }   # path parameters fixed for this target, by name

Top-level keys: `contracts = "team-contracts"` names a team's contracts folder (like `--contracts`);
`fail_on = ["status-code", "enum"]` the categories that fail the gate (like `--fail-on`); `baseline =
"waivers.yaml"` the waiver file (like `--baseline`). Paths are relative to the configuration file; the
command line wins over each key.

Credentials need no config at all: a field without an entry is read from
`APICONFORM_<VENDOR>_<FIELD>` (upper case, `-` -> `_`), e.g. APICONFORM_TESLA_CE_ROLE_ID.
A configured target is used only when asked: `apiconform run --live` or `--target VENDOR[=URL]`.

The keys, their types, ranges and defaults are the pydantic models of `config._models` (`TargetSettings`,
`ProjectSettings`, imported only when a configuration file exists, or to word an invalid command-line override);
their defaults are `apiconform._defaults` (read there by the engine, the targets' `Safety` and the pytest plugin
without importing pydantic). Without a configuration file, every target is `UNCONFIGURED` (the live defaults as
a plain dataclass) and a run imports no pydantic (~0.1 s of CPU at every start). A live vendor's protection never depends on a typo: types are
strict (`allow_writes = "false"` is an error, not "true"; `rate = nan` or `-5` an error, not "no pacing";
`max_requests = 0.4` an error, not 0), misspelt keys are errors, and every error is one `ConfigError`
line naming the file and the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apiconform._defaults import LiveDefaults
from apiconform.errors import ConfigError

if TYPE_CHECKING:
    from apiconform.config._models import DEFAULT_TARGET, ProjectSettings, TargetSettings

__all__ = ["DEFAULT_TARGET", "UNCONFIGURED", "ProjectSettings", "Settings", "TargetSettings", "Unconfigured",
           "check_overrides", "check_url", "contracts_setting", "default_env_name", "load_config", "target_problems"]

_PYPROJECT_TABLE = ("tool", "apiconform")


def default_env_name(vendor: str, field_name: str) -> str:
    """The environment variable a credential field is read from when the config names none."""
    return "APICONFORM_" + "_".join(part.upper() for part in (vendor, field_name)).replace("-", "_").replace(".", "_")


class Settings:
    """The configuration as the rest of the tool reads it: the validated model plus where it came from
    (file-relative paths resolved)."""

    def __init__(self, project: ProjectSettings | None = None, source: Path | None = None) -> None:
        self.project = project  # None: no configuration file (the defaults, read without pydantic)
        self.source = source
        self.targets: dict[str, TargetSettings] = dict(project.targets) if project else {}
        self.fail_on: list[str] = list(project.fail_on) if project else []
        base = source.parent if source is not None else Path.cwd()
        self.baseline: Path | None = base / project.baseline if project and project.baseline else None
        self.contracts: Path | None = base / project.contracts if project and project.contracts else None

    def target(self, vendor: str) -> TargetSettings | Unconfigured:
        """The vendor's configured target, else the live defaults."""
        return self.targets.get(vendor, UNCONFIGURED)


def contracts_setting(root: Path | None = None) -> tuple[Path | None, str]:
    """The configured team contracts folder and where it was configured (for error lines)."""
    settings = load_config(root)
    return settings.contracts, f"{settings.source}: contracts"


def load_config(root: Path | None = None) -> Settings:
    """Read apiconform.toml, else pyproject.toml's [tool.apiconform]; absent files give defaults."""
    import tomllib

    root = root or Path.cwd()
    for path, section in ((root / "apiconform.toml", ()), (root / "pyproject.toml", _PYPROJECT_TABLE)):
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


def check_overrides(max_requests: Any = None, rate: Any = None) -> None:
    """The command-line overrides (`--max-requests`, `--rate`), with the same rules as the configuration."""
    UNCONFIGURED.overridden(max_requests, rate)


def _plainly_valid(max_requests: Any, rate: Any) -> bool:
    """True when the overrides are certainly valid by `TargetSettings`' rules (strict types, ranges, finite):
    then the model is not needed. Anything else (even what the model might accept) goes to the model, which
    words the error, so this shortcut can never let through what the model refuses."""
    ok_requests = max_requests is None or (type(max_requests) is int and 1 <= max_requests <= 1_000_000)
    ok_rate = rate is None or (type(rate) in (int, float) and math.isfinite(rate) and 0.01 <= rate <= 10_000)
    return ok_requests and ok_rate


@dataclass(frozen=True)
class Unconfigured(LiveDefaults):
    """A vendor without a `[targets.VENDOR]` table: `TargetSettings()`'s values (the live defaults) as a plain
    dataclass with the same attributes, so a run without a configuration file never imports pydantic."""

    base_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    redact: tuple[str, ...] = ()
    probe: str | None = None
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    other_credentials: Mapping[str, str] = field(default_factory=dict)

    def overridden(self, max_requests: Any = None, rate: Any = None) -> Unconfigured:
        """These defaults with the command line's `--max-requests` / `--rate`, by `TargetSettings`' rules."""
        if max_requests is None and rate is None:
            return self
        if not _plainly_valid(max_requests, rate):
            from apiconform.config._models import DEFAULT_TARGET

            checked = DEFAULT_TARGET.overridden(max_requests, rate)  # raises the one-line error
            max_requests = None if max_requests is None else checked.max_requests
            rate = None if rate is None else checked.rate
        return replace(self, max_requests=self.max_requests if max_requests is None else max_requests,
                       rate=self.rate if rate is None else float(rate))


UNCONFIGURED = Unconfigured()


def _parse(path: Path, data: Any, prefix: str) -> Settings:
    """The validated settings of one file's table (pydantic, imported here: only when a file exists)."""
    from apiconform.config._models import parse

    return parse(path, data, prefix)


def __getattr__(name: str) -> Any:
    """The pydantic models, imported on first use (`apiconform.config.TargetSettings`, ...)."""
    if name in ("TargetSettings", "ProjectSettings", "DEFAULT_TARGET"):
        from apiconform.config import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_url(url: str, where: str | None) -> str:
    """A well-formed absolute http(s) URL with a host, else one ConfigError line (never printing
    credentials); `where` None: the message alone, as a ValueError (inside the model's validation)."""
    import httpx

    from apiconform.redact import Redactor

    shown = Redactor(()).url(url) if "://" in url else url
    problem = None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        problem = f"malformed URL {shown!r}: {exc}"
    else:
        if parsed.scheme not in ("http", "https") or not parsed.host:
            problem = f"expected an http(s) URL with a host, got {shown!r}"
    if problem is None:
        return url
    if where is None:
        raise ValueError(problem)
    raise ConfigError(f"{where}: {problem}")


def target_problems(vendor: str, settings: Settings, contract: Any) -> list[tuple[str, str]]:
    """(pointer, message) for every key of `[targets.VENDOR]` the contract does not know: a credential field
    the vendor's auth flow does not take, a `path_params` name no operation's path has."""
    spec = settings.target(vendor)
    problems: list[tuple[str, str]] = []
    from apiconform.auth import credential_fields

    fields = credential_fields(contract)
    for name in sorted(spec.credentials):
        if name not in fields:
            problems.append((f"targets.{vendor}.credentials.{name}",
                             f"not a credential of {vendor}'s auth flow (it takes: {', '.join(fields) or 'none'})"))
    known = {p for op in contract for p in op.path_params()}
    for name in sorted(spec.path_params):
        if name not in known:
            problems.append((f"targets.{vendor}.path_params.{name}",
                             f"no operation of {vendor} has a path parameter {name!r}"))
    return problems
