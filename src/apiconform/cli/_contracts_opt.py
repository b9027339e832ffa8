"""`--contracts DIR`, shared by the commands that look vendors up (run, contracts list|check, mock, upgrade)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from apiconform._options import CONTRACTS_HELP


def _resolve(value: Path | None) -> Path | None:
    """The option, else the `contracts` config key; a folder that is not there is one usage line."""
    from apiconform.contracts._loader import contracts_folder

    source = "--contracts"
    if value is None:
        from apiconform.config import contracts_setting

        value, source = contracts_setting(Path.cwd())
    return None if value is None else contracts_folder(value, source)


def _apply(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Put the team folder in front of the bundled vendors for this command only."""
    from apiconform.contracts import team_contracts

    return ctx.with_resource(team_contracts(_resolve(value)))


def _given(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """A run's folder, checked and handed to the run's options (the run puts it in front, for the run)."""
    return _resolve(value)


def contracts_option(fn: Callable[..., Any] | None = None, *, name: str = "contracts_dir",
                     expose: bool = False) -> Any:
    """`--contracts DIR`: for the command (`expose=False`), or (`expose=True`) passed to it as `name` — a run's
    options (`EngineOptions.contracts`) carry it to every process of the run."""
    option = click.option(
        "--contracts", name, type=click.Path(path_type=Path), default=None, callback=_given if expose else _apply,
        expose_value=expose, is_eager=True, metavar="DIR", help=CONTRACTS_HELP,
    )
    return option if fn is None else option(fn)
