"""Ctrl-Hub mock behaviour: JSON:API error documents.

A validation error is the contract's documented 400 example (`x-apiconform-error: validation`) with
one error object per failed input, in the example's form (`detail`, `meta: {field, type}`, `status`,
`title`); the errors the docs show no body for get a JSON:API error titled after their kind.
"""

from __future__ import annotations

import copy
from typing import Any

from apiconform.contracts import Operation
from apiconform.mock.behaviour import Behaviour

_TITLES = {
    "validation": "The request body is not valid",
    "unsupported_media_type": "Unsupported media type",
    "unauthenticated": "Unauthorised",
    "forbidden": "Forbidden",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
}


def _type_of(message: str) -> str:
    return "required" if message.endswith(("is a required property", "is required.")) else "invalid"


class VendorBehaviour(Behaviour):
    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        documented: Any = super().error_body(op, status, role, message, violations, ctx) if op is not None else None
        errors = documented.get("errors") if isinstance(documented, dict) else None
        if role == "validation" and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            template = errors[0]
            documented["errors"] = [
                {**copy.deepcopy(template), "status": str(status), "detail": v.message,
                 "meta": {"field": v.name, "type": _type_of(v.message)}}
                for v in violations
            ] or [{**template, "status": str(status), "detail": message}]
            return documented
        return {"errors": [{"status": str(status), "title": _TITLES.get(role, "Bad request"), "detail": message}],
                "jsonapi": {"version": "1.0"}}
