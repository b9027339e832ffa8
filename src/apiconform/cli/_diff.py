"""`apiconform diff OLD NEW`: the CLI face of `apiconform.gate.diff` (registered with `main.add_command(diff)`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from apiconform.errors import EXIT_FINDINGS, EXIT_OK, ApiconformError, UsageError
from apiconform.gate.diff import FORMATS, diff_contracts, open_contract, render


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write the report to FILE."
)
def diff(old: str, new: str, fmt: str, output: Path | None) -> None:
    """Compare two versions of a contract and classify each change as breaking or not for a client.

    OLD and NEW are contract file PATHs, VENDOR names, or PATH@GITREV / VENDOR@GITREV (the contract as
    committed at that revision, e.g. `eduframe@HEAD~1`).

    Exit codes: 0 no breaking change, 1 breaking changes found, 2 usage or contract error.
    """
    # The command handles its own errors so it behaves the same standalone and under `main`.
    try:
        with open_contract(old) as old_contract, open_contract(new) as new_contract:
            report = diff_contracts(old_contract, new_contract, old_label=old, new_label=new)
        text = render(report, fmt)
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{output}: cannot write the report: {exc.strerror or exc}") from exc
            click.echo(f"{len(report.breaking)} breaking, {len(report.non_breaking)} non-breaking -> {output}")
        else:
            click.echo(text, nl=False)
    except ApiconformError as exc:
        click.echo(f"apiconform: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(EXIT_FINDINGS if report.has_breaking else EXIT_OK)
