"""The `apiconform` command: a thin layer over the Python API (tests call the API directly)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from apiconform import __version__
from apiconform.cli._contracts_opt import contracts_option
from apiconform.errors import EXIT_USAGE, ApiconformError


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


class _Main(_Group):
    """The top-level group: subcommands from LAZY_COMMANDS are imported when invoked, not at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, attribute, _ = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][2]))
            elif (command := super().get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(100)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apiconform")
def main() -> None:
    """Contract-testing conformance suite for third-party HTTP APIs.

    Exit codes: 0 conformant, 1 findings, 2 usage/contract/config error, 3 target unreachable or auth failed,
    4 run interrupted (SIGINT/SIGTERM; reports hold the finished cases).
    """


@main.group(cls=_Group)
def contracts() -> None:
    """Inspect and validate vendor contracts."""


@contracts.command("list")
@contracts_option
def contracts_list() -> None:
    """Print each vendor with its operation count."""
    from apiconform.contracts import list_vendors, load_contract

    for vendor in list_vendors():
        contract = load_contract(vendor)
        click.echo(f"{vendor:<12} {len(contract):>4} operations  {contract.title} {contract.version}")


@contracts.command("check")
@click.argument("targets", nargs=-1)
@click.option("--stamp", is_flag=True,
              help="Write lint-clean.json into each clean team contract's folder (commit it): `apiconform run` then "
                   "skips the lint while the folder's files, apiconform and the linting libraries are unchanged.")
@contracts_option
def contracts_check(targets: tuple[str, ...], stamp: bool) -> None:
    """Lint contracts and validate every example: VENDOR names or file PATHs (default: all vendors)."""
    from apiconform.contracts import check_contract, list_vendors

    names = list(targets) or list_vendors()
    failed = False
    for name in names:
        result = check_contract(name)
        problems = list(result.problems) + _target_problems(name, broken=bool(result.problems or not result.operations))
        for problem in problems:
            click.echo(str(problem), err=True)
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        status = "ok" if not problems else f"FAILED ({len(problems)} problems)"
        warned = f", {len(result.warnings)} warnings" if result.warnings else ""
        stamped = _stamp(name, result) if stamp and not problems else ""
        click.echo(
            f"{name}: {status} - {result.operations} operations, {result.examples} examples ({result.errata} errata)"
            f"{warned}{stamped}"
        )
        failed |= bool(problems)
    sys.exit(EXIT_USAGE if failed else 0)


def _stamp(name: str, result: Any) -> str:
    """`contracts check --stamp`: the clean lint recorded in a team contract's folder; what was done, for the line."""
    from apiconform.contracts import BUNDLED_DIR, CONTRACT_FILE, contract_path, write_team_stamp

    path = contract_path(name).resolve()
    if path.parent.parent == BUNDLED_DIR.resolve():
        return "; bundled (ships its own stamp)"
    if path.name != CONTRACT_FILE:
        return f"; not stamped (a contract folder's {CONTRACT_FILE} is)"
    written = write_team_stamp(path.parent, result.operations, result.examples, result.errata)
    return f"; stamped {written}"


def _target_problems(name: str, broken: bool = False) -> list[str]:
    """The project's `[targets.VENDOR]` keys this vendor's contract does not know (credentials, path_params).
    Asked of a contract whose check failed too (every problem in one run): the document is then read as far as it
    loads, and what keeps it from loading is already among the check's problems, so it is not said twice."""
    from pathlib import Path

    from apiconform.config import load_config, target_problems
    from apiconform.contracts import contract_path, load_contract
    from apiconform.errors import ApiconformError

    try:
        settings = load_config(Path.cwd())
    except ApiconformError as exc:
        return [str(exc)]
    try:
        contract = load_contract(name)
        vendor = str(contract.document.get("info", {}).get("x-apiconform", {}).get("vendor")
                     or contract_path(name).parent.name)
        if vendor not in settings.targets:
            return []
        found = target_problems(vendor, settings, contract)
    except ApiconformError as exc:
        return [] if broken else [str(exc)]
    except (KeyError, TypeError, ValueError, AttributeError):  # a document the lint refused, read past its faults
        if broken:
            return []
        raise
    return [f"{settings.source}: {where}: {message}" for where, message in found]


#: subcommands, imported only when used (`apiconform --help` must not import the engine): name -> (module,
#: attribute, one-line help shown by `apiconform --help`; tests/cli/test_cli_lazy.py keeps it equal to the command's)
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "baseline": ("apiconform.cli._report", "baseline",
                 "Manage apiconform-baseline.yaml: known findings accepted until an expiry date."),
    "compare": ("apiconform.cli._report", "compare", "Compare two runs (run.json files or reports dirs)."),
    "diff": ("apiconform.cli._diff", "diff",
             "Compare two versions of a contract and classify each change as breaking or not for a client."),
    "explain": ("apiconform.cli._explain", "explain", "What a failure code means, its typical cause, how to waive it."),
    "fidelity": ("apiconform.cli._fidelity", "fidelity_cmd",
                 "Replay RECORDINGS (HAR) against VENDOR's mock, in order, and print where the mock differs."),
    "init": ("apiconform.cli._init", "init",
             "Scaffold contracts/VENDOR/ (openapi.yaml, examples/, SOURCE.md) following contracts/README.md."),
    "learn": ("apiconform.cli._fidelity", "learn_cmd",
              "Derive what VENDOR's mock needs from recordings of the real vendor (seed records, lifetimes, login answer,"
              " open objects, accepted formats) into a reviewable, redacted data file the mock executes."),
    "mock": ("apiconform.cli._mock", "mock", "Serve VENDOR's mock API on http://HOST:PORT until interrupted."),
    "proxy": ("apiconform.cli._proxy", "proxy",
              "Serve a recording, validating proxy for VENDOR on 127.0.0.1:PORT in front of --target."),
    "record": ("apiconform.cli._fidelity", "record_cmd",
               "Record a safe sequence covering every operation against a live target into a HAR cassette."),
    "report": ("apiconform.cli._report", "report",
               "Re-render junit.xml, matrix.{json,md,html} and coverage.json from run.json (merging shards)."),
    "run": ("apiconform.cli._run", "run",
            "Run the conformance gate (default: every vendor, every suite, embedded mocks) and write reports."),
    "upgrade": ("apiconform.cli._upgrade", "upgrade",
                "Run one plan (same seed, same data) against two versions of VENDOR and diff their behaviour per operation."),
}



if __name__ == "__main__":
    main()
