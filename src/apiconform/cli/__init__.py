"""The `apiconform` command: a thin layer over the Python API (tests call the API directly)."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from apiconform import __version__
from apiconform.cli._contracts_opt import contracts_option
from apiconform.contracts import check_contract, list_vendors, load_contract
from apiconform.errors import EXIT_FINDINGS, EXIT_USAGE, ApiconformError


class _Group(click.Group):
    """Turn every user-facing error into one line on stderr and its documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiconformError as exc:
            click.echo(f"apiconform: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("apiconform: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug in apiconform: still one line unless asked for the traceback
            if os.environ.get("APICONFORM_DEBUG"):
                raise
            click.echo(
                f"apiconform: internal error: {type(exc).__name__}: {exc} (set APICONFORM_DEBUG=1 for a traceback)",
                err=True,
            )
            sys.exit(EXIT_USAGE)


def _group(**kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]:
    return click.group(cls=_Group, **kwargs)


@_group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apiconform")
def main() -> None:
    """Contract-testing conformance suite for third-party HTTP APIs.

    Exit codes: 0 conformant, 1 findings, 2 usage/contract/config error, 3 target unreachable or auth failed.
    """


@main.group(cls=_Group)
def contracts() -> None:
    """Inspect and validate vendor contracts."""


@contracts.command("list")
@contracts_option
def contracts_list() -> None:
    """Print each vendor with its operation count."""
    for vendor in list_vendors():
        contract = load_contract(vendor)
        click.echo(f"{vendor:<12} {len(contract):>4} operations  {contract.title} {contract.version}")


@contracts.command("check")
@click.argument("targets", nargs=-1)
@contracts_option
def contracts_check(targets: tuple[str, ...]) -> None:
    """Lint contracts and validate every example: VENDOR names or file PATHs (default: all vendors)."""
    names = list(targets) or list_vendors()
    failed = False
    for name in names:
        result = check_contract(name)
        for problem in result.problems:
            click.echo(str(problem), err=True)
        status = "ok" if result.ok else f"FAILED ({len(result.problems)} problems)"
        click.echo(
            f"{name}: {status} - {result.operations} operations, {result.examples} examples ({result.errata} errata)"
        )
        failed |= not result.ok
    sys.exit(EXIT_USAGE if failed else 0)


def _register() -> None:
    from apiconform.cli._diff import diff
    from apiconform.cli._report import baseline, compare, report
    from apiconform.cli._mock import mock
    from apiconform.cli._fidelity import fidelity_cmd, record_cmd
    from apiconform._cli_init import init
    from apiconform.cli._run import run

    for command in (run, mock, diff, report, compare, baseline, record_cmd, fidelity_cmd, init):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()
