"""How a run parameter is declared once and shown on every surface that exposes it.

A run's options are plain dataclasses (`engine.EngineOptions`, and `gate.RunOptions` above it). Each field that
a user can set carries a `Spec` in its metadata (`option(...)`): its help, its command-line spelling and the
surfaces that expose it. The surfaces are derived from those fields, never written again:

- ``cli``: `apiconform run`'s click options (`cli._options.run_options`);
- ``pytest``: the pytest plugin's options (`pytest.plugin.pytest_addoption`);
- ``api``: `apiconform.run()`'s keywords (its signature is built from the fields);
- the engine's options are the fields themselves (every surface ends in one `EngineOptions`).

Every default is the field's default: a surface that is not given a value leaves the field alone
(`values_from`), so a default is resolved once, by the dataclass. Plain dataclasses rather than pydantic: a
worker process unpickles its options without importing pydantic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from apiconform.errors import UsageError

Surface = Literal["cli", "pytest", "api"]
SURFACES: tuple[Surface, ...] = ("cli", "pytest", "api")
#: how the command line spells a value: a single value, a boolean flag, `--x/--no-x`, a repeatable comma-separated
#: list, the `VENDOR[=URL]` targets
Kind = Literal["value", "flag", "switch", "list", "targets"]


#: `--contracts DIR`'s help: the run's option (`EngineOptions.contracts`) and the other commands' (`cli._contracts_opt`)
CONTRACTS_HELP = ("a team's contracts folder (VENDOR/openapi.yaml); its vendors join the bundled ones and override a "
                  "bundled vendor of the same name (default: the `contracts` config key)")


@dataclass(frozen=True)
class Spec:
    """How one run parameter appears on the surfaces that expose it (the field's name, type and default are
    the dataclass field's)."""

    help: str
    surfaces: tuple[Surface, ...] = SURFACES
    flag: str = ""  # the command-line spelling; default: --field-name
    kind: Kind = "value"
    value_type: type = str  # of one command-line value
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None  # an integer value's least value
    path: Literal["file", "dir", ""] = ""  # a Path value: a file or a directory
    argument: bool = False  # on `apiconform run`, positional arguments (VENDORS...) instead of the flag
    set_to: Any = True  # a flag's value when given (`--no-cache`: False)
    nonempty: bool = False  # a list given with no name in it (`--suite ''`, an unset CI variable) is a usage error
    show_default: bool = False  # click shows the default in --help
    envvar: str | None = None  # a documented environment variable click reads for the option


def option(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None, help: str,
           **spec: Any) -> Any:
    """A dataclass field that is a run parameter (`Spec`'s keywords describe its surfaces)."""
    metadata = {"apiconform": Spec(help=help, **spec)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Declared:
    """One run parameter as a surface sees it."""

    name: str  # the field's (and `apiconform.run()`'s keyword)
    annotation: str  # the field's type, as written
    default: Any  # the field's default (a fresh copy of a factory's)
    spec: Spec

    @property
    def flag(self) -> str:
        return self.spec.flag or "--" + self.name.replace("_", "-")


def declared(model: type, surface: Surface | None = None) -> list[Declared]:
    """The run parameters of an options dataclass (every one, or those `surface` exposes), in field order."""
    found = []
    for f in dataclasses.fields(model):
        spec = f.metadata.get("apiconform")
        if spec is None or (surface is not None and surface not in spec.surfaces):
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        found.append(Declared(f.name, str(f.type), default, spec))
    return found


def split_csv(values: Iterable[str]) -> list[str]:
    """Repeated and comma-separated values (`--suite a,b --suite c`) as one list."""
    return [v.strip() for value in values for v in str(value).split(",") if v.strip()]


def parse_targets(values: Iterable[str]) -> dict[str, str | None]:
    """`--target VENDOR=URL` (URL) and `--target VENDOR` (None: its configured base_url)."""
    found: dict[str, str | None] = {}
    for item in split_csv(values):
        vendor, sep, url = item.partition("=")
        if not vendor or (sep and not url.startswith(("http://", "https://"))):
            raise UsageError(f"--target expects VENDOR or VENDOR=https://..., got {item!r}")
        found[vendor] = url if sep else None
    return found


def values_from(model: type, surface: Surface, given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a command line set, from its raw values by field name (click's or pytest's): lists split on
    commas, targets parsed, a flag's value applied. An option left out (None, an empty repeat, a flag not given) is
    not set, so its field keeps the model's default."""
    values: dict[str, Any] = {}
    for item in declared(model, surface):
        raw = given.get(item.name)
        kind = item.spec.kind
        if kind in ("list", "targets"):
            raw = [str(v) for v in raw or ()]
            if not raw:
                continue
            parsed = split_csv(raw)
            if not parsed and item.spec.nonempty:
                raise UsageError(f"{item.flag}: empty value {raw[0]!r} (name at least one, or leave the option out)")
            values[item.name] = parse_targets(raw) if kind == "targets" else parsed
        elif kind == "flag":
            if raw:
                values[item.name] = item.spec.set_to
        elif raw is not None:
            values[item.name] = raw
    return values


__all__ = ["CONTRACTS_HELP", "SURFACES", "Declared", "Spec", "Surface", "declared", "option", "parse_targets", "split_csv", "values_from"]
