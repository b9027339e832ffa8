"""`apiconform proxy VENDOR --target URL [--port P] [--record FILE] [-- COMMAND ...]`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from apiconform.errors import UsageError


@click.command("proxy", context_settings={"ignore_unknown_options": True})
@click.argument("vendor")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--target", "url", required=True, help="base URL of the vendor (or a mock) the clients talk to")
@click.option("--port", type=int, default=8200, show_default=True, help="loopback port to serve on (0: a free one)")
@click.option("--record", "har", type=click.Path(path_type=Path), default=None,
              help="write every exchange to this HAR file (redacted) when the proxy stops")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="run.json, junit.xml, matrix.* and coverage.json of the judged traffic")
def proxy(vendor: str, command: tuple[str, ...], url: str, port: int, har: Path | None, reports_dir: Path) -> None:
    """Serve a recording, validating proxy for VENDOR on 127.0.0.1:PORT in front of --target.

    Point any client (integration tests, a vendor SDK, curl) at the proxy's URL: each exchange goes to the
    target unchanged, is judged against VENDOR's contract (findings as in a run, in the same reports) and,
    with --record, kept in a redacted HAR file for `apiconform fidelity`. Without COMMAND it serves until
    interrupted; with `-- COMMAND ...` it runs the command with APICONFORM_PROXY_URL set to the proxy's URL
    (and `{proxy}` in its arguments replaced by it), then stops. Exit 1 if any exchange had a finding (or
    the command failed), else 0.
    """
    from apiconform.contracts import list_vendors
    from apiconform.mock import free_port
    from apiconform.report import check_reports_dir
    from apiconform.traffic import TrafficJudge, proxy_server, serve_proxy

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--target {url}: not an http(s) URL")
    check_reports_dir(reports_dir)
    judge = TrafficJudge(vendor, url)
    port = port or free_port()
    public = f"http://127.0.0.1:{port}"
    code = 0
    if command:
        args = [a.replace("{proxy}", public) for a in command]
        with proxy_server(judge, url, port=port):
            click.echo(f"proxy {vendor}: {public} -> {judge.redactor.url(url)}; running {' '.join(command)}", err=True)
            try:
                code = subprocess.run(args, env={**os.environ, "APICONFORM_PROXY_URL": public}, check=False).returncode
            except OSError as exc:
                raise UsageError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from None
    else:
        click.echo(f"proxy {vendor}: {public} -> {judge.redactor.url(url)} (Ctrl-C stops, then writes)", err=True)
        serve_proxy(judge, url, port=port)
    judge.write(har=har, reports_dir=reports_dir)
    for finding in judge.findings:
        click.echo(f"  {finding.category.value}: {finding.operation}: {finding.message}")
    for line in judge.unmatched[:10]:
        click.echo(f"  not in the contract: {line}")
    click.echo(judge.summary() + (f"; recorded -> {har}" if har else "") + f"; reports -> {reports_dir}")
    sys.exit(1 if code or judge.findings else 0)


__all__ = ["proxy"]
