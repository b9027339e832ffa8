"""Goodstack (formerly Percent) mock behaviour: `{"error": {code, title, message, reasons}}` errors.

The contract gives routes, schemas and the idempotency header; this module adds the documented
error codes and where request fields land in the `data` envelope of the answer.
"""

from __future__ import annotations

from typing import Any

from ...contracts import Operation
from .._synth import overlay
from ..behaviour import Behaviour

_ERRORS: dict[str, tuple[str, str, str]] = {
    "validation": ("bad_request", "Bad request", "One or more of the inputs were invalid"),
    "unsupported_media_type": ("bad_request", "Bad request", "Something is wrong with your request, please check any parameters and try again"),
    "idempotency_conflict": ("idempotency/same_key_different_data", "Bad request", "Data has changed from previous request"),
    "unauthenticated": ("unauthorized", "Unauthorized", "Missing or invalid API key"),
    "forbidden": ("forbidden", "Forbidden", "Access is denied due to missing scope permissions"),
    "not_found": ("not_found", "Not found", "Resource not found"),
}


class VendorBehaviour(Behaviour):
    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        code, title, text = _ERRORS.get(role, ("bad_request", "Bad request", message))
        error: dict[str, Any] = {"code": code, "title": title, "message": text}
        if violations and role == "validation":
            error["reasons"] = [f"{v.name} {v.message}" for v in violations]
        return {"error": error}

    def prepare_record(self, op: Operation, record: Any, request: Any, ctx: Any) -> Any:
        if isinstance(record, dict) and isinstance(record.get("data"), dict) and isinstance(request.body, dict):
            given = {k: v for k, v in request.body.items() if k != "suggestedActivitySubTags"}
            record["data"] = overlay(record["data"], given)
            record["data"]["status"] = "pending_validation_request" if "validationRequestId" not in given else "pending"
        return record
