"""`apiconform run`'s click options, derived from the run parameters' declarations (`apiconform._options`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from apiconform._options import Declared, declared


def _param(item: Declared) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One declared run parameter as a click option (or, `argument`, as the command's positional arguments)."""
    spec = item.spec
    if item.name == "contracts":  # shared with the commands that are not runs: one click declaration for all
        from apiconform.cli._contracts_opt import contracts_option

        return contracts_option(name=item.name, expose=True)  # type: ignore[no-any-return]
    if spec.argument:
        return click.argument(item.name, nargs=-1)
    extra: dict[str, Any] = {"help": spec.help}
    if spec.kind == "flag":
        return click.option(item.flag, item.name, is_flag=True, **extra)
    if spec.kind == "switch":
        name = item.flag.removeprefix("--")
        return click.option(f"--{name}/--no-{name}", item.name, default=item.default, show_default=spec.show_default,
                            **extra)
    if spec.metavar:
        extra["metavar"] = spec.metavar
    if spec.envvar:
        extra["envvar"] = spec.envvar
    if spec.kind in ("list", "targets"):
        return click.option(item.flag, item.name, multiple=True, **extra)
    kind: Any = spec.value_type
    if spec.choices:
        kind = click.Choice(list(spec.choices))
    elif spec.minimum is not None:
        kind = click.IntRange(min=spec.minimum)
    elif spec.path:
        kind = click.Path(file_okay=spec.path == "file", dir_okay=spec.path == "dir", path_type=Path)
    return click.option(item.flag, item.name, type=kind, default=item.default, show_default=spec.show_default, **extra)


def run_options(model: type, names: tuple[str, ...] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every run parameter of `model` the command line exposes (or those `names`: a command sharing some of
    `apiconform run`'s options), as click options in declaration order."""

    chosen = [item for item in declared(model, "cli") if names is None or item.name in names]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for item in reversed(chosen):  # click lists the options in the order they are applied
            command = _param(item)(command)
        return command

    return decorate


__all__ = ["run_options"]
