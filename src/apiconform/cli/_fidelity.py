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
@click.option("--allow-writes", is_flag=True,
              help="also run creates/updates/actions/deletes, on records this recording created (write policy own); "
                   "what it created is deleted at the end")
@click.option("--writes", "writes", type=click.Choice(["own", "sandbox"]), default=None,
              help="turn writes on with this policy: own = records this recording created, sandbox = any record")
@click.option("--max-requests", type=int, default=LIVE_DEFAULTS.max_requests, show_default=True)
@click.option("--rate", type=float, default=LIVE_DEFAULTS.rate, show_default=True, help="requests per second")
@click.option("--probe", "probes", multiple=True, type=click.Choice(["anonymous", "other-identity", "wrong-credentials", "none"]),
              help="auth probes per safe operation (repeatable; default: anonymous, other-identity)")
def record_cmd(vendor: str, url: str, out: Path, allow_writes: bool, max_requests: int, rate: float,
               probes: tuple[str, ...], writes: str | None = None) -> None:
    """Record a safe sequence covering every operation against a live target into a HAR cassette.

    Credentials come from APICONFORM_<VENDOR>_<FIELD> environment variables (e.g. APICONFORM_TESLA_CE_ROLE_ID)."""
    from apiconform.auth import credential_fields
    from apiconform.config import check_overrides, default_env_name
    from apiconform.contracts import list_vendors
    from apiconform.engine import Safety, Session, http_target
    from apiconform.traffic import DEFAULT_PROBES, record, write_cassette

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    check_overrides(max_requests, rate)  # a live vendor's budget and pacing: the configuration's rules
    from apiconform.contracts import load_contract

    fields = credential_fields(load_contract(vendor))
    env = {f: default_env_name(vendor, f) for f in fields if os.environ.get(default_env_name(vendor, f))}
    from apiconform.traffic import auth_operations

    safety = Safety(read_only=not (allow_writes or writes), allowed_writes=auth_operations(load_contract(vendor)),
                    max_requests=max_requests, rate=rate, writes=writes or "own")
    session = Session(http_target(vendor, url, credential_env=env, safety=safety))
    try:
        entries = record(session, tuple(p for p in probes if p != "none") if probes else DEFAULT_PROBES)
    finally:
        try:
            report = session.cleanup()  # what the sequence created and did not delete itself
        finally:
            session.close()
    for entry in report.left_behind if report is not None else []:
        click.echo(f"left behind (remove by hand): {entry.operation} id={entry.id} {entry.url} ({entry.reason})", err=True)
    if report is not None and report.refused:
        click.echo(f"not recorded: {', '.join(sorted(report.refused))} (write policy {report.policy}: "
                   "no record of this recording's own to address; --writes sandbox allows any record)", err=True)
    write_cassette(out, vendor, entries)
    ops = {e["_operation"] for e in entries}
    click.echo(f"recorded {len(entries)} exchanges covering {len(ops)}/{len(session.target.contract)} operations -> {out}")


@click.command("fidelity")
@click.argument("vendor")
@click.argument("recordings", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--min-agreement", type=float, default=None,
              help="a gate: exit 1 when fewer exchanges agree than this fraction (e.g. 0.95); without it, only measures")
@click.option("--learned", type=click.Path(path_type=Path), default=None,
              help="the mock executes this learned data file (`apiconform learn`) instead of the one beside the contract")
def fidelity_cmd(vendor: str, recordings: tuple[Path, ...], min_agreement: float | None, learned: Path | None) -> None:
    """Replay RECORDINGS (HAR) against VENDOR's mock, in order, and print where the mock differs.

    Any client's recording works (`apiconform proxy --record`, the pytest fixture, `apiconform record`, a
    browser's HAR): values the client carried from earlier answers into later requests are carried the same
    way on the mock; agreement is printed per exchange and per flow, with which side to change."""
    run_fidelity(vendor, list(recordings), min_agreement, learned=learned)


def run_fidelity(vendor: str, recordings: list[Path], min_agreement: float | None, drifts: tuple[str, ...] = (),
                 seed: int = 0, learned: Path | None = None) -> None:
    """Shared by `fidelity` and `mock --verify`: print the differences and the agreement figure."""
    from apiconform.contracts import list_vendors
    from apiconform.engine import Session, mock_target
    from apiconform.traffic import Replay, read_cassette, replay

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    if min_agreement is not None and not 0 <= min_agreement <= 1:
        raise UsageError(f"--min-agreement {min_agreement}: a fraction between 0 and 1 (e.g. 0.95)")
    loaded = []
    for path in recordings:
        recorded_vendor, entries = read_cassette(path)
        if recorded_vendor and recorded_vendor != vendor:
            raise UsageError(f"{path}: recorded for {recorded_vendor!r}, not {vendor!r}")
        loaded.append((path, entries))
    total = Replay(vendor)
    for path, entries in loaded:  # each recording on a fresh mock, as each client session met the vendor
        session = Session(mock_target(vendor, drifts=drifts, seed=seed, learned=learned))
        try:
            result = replay(session, entries)
        finally:
            session.close()
        for flow in result.flows:
            flow.name = f"{path.name}:{flow.name}" if len(loaded) > 1 else flow.name
        total.flows += result.flows
        total.unmatched += [f"{path.name} {u}" for u in result.unmatched]
    for line in total.lines():
        click.echo(line)
    if min_agreement is None:
        click.echo("measured only: no --min-agreement given, so this is no gate (exit 0 whatever the figure)")
        return
    if total.agreement < min_agreement:
        click.echo(f"gate failed: {total.agreement:.1%} of exchanges agree, --min-agreement {min_agreement:.1%}")
        raise SystemExit(1)
    click.echo(f"gate passed: {total.agreement:.1%} of exchanges agree, --min-agreement {min_agreement:.1%}")




@click.command("learn")
@click.argument("vendor")
@click.argument("recordings", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="the learned data file (default: learned.yaml beside VENDOR's contract)")
def learn_cmd(vendor: str, recordings: tuple[Path, ...], out: Path | None) -> None:
    """Derive what VENDOR's mock needs from recordings of the real vendor (seed records, lifetimes, login answer,
    open objects, accepted formats) into a reviewable, redacted data file the mock executes."""
    from apiconform.contracts import list_vendors, load_contract
    from apiconform.traffic import read_cassette
    from apiconform.traffic._learn import learn, write_learned

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    contract = load_contract(vendor)
    loaded = []
    for path in recordings:
        recorded_vendor, entries = read_cassette(path)
        if recorded_vendor and recorded_vendor != vendor:
            raise UsageError(f"{path}: recorded for {recorded_vendor!r}, not {vendor!r}")
        loaded.append((path.name, entries))
    data = learn(contract, loaded)
    target = out or contract.path.parent / "learned.yaml"
    write_learned(target, data)
    counts = ", ".join(f"{len(v)} {k}" for k, v in (data.get("records") or {}).items())
    click.echo(f"learned from {len(loaded)} recording(s): records ({counts or 'none'}), "
               f"{sum(len(v) for v in (data.get('lifetimes') or {}).values())} lifetimes, "
               f"{len(data.get('answers') or {})} answers, {sum(len(v) for v in (data.get('open') or {}).values())} open "
               f"objects, {sum(len(v) for v in (data.get('accepted') or {}).values())} accepted formats -> {target}")
    name = contract.document.get("x-apiconform-learned")
    if name is None and out is None:
        click.echo(f"the mock executes it once {contract.path} names it (x-apiconform-learned: learned.yaml), "
                   "or with --learned")


__all__ = ["fidelity_cmd", "learn_cmd", "record_cmd", "run_fidelity"]
