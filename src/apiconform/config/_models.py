"""The pydantic models of the configuration (see `apiconform.config`): imported only when a configuration file
exists, or to word an invalid command-line override."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from apiconform._defaults import LIVE_DEFAULTS
from apiconform.config import Settings, check_url
from apiconform.errors import ApiconformError, ConfigError


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


def parse(path: Path, data: Any, prefix: str) -> Settings:
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


