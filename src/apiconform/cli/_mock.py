"""`apiconform mock VENDOR`: serve a vendor's mock over HTTP, optionally with drifts and faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from apiconform.cli._contracts_opt import contracts_option
from apiconform.errors import UsageError


def _example_request(contract: Any, identity: Any = None) -> tuple[Any, str, list[str]]:
    """The simplest authenticated call: a GET needing no ids but the caller's own (`identity`, where the
    contract declares one and scopes access by it), else the first operation with a body synthesized from
    its request schema. Returns (operation, path, extra curl arguments)."""
    from apiconform.auth import contract_auth_config
    from apiconform.mock import Synthesizer

    declared: dict[str, Any] = contract_auth_config(contract).get("identity") or {}
    own = {n for o in contract for n, r in contract.path_param_resources(o).items() if r == declared.get("resource")}

    def reachable(o: Any) -> bool:
        if identity is None or not declared.get("scope"):
            return not o.path_params()
        params = o.path_params()  # inside the scope: the identity is in the path, and nothing else is needed
        return bool(params) and all(n in own for n in params) and o.path.startswith(str(declared["scope"]).split("{")[0])

    secured = [op for op in contract if op.security and op.security[0]] or list(contract)
    op = next((o for o in secured if o.method == "get" and reachable(o)), secured[0])
    path = op.fill_path({name: identity if identity is not None and name in own else "1" for name in op.path_params()})
    extra: list[str] = []
    if op.method != "get":
        extra += ["-X", op.method.upper()]
    media = next((m for m in op.request_body.values() if "json" in m.media_type and m.schema_pointer), None)
    if media is not None:
        body = Synthesizer(contract).value(contract.at(media.schema_pointer))
        extra += ["-H", f"Content-Type: {media.media_type}", "-d", json.dumps(body, separators=(",", ":"))]
    return op, path, extra


def _credential_lines(contract: Any, credentials: dict[str, str], base_url: str, identity: Any = None) -> list[str]:
    """How to authenticate against the mock: the credentials and one example command (the auth flow's)."""
    from apiconform.auth import ExampleCall, selected_flow

    picked = selected_flow(contract)
    wanted = picked[0].credential_fields if picked else tuple(credentials)  # what a client sends, not the mock's own keys
    lines = ["credentials:"] + [f"  {name}={credentials[name]}" for name in wanted if name in credentials]
    op, path, extra = _example_request(contract, identity)
    call = ExampleCall(base_url, base_url + path, op.method, tuple(extra), _required_query(contract, op))
    return lines + (picked[0].example(picked[1], credentials, call) if picked else call.curl())


def _required_query(contract: Any, op: Any) -> dict[str, str]:
    """Required query parameters of the example operation (not the auth-owned ones), synthesized."""
    from apiconform.auth import owned_parameters
    from apiconform.mock import Synthesizer

    synth = Synthesizer(contract)
    owned = owned_parameters(contract).query
    params: dict[str, str] = {}
    for param in op.parameters:
        if param.get("in") == "query" and param.get("required") and str(param.get("name")).lower() not in owned:
            schema = contract.at(op.param_schemas[("query", param["name"])])
            if schema.get("contentSchema"):
                value: Any = json.dumps(synth.value(schema["contentSchema"]), separators=(",", ":"))
            else:
                value = synth.value(schema, str(param["name"]))
            params[str(param["name"])] = quote(str(value))
    return params


@click.command("mock")
@contracts_option
@click.argument("vendor", required=False)
@click.option("--port", type=int, default=8100, show_default=True, help="port to listen on (0: a free one, printed)")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--drift", "drifts", multiple=True, metavar="NAME[,NAME]", help="contract drift(s) to inject (repeatable)")
@click.option("--fault", "faults", multiple=True, metavar="NAME[:ARG]", help="transport fault(s) to inject (repeatable)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed for generated records and seeded faults")
@click.option("--rate-limit", type=int, default=None, help="requests per rate window before 429 (default: the vendor's)")
@click.option("--list-drifts", is_flag=True, help="print the available drifts and exit")
@click.option("--list-faults", is_flag=True, help="print the available faults and exit")
@click.option("--verify", "cassette", type=click.Path(path_type=Path), default=None,
              help="replay a recorded cassette (apiconform record) against the mock and report where it differs")
@click.option("--min-agreement", type=float, default=None, help="with --verify: exit 1 below this fraction")
@click.option("--learned", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="execute this learned data file (`apiconform learn`; e.g. the reviewed learned.yaml beside the contract)")
def mock(
    vendor: str | None,
    port: int,
    host: str,
    drifts: tuple[str, ...],
    faults: tuple[str, ...],
    seed: int,
    rate_limit: int | None,
    list_drifts: bool,
    list_faults: bool,
    cassette: Path | None,
    min_agreement: float | None,
    learned: Path | None,
) -> None:
    """Serve VENDOR's mock API on http://HOST:PORT until interrupted."""
    from apiconform.mock import list_drifts as all_drifts
    from apiconform.mock import list_faults as all_faults

    if list_drifts or list_faults:
        if list_drifts:
            for d in all_drifts():
                click.echo(f"{d.name:<26} {d.category.value:<16} {d.description}")
        if list_faults:
            for f in all_faults():
                arg = f" (ARG default {f.default})" if f.default is not None else ""
                click.echo(f"{f.name:<26} {f.description}{arg}")
        return
    if not vendor:
        raise UsageError("mock: missing VENDOR (see `apiconform contracts list`)")
    if cassette is not None:
        from apiconform.cli._fidelity import run_fidelity

        run_fidelity(vendor, [cassette], min_agreement, drifts=tuple(d for ds in drifts for d in ds.split(",") if d), seed=seed,
                     learned=learned)
        return

    from apiconform.contracts import list_vendors, load_contract
    from apiconform.mock import build_app, free_port, load_behaviour, serve

    if vendor not in list_vendors():
        raise UsageError(f"unknown vendor {vendor!r} (known: {', '.join(list_vendors())})")
    if rate_limit is not None and rate_limit < 1:
        raise UsageError("--rate-limit must be at least 1")
    contract = load_contract(vendor)
    app = build_app(contract, drifts=drifts, faults=faults, seed=seed, rate_limit=rate_limit, learned=learned)
    credentials = load_behaviour(contract).credentials()
    if port == 0:  # a free port, chosen before the banner so that it names the port really served
        port = free_port(host)
    base_url = f"http://{host}:{port}"
    click.echo(f"{contract.title} mock ({vendor}, {len(contract)} operations) on {base_url}")
    if drifts or faults:
        click.echo(f"drifts: {', '.join(drifts) or 'none'}; faults: {', '.join(faults) or 'none'}")
    if learned is not None:
        click.echo(f"learned data: {learned}")
    for line in _credential_lines(contract, credentials, base_url, app.mock.ctx.identity()):
        click.echo(line)
    serve(app, host=host, port=port)


__all__ = ["mock"]
