"""`apiconform explain CODE`: a failure code looked up (apiconform.codes), as `st explain` does for schemathesis."""

from __future__ import annotations

import click

__all__ = ["explain"]


@click.command("explain")
@click.argument("code", required=False)
@click.option("--list", "list_all", is_flag=True, help="every code, one line each")
def explain(code: str | None, list_all: bool) -> None:
    """What a failure code means, its typical cause, how to waive it."""
    from apiconform.codes import CODES
    from apiconform.codes import explain as lookup
    from apiconform.errors import UsageError

    if list_all or code is None:
        if code is None and not list_all:
            raise UsageError("explain: name a code (e.g. `apiconform explain AC602`) or use --list")
        for c in CODES:
            click.echo(f"{c.code}  {c.category.value:<14}  {c.title}")
        return
    c = lookup(code)
    click.echo(f"{c.code}: {c.title}")
    click.echo(f"  category:      {c.category.value} (check `{c.check}`)")
    click.echo(f"  what it means: {c.meaning}")
    click.echo(f"  typical cause: {c.cause}")
    click.echo(f"  waive it:      {c.waive}")
