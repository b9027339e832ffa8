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

The keys, their types, ranges and defaults are the pydantic models below (`TargetSettings`,
`ProjectSettings`); their defaults are `apiconform._defaults` (read there by the engine, the targets' `Safety`
and the pytest plugin without importing pydantic). A live vendor's protection never depends on a typo: types are
strict (`allow_writes = "false"` is an error, not "true"; `rate = nan` or `-5` an error, not "no pacing";
`max_requests = 0.4` an error, not 0), misspelt keys are errors, and every error is one `ConfigError`
line naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from apiconform._defaults import LIVE_DEFAULTS
from apiconform.errors import ApiconformError, ConfigError

_PYPROJECT_TABLE = ("tool", "apiconform")


def default_env_name(vendor: str, field_name: str) -> str:
    """The environment variable a credential field is read from when the config names none."""
    return "APICONFORM_" + "_".join(part.upper() for part in (vendor, field_name)).replace("-", "_").replace(".", "_")


def _seconds(default: float | None, low: float, high: float) -> Any:
    return Field(default, ge=low, le=high, allow_inf_nan=False, json_schema_extra={"unit": "seconds"})


class TargetSettings(BaseModel):
    """One `[targets.VENDOR]` table: where a live vendor is and how gently it is tested.

    The defaults are those of every live target, configured or not (`--target VENDOR=URL`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    base_url: str | None = Field(default=None, json_schema_extra={"expected": "an http(s) URL"})
    credentials: dict[str, str] = Field(default_factory=dict,
                                        json_schema_extra={"expected": 'field = "ENV_VAR_NAME" pairs'})
    max_requests: int = Field(default=LIVE_DEFAULTS.max_requests, ge=1, le=1_000_000, json_schema_extra={"unit": "requests"})  # per run
    rate: float = Field(default=LIVE_DEFAULTS.rate, ge=0.01, le=10_000, allow_inf_nan=False,
                        json_schema_extra={"unit": "requests per second"})
    allow_writes: bool = LIVE_DEFAULTS.allow_writes
    allowed_writes: list[str] = Field(default_factory=lambda: list(LIVE_DEFAULTS.allowed_writes), json_schema_extra={"expected": "a list of strings"})
    writes: Literal["own", "sandbox"] = Field(default=LIVE_DEFAULTS.writes,
                                              json_schema_extra={"expected": '"own" or "sandbox"'})
    expendable: list[str] = Field(default_factory=lambda: list(LIVE_DEFAULTS.expendable),
                                  json_schema_extra={"expected": 'a list of ids or "/path" patterns'})
    connect_timeout: float = _seconds(LIVE_DEFAULTS.connect_timeout, 0.01, 600)
    read_timeout: float = _seconds(LIVE_DEFAULTS.read_timeout, 0.01, 600)
    request_deadline: float | None = _seconds(LIVE_DEFAULTS.request_deadline, 0.01, 3600)  # None: connect_timeout + read_timeout
    max_retry_after: float = _seconds(LIVE_DEFAULTS.max_retry_after, 0, 600)
    max_body_mb: float = Field(default=LIVE_DEFAULTS.max_body_mb, ge=0.0625, le=1024, allow_inf_nan=False,
                               json_schema_extra={"unit": "MiB (at least 64 KiB, so a normal answer fits)"})
    redact: list[str] = Field(default_factory=list, json_schema_extra={"expected": "a list of strings"})
    probe: str | None = Field(default=None, json_schema_extra={"expected": "an operationId"})
    path_params: dict[str, str | int] = Field(default_factory=dict,
                                              json_schema_extra={"expected": 'name = "value" pairs'})
    # a second identity (another account of the same vendor): its records are probed with the first's ids
    other_credentials: dict[str, str] = Field(default_factory=dict,
                                              json_schema_extra={"expected": 'field = "ENV_VAR_NAME" pairs'})

    @field_validator("max_requests", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        """`200.0` is a whole number of requests; `0.4` stays an error."""
        return int(value) if isinstance(value, float) and value.is_integer() else value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, None)

    def overridden(self, max_requests: Any = None, rate: Any = None) -> TargetSettings:
        """This target with the command line's `--max-requests` / `--rate`, checked by the same field rules."""
        given = {k: v for k, v in (("max_requests", max_requests), ("rate", rate)) if v is not None}
        if not given:
            return self
        try:
            return TargetSettings.model_validate({**self.model_dump(exclude_unset=True), **given})
        except ValidationError as exc:
            raise _one_line(exc, lambda loc: "--" + str(loc[0]).replace("_", "-")) from None


DEFAULT_TARGET = TargetSettings()


class ProjectSettings(BaseModel):
    """The whole `[tool.apiconform]` table (or apiconform.toml).

    A plain pydantic model, not a pydantic-settings `BaseSettings`: the file is the only source (never the
    environment, where `APICONFORM_<VENDOR>_<FIELD>` variables are credentials), and BaseSettings takes
    `_`-prefixed keys as its own options (a table with `_cli_parse_args = true` would read sys.argv)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    targets: dict[str, TargetSettings] = Field(default_factory=dict, json_schema_extra={"expected": "a table of vendors"})
    fail_on: list[str] = Field(default_factory=list, json_schema_extra={"expected": "a list of categories or failure codes"})
    baseline: str | None = Field(default=None, json_schema_extra={"expected": "the path of a waiver file"})
    contracts: str | None = Field(default=None, min_length=1, json_schema_extra={"expected": "the path of a contracts folder"})

    @field_validator("fail_on")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        from apiconform.codes import explain, is_code
        from apiconform.findings import Category

        try:
            return [explain(c).code if is_code(c) else Category.parse(c).value for c in value]
        except ApiconformError as exc:
            raise ValueError(str(exc)) from None


class Settings:
    """The configuration as the rest of the tool reads it: the validated model plus where it came from
    (file-relative paths resolved)."""

    def __init__(self, project: ProjectSettings | None = None, source: Path | None = None) -> None:
        self.project = project or ProjectSettings()
        self.source = source
        self.targets: dict[str, TargetSettings] = dict(self.project.targets)
        self.fail_on: list[str] = list(self.project.fail_on)
        base = source.parent if source is not None else Path.cwd()
        self.baseline: Path | None = base / self.project.baseline if self.project.baseline else None
        self.contracts: Path | None = base / self.project.contracts if self.project.contracts else None

    def target(self, vendor: str) -> TargetSettings:
        """The vendor's configured target, else the live defaults."""
        return self.targets.get(vendor, DEFAULT_TARGET)


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


def _parse(path: Path, data: Any, prefix: str) -> Settings:
    """The validated settings of one file's table (`prefix`: where the table sits, e.g. `tool.apiconform`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {prefix or 'the file'}: expected a table")
    try:
        project = ProjectSettings.model_validate(data)
    except ValidationError as exc:
        def key(loc: tuple[Any, ...]) -> str:
            return f"{path}: " + ".".join(str(part) for part in ((prefix,) if prefix else ()) + loc)

        raise _one_line(exc, key, prefix) from None
    return Settings(project, path)


def _one_line(exc: ValidationError, name: Any, prefix: str = "") -> ConfigError:
    """pydantic's errors as ONE line naming the file and the key (or the option): the first error, a
    misspelt key before anything else (it usually explains the rest). `name(loc)` spells a key's place."""
    errors = exc.errors()
    in_project = exc.title == ProjectSettings.__name__
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    if extra:
        parent = tuple(extra[0]["loc"][:-1])
        unknown = sorted(str(e["loc"][-1]) for e in extra if tuple(e["loc"][:-1]) == parent)
        model: type[BaseModel] = ProjectSettings if in_project and not parent else TargetSettings
        hint = f"; targets go in [{prefix + '.' if prefix else ''}targets.VENDOR]" if model is ProjectSettings else ""
        where = name(parent) if parent else name(()).rstrip(": ")
        return ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                           f"(known: {', '.join(sorted(model.model_fields))}{hint})")
    error = errors[0]
    loc = tuple(error["loc"])
    if not in_project:  # a TargetSettings checked alone: the command line's overrides
        key, field = loc[:1], TargetSettings.model_fields.get(str(loc[0]))
    elif loc[0] == "targets" and len(loc) == 2:
        return ConfigError(f"{name(loc)}: expected a table")
    elif loc[0] == "targets" and len(loc) > 2:  # the key a user wrote, not the index inside its list or table
        key, field = loc[:3], TargetSettings.model_fields.get(str(loc[2]))
    else:
        key, field = loc[:1], ProjectSettings.model_fields.get(str(loc[0]))
    return ConfigError(f"{name(key)}: {_message(error, field)}")


def _message(error: Any, field: Any) -> str:
    """pydantic's error, in the words the user needs: what was expected, what was given, the range."""
    kind, value = error["type"], error.get("input")
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    unit = str(extra.get("unit", ""))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None) if field is not None else None
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None) if field is not None else None
        if low is not None and high is not None:
            return f"{value!r} is out of range ({low:g} to {high:g} {unit})".rstrip()
    if kind == "finite_number":
        return f"expected a finite number, got {value!r}"
    if kind.startswith("int_"):
        return f"expected a whole number{' of ' + unit if unit else ''}, got {value!r}"
    if kind.startswith("float_"):
        return f"expected a number, got {value!r}"
    if kind.startswith("bool_"):
        return f"expected true or false (a boolean, not {type(value).__name__}), got {value!r}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if "expected" in extra:
        return f"expected {extra['expected']}, got {value!r}" if kind != "dict_type" else f"expected {extra['expected']}"
    return str(error["msg"])


def check_overrides(max_requests: Any = None, rate: Any = None) -> None:
    """The command-line overrides (`--max-requests`, `--rate`), with the same rules as the configuration."""
    DEFAULT_TARGET.overridden(max_requests, rate)


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
