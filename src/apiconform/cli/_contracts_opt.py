"""`--contracts DIR`, shared by the commands that look vendors up (run, contracts list|check, mock)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def _apply(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Put the team folder (the option, else the `contracts` config key) in front of the bundled vendors
    for this command only."""
    from apiconform.contracts import use_contracts

    source = "--contracts"
    if value is None:
        from apiconform.config import contracts_setting

        value, source = contracts_setting(Path.cwd())
    ctx.call_on_close(lambda: use_contracts(None))
    return use_contracts(value, source)


def contracts_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--contracts", "contracts_dir", type=click.Path(path_type=Path), default=None, callback=_apply,
        expose_value=False, is_eager=True, metavar="DIR",
        help="a team's contracts folder (VENDOR/openapi.yaml); its vendors join the bundled ones and override "
             "a bundled vendor of the same name (default: the `contracts` config key)",
    )(fn)
