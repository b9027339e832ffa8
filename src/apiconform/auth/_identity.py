"""Identities a live vendor hands out: captured at login (or from a "current user" answer) and used as
path parameters, so generated requests address the caller's own records.

Declared on the security scheme, in `x-apiconform-auth.identity` (one mapping or a list):

    identity:
      from: $response.body#/provider_id   # where the value is in the answer (a runtime expression)
      resource: providers                 # path parameters taking this resource's ids get the value
      operation: get_me                   # optional: a safe "current user" operation; default: the login answer

Generic: nothing here knows a vendor. A target may also fix path parameters by name in its config
(`path_params = {account_id = "42"}`), which win over everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apiconform.contracts import Contract, Operation, resolve


@dataclass(frozen=True)
class IdentitySpec:
    resource: str
    pointer: str  # JSON pointer into the answer body
    operation: str | None = None  # operationId of a "current user" answer; None: the login answer


def identity_specs(contract: Contract) -> tuple[IdentitySpec, ...]:
    """The identities the contract's auth scheme declares (empty when none)."""
    from apiconform.auth import select_scheme
    from apiconform.auth._common import auth_config

    picked = select_scheme(contract)
    if picked is None:
        return ()
    declared = auth_config(picked[1]).get("identity")
    items = declared if isinstance(declared, list) else [declared] if isinstance(declared, dict) else []
    specs = []
    for item in items:
        source = str(item.get("from", ""))
        _, _, pointer = source.partition("#")
        if item.get("resource") and source.startswith("$response.body"):
            specs.append(IdentitySpec(str(item["resource"]), pointer, item.get("operation")))
    return tuple(specs)


def login_path(contract: Contract) -> str | None:
    from apiconform.auth import select_scheme
    from apiconform.auth._common import auth_config

    picked = select_scheme(contract)
    value = auth_config(picked[1]).get("login") if picked else None
    return str(value) if value else None


def capture(specs: tuple[IdentitySpec, ...], body: Any, operation: str | None) -> dict[str, str]:
    """resource -> value for the specs whose source is this answer (`operation` None: the login answer)."""
    found = {}
    for spec in specs:
        if spec.operation == operation:
            value = resolve(body, spec.pointer)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                found[spec.resource] = str(value)
    return found


def fixed_path_values(contract: Contract, op: Operation, fixed: Mapping[str, str],
                      identities: Mapping[str, str]) -> dict[str, str]:
    """Path parameters of `op` that are not free to generate: set by name in config, or the caller's identity."""
    resources = contract.path_param_resources(op)
    values = {}
    for name in op.path_params():
        if name in fixed:
            values[name] = str(fixed[name])
        elif resources.get(name) in identities:
            values[name] = identities[str(resources[name])]
    return values
