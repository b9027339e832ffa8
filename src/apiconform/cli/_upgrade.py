"""`apiconform upgrade`: run one plan against two live versions of a vendor and report what a client would notice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from apiconform._options import values_from
from apiconform.cli._contracts_opt import contracts_option
from apiconform.cli._options import run_options
from apiconform.errors import UsageError
from apiconform.gate._options import RunOptions

#: `apiconform run`'s options that `upgrade` shares (declared once, on the run's options)
SHARED = ("suites", "operations", "max_examples", "seed", "allow_writes", "max_requests", "rate")


def _url(value: str, option: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise UsageError(f"{option} expects a URL (https://...), got {value!r}")
    return value


@click.command("upgrade")
@click.argument("vendor")
@contracts_option
@click.option("--from", "old_url", required=True, metavar="URL", help="the version clients use today")
@click.option("--to", "new_url", required=True, metavar="URL", help="the version they are about to get")
@run_options(RunOptions, SHARED)
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/upgrade"),
              show_default=True, help="each version's reports go to DIR/from and DIR/to, the diff to DIR/upgrade.json")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True)
def upgrade(vendor: str, old_url: str, new_url: str, reports_dir: Path, fmt: str, **given: Any) -> None:
    """Run one plan (same seed, same data) against two versions of VENDOR and diff their behaviour per operation.

    Reports statuses gained/lost, fields added/removed/retyped/now null, enum values, content types and headers,
    error shapes and what anonymous callers, wrong credentials and another identity get; each change breaking or
    not for a client. Exit 0 no breaking change, 1 breaking changes, 2 usage/contract/config error, 3 a version
    unreachable or its credentials refused.
    """
    from apiconform.contracts import load_contract
    from apiconform.gate._run import execute
    from apiconform.gate.diff._render import render
    from apiconform.gate.upgrade import behaviour_diff

    urls = {"from": _url(old_url, "--from"), "to": _url(new_url, "--to")}
    records = {}
    for side, url in urls.items():
        options = RunOptions(**values_from(RunOptions, "cli", given), vendors=[vendor], targets={vendor: url},
                             reports_dir=reports_dir / side, allure=False, argv=sys.argv[1:])
        outcome = execute(options, announce=lambda line, side=side: click.echo(f"{side}: {line}", err=True))
        record = outcome.record
        ran = sum(1 for c in record.cases if not c.skipped)
        click.echo(f"{side}: {ran} tests ran, {sum(c.requests for c in record.cases)} requests, "
                   f"{len(record.findings)} findings ({reports_dir / side}/)", err=True)
        for line in outcome.gate.summary[:1] + [s for s in outcome.gate.summary if s.startswith("  INCOMPLETE")]:
            click.echo(f"{side}: {line}", err=True)
        records[side] = record
    shown = {side: records[side].targets.get(vendor, url) for side, url in urls.items()}
    report = behaviour_diff(records["from"], records["to"], load_contract(vendor), vendor, shown["from"], shown["to"])
    (reports_dir / "upgrade.json").write_text(render(report, "json"), encoding="utf-8")
    click.echo(render(report, fmt), nl=False)
    sys.exit(1 if report.has_breaking else 0)
