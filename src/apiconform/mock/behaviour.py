"""The extension point for vendor-specific mock behaviour.

The generic engine derives everything it can from the contract (routes, validation, store,
pagination, error statuses, id style). A vendor module under `mock/vendors/` subclasses
`Behaviour` only for what the contract cannot say: the exact error bodies, the credentials
that work, login endpoints, custom actions and seed records.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apiconform.contracts import Contract, Operation, declared_error_kinds
from apiconform.mock._errors import KIND_STATUSES, error_body, representative, schema_body

if TYPE_CHECKING:
    from apiconform.contracts import Violation, WireRequest
    from apiconform.mock._app import MockContext


@dataclass
class Reply:
    """What the mock answers: status, body (JSON-able, bytes or None), headers, media type."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None  # None: the first media type the contract documents for the status


# Which documented status a role (kind of error) maps to, in order of preference.
ROLE_STATUSES: dict[str, tuple[int, ...]] = KIND_STATUSES


class Behaviour:
    """Defaults derived from the contract; override per vendor."""

    #: records seeded per top-level collection, and per parent for nested ones
    seed_records: int = 3
    nested_seed_records: int = 2
    #: requests allowed per `rate_window` seconds (None: no limit); mocks of rate-limited vendors set it
    rate_limit: int | None = None
    rate_window: float = 1.0

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    # --- credentials -------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        """Credentials the mock accepts, in the field names `apiconform.auth` clients expect: each security
        scheme's flow says (`AuthFlow.mock_credentials`)."""
        from apiconform.auth import mock_credentials

        return mock_credentials(self.contract, self.contract.vendor)

    # --- errors -------------------------------------------------------------------------------
    def error_status(self, op: Operation | None, role: str) -> int:
        """The status the vendor documents for this kind of failure on this operation."""
        candidates = ROLE_STATUSES.get(role, (400,))
        if op is not None:
            for code, response in op.responses.items():  # the status whose example the contract declares for it
                if code.isdigit() and any(role in declared_error_kinds(example) for media in response.content.values()
                                          for example in media.examples.values()):
                    return int(code)
            for status in candidates:
                if op.response_for(status) is not None and str(status) in op.responses:
                    return status
        return candidates[0]

    def error_body(
        self, op: Operation | None, status: int, role: str, message: str, violations: list[Violation], ctx: MockContext
    ) -> Any:
        """A body in the vendor's error shape: the example the contract declares for this kind of error,
        else the documented error schema saying what went wrong (`mock/_errors.py`)."""
        if op is not None and op.response_for(status) is not None:
            return error_body(ctx, op, status, role, message, violations)
        # an error no operation documents (no route, method not allowed, an undocumented status):
        # the API's documented error shape, from the operation that stands for it
        found = representative(self.contract)
        if found is None:
            return {"error": message}
        stand_in, shape_status = found
        return schema_body(ctx, stand_in, shape_status, role, message, answer_status=status)

    def error(
        self, op: Operation | None, role: str, message: str, ctx: MockContext, violations: list[Violation] | None = None
    ) -> Reply:
        status = self.error_status(op, role)
        reply = Reply(status, self.error_body(op, status, role, message, list(violations or []), ctx))
        if op is None or op.response_for(status) is None:
            found = representative(self.contract)
            reply.media_type = ctx.media_type(found[0], found[1]) if found else "application/json"
        return reply

    # --- hooks --------------------------------------------------------------------------------
    def validate(self, op: Operation, request: WireRequest, ctx: MockContext) -> list[Violation]:
        """Vendor rules the schema cannot express (e.g. a JSON string parameter's content)."""
        return []

    def handle(self, op: Operation, request: WireRequest, ctx: MockContext) -> Reply | None:
        """Answer an operation the generic engine cannot (logins, custom actions); None = generic."""
        return None

    def scope_exists(self, op: Operation, scope: tuple[str, ...], ctx: MockContext) -> bool | None:
        """Whether the parent named by the path exists; None = let the engine decide from its store."""
        return None

    def prepare_record(self, op: Operation, record: Any, request: WireRequest, ctx: MockContext) -> Any:
        """Adjust a record before it is stored by create/update (e.g. map request names to response names)."""
        return record

    def authenticate(self, op: Operation, request: WireRequest, ctx: MockContext) -> str | None:
        """None if the request's credentials are valid, else the reason (uses `apiconform.auth`)."""
        return ctx.verify_auth(op, request)


def load_behaviour(contract: Contract) -> Behaviour:
    """The vendor's behaviour module `apiconform.mock.vendors.<vendor>` if it exists, else the default."""
    module_name = f"{__package__}.vendors.{contract.vendor.replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return Behaviour(contract)
    behaviour: Behaviour = module.VendorBehaviour(contract)
    return behaviour


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


__all__ = ["ROLE_STATUSES", "Behaviour", "Mapping", "Reply", "dumps", "load_behaviour"]
