"""Church of England CMS mock behaviour: signed requests, `errors` keyed by parameter, 404 contacts.

What the docs leave open and this module decides (recorded in contracts/cofe-cms/SOURCE.md):
contacts 1..1000 exist (others answer 404); the rate limit is 1000 requests a minute.
"""

from __future__ import annotations

from typing import Any

from apiconform.contracts import Operation
from apiconform.mock.behaviour import Behaviour

KNOWN_CONTACTS = range(1, 1001)


class VendorBehaviour(Behaviour):
    rate_limit = 1000
    rate_window = 60.0

    def scope_exists(self, op: Operation, scope: tuple[str, ...], ctx: Any) -> bool | None:
        return scope[-1].isdigit() and int(scope[-1]) in KNOWN_CONTACTS

    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        if role in ("validation", "unsupported_media_type") and violations:
            errors: dict[str, list[str]] = {}
            for v in violations:
                errors.setdefault(v.name, []).append(v.message)
            return {"errors": errors}
        return {"error": message}

    def prepare_record(self, op: Operation, record: Any, request: Any, ctx: Any) -> Any:
        if isinstance(record, dict):
            record["contact_id"] = int(request.path_params.get("id", 0))
            for name in ("qualification_id", "booked_at", "attended_at", "completed_at", "expires_at"):
                if name not in request.params and name in record:
                    record[name] = None
            if record.get("qualification_id") is None:
                record["qualification_name"] = None
        return record
