"""`apiconform record VENDOR --target URL` and `apiconform fidelity VENDOR CASSETTE`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from apiconform._defaults import LIVE_DEFAULTS
from apiconform.errors import UsageError


@click.command("record")
@click.argument("vendor")
@click.option("--target", "url", required=True, help="base URL of the live target")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("reports/cassette.har"), show_default=True)
@click.option("--allow-writes", is_flag=True, help="also run creates/updates/actions/deletes (lifecycles)")
@click.option("--max-requests", type=int, default=LIVE_DEFAULTS.max_requests, show_default=True)
@click.option("--rate", type=float, default=LIVE_DEFAULTS.rate, show_default=True, help="requests per second")
@click.option("--probe", "probes", multiple=True, type=click.Choice(["anonymous", "other-identity", "wrong-credentials", "none"]),
              help="auth probes per safe operation (repeatable; default: anonymous, other-identity)")
def record_cmd(vendor: str, url: str, out: Path, allow_writes: bool, max_requests: int, rate: float,
               probes: tuple[str, ...]) -> None:
    """Record a safe sequence covering every operation against a live target into a HAR cassette.

    Credentials come from APICONFORM_<VENDOR>_<FIELD> environment variables (e.g. APICONFORM_TESLA_CE_ROLE_ID)."""
    from apiconform.auth import credential_fields
    from apiconform.config import check_overrides, default_env_name
    from apiconform.contracts import list_vendors
    from apiconform.engine._session import Session
    from apiconform.engine._targets import Safety, http_target
    from apiconform.traffic import DEFAULT_PROBES, record, write_cassette

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    check_overrides(max_requests, rate)  # a live vendor's budget and pacing: the configuration's rules
    from apiconform.contracts import load_contract

    fields = credential_fields(load_contract(vendor))
    env = {f: default_env_name(vendor, f) for f in fields if os.environ.get(default_env_name(vendor, f))}
    from apiconform.traffic import auth_operations

    safety = Safety(read_only=not allow_writes, allowed_writes=auth_operations(load_contract(vendor)),
                    max_requests=max_requests, rate=rate)
    session = Session(http_target(vendor, url, credential_env=env, safety=safety))
    try:
        entries = record(session, tuple(p for p in probes if p != "none") if probes else DEFAULT_PROBES)
    finally:
        session.close()
    write_cassette(out, vendor, entries)
    ops = {e["_operation"] for e in entries}
    click.echo(f"recorded {len(entries)} exchanges covering {len(ops)}/{len(session.target.contract)} operations -> {out}")


@click.command("fidelity")
@click.argument("vendor")
@click.argument("cassette", type=click.Path(path_type=Path))
@click.option("--min-agreement", type=float, default=None, help="exit 1 below this fraction (e.g. 0.95)")
def fidelity_cmd(vendor: str, cassette: Path, min_agreement: float | None) -> None:
    """Replay CASSETTE against VENDOR's mock, in order, and print where the mock differs."""
    run_fidelity(vendor, cassette, min_agreement)


def run_fidelity(vendor: str, cassette: Path, min_agreement: float | None, drifts: tuple[str, ...] = (),
                 seed: int = 0) -> None:
    """Shared by `fidelity` and `mock --verify`: print the differences and the agreement figure."""
    from apiconform.contracts import list_vendors
    from apiconform.engine._session import Session
    from apiconform.engine._targets import mock_target
    from apiconform.traffic import read_cassette, verify

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    recorded_vendor, entries = read_cassette(cassette)
    if recorded_vendor and recorded_vendor != vendor:
        raise UsageError(f"{cassette}: recorded for {recorded_vendor!r}, not {vendor!r}")
    session = Session(mock_target(vendor, drifts=drifts, seed=seed))
    result = verify(session, entries)
    for line in result.lines():
        click.echo(line)
    if min_agreement is not None and result.agreement < min_agreement:
        raise SystemExit(1)


__all__ = ["fidelity_cmd", "record_cmd", "run_fidelity"]
